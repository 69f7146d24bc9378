"""Command line for the seller as the platform knows it: taxpayer show | taxpayer refresh.

    taxpayer show [--json]                         what the platform last said (status, risk, type, channels)
    taxpayer refresh [--url U] [--token T] [--json]  ask it now; exit 1 when it cannot be asked or believed
"""

from __future__ import annotations

import argparse
import dataclasses

from app.cli.common import EXIT_OK, BadInput, Subcommands, add_token_options, open_store_of, print_json
from app.platform.client import TransientFailure
from app.services.settings import make_client
from app.services.taxpayer import TaxpayerState, last_known, refresh


def _print(state: TaxpayerState) -> None:
    print(f"{state.name} {state.tax_id}  状态 (status) {state.status}  风险 (risk) {state.risk}  "
          f"类型 (type) {state.taxpayer_type}  渠道 (channels) {', '.join(state.channels)}")
    zh, en = state.reason()
    print(f"可以开票 (may issue)（{state.checked_at} 平台答复）" if state.may_issue else f"不能开票：{zh} ({en})")


def cmd_show(args: argparse.Namespace) -> int:
    open_store_of(args)
    state = last_known()
    if state is None:
        raise BadInput("taxpayer（纳税人）：尚未从平台获取纳税人信息（taxpayer refresh）",
                       "taxpayer: nothing heard from the platform yet (taxpayer refresh)")
    if args.json:
        print_json({**dataclasses.asdict(state), "may_issue": state.may_issue})
    else:
        _print(state)
    return EXIT_OK


def cmd_refresh(args: argparse.Namespace) -> int:
    open_store_of(args)
    client = make_client(args.url, args.token, timeout=args.timeout)
    try:
        state = refresh(client, clerk=args.clerk)
    except TransientFailure as failure:
        raise TransientFailure(f"纳税人信息未更新 (taxpayer not refreshed): {failure}") from failure
    finally:
        client.close()
    if args.json:
        print_json({**dataclasses.asdict(state), "may_issue": state.may_issue})
    else:
        _print(state)
    return EXIT_OK


def register(commands: Subcommands) -> None:
    taxpayer = commands.add_parser("taxpayer", help="平台上的纳税人状态和风险 (the seller's status and risk)")
    actions = taxpayer.add_subparsers(dest="taxpayer_command", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="平台最近的答复 (what the platform last said)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)
    again = actions.add_parser("refresh", help="向平台查询 (ask the platform now)")
    again.add_argument("--url", default=None)
    add_token_options(again)
    again.add_argument("--timeout", type=float, default=10.0)
    again.add_argument("--clerk", default="")
    again.add_argument("--json", action="store_true")
    again.set_defaults(handler=cmd_refresh)

"""Command line for red-letter confirmation forms (红字确认单): `red-form raise|list|show|agree|disagree|revoke`.
The red invoice on a form is `red NUMBER --form UUID` (app/cli/trust.py). Same services as the app
(app/services/red_forms.py); the platform is reached with the settings' URL and token unless --url/--token."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_OK, BadInput, Subcommands, add_token_options, open_store_of, print_json, read_json
from app.platform.client import PlatformClient


def _client(args: argparse.Namespace) -> PlatformClient | None:
    if getattr(args, "offline", False):
        return None
    from app.services.settings import make_client

    return make_client(args.url, args.token, timeout=args.timeout)


def _lines(text: str | None) -> list[dict[str, Any]] | None:
    if text is None:
        return None
    if text.startswith("@"):
        value = read_json(str(Path(text[1:])))
    else:
        try:
            value = json.loads(text, parse_float=lambda s: s)
        except json.JSONDecodeError as error:
            raise BadInput(f"lines（红冲明细）：不是有效的 JSON：{error.msg}",
                           f"lines: not valid JSON: {error.msg}") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise BadInput("lines（红冲明细）：应为 JSON 列表", "lines: must be a JSON list")
    return [dict(item) if isinstance(item, dict) else item for item in value]


def _row(form: Any) -> str:
    from app.services.red_forms import status_label

    shown = form.status if form.state == "known" else form.state
    left = ""
    if form.expires_at and form.status in ("02", "03"):
        left = _hours_left(form.expires_at)
    return "\t".join([form.uuid or f"#{form.id}", form.form_number or "-", shown, status_label(shown),
                      form.raised_by, form.original_number, form.reason, f"{form.total_amount + form.total_tax:f}",
                      form.red_invoice or form.red_number or "-", left])


def _hours_left(expires_at: str) -> str:
    from datetime import datetime

    from app.core.clock import now

    left = (datetime.fromisoformat(expires_at) - now()).total_seconds() / 3600
    return f"{max(left, 0):.1f}h"


def _tell_pending(to_stderr: bool = False) -> None:
    """Outcomes reached in the background (a request sent once the platform was back, a form answered)."""
    from app.services.red_forms import pending_messages

    for form in pending_messages():
        print(f"通知 (notice): {form.message}", file=sys.stderr if to_stderr else sys.stdout)


def _with_platform(args: argparse.Namespace) -> PlatformClient | None:
    """Send what waits and refresh the forms when the platform answers; None when it does not."""
    from app.platform.client import TransientFailure, Unauthorized
    from app.services import red_forms

    client = _client(args)
    if client is None:
        return None
    try:
        red_forms.send_requests(client, clerk=args.clerk or "cli")
        red_forms.refresh(client, clerk=args.clerk or "cli")
    except (TransientFailure, Unauthorized) as error:
        print(f"平台暂不可用，显示本地记录 (platform unreachable, showing the desk's records): {error}")
    return client


def cmd_raise(args: argparse.Namespace) -> int:
    from app.services import red_forms

    if args.reason is None:
        raise BadInput("reason（红字原因）：请给出 --reason（01 开票有误 / 02 销货退回 / 03 服务中止 / 04 销售折让）",
                       "reason: give --reason (01 error / 02 return / 03 stopped / 04 allowance)")
    if args.full == (args.lines is not None):
        raise BadInput("lines（红冲明细）：请给出 --full（全额）或 --lines JSON（按行）之一",
                       "lines: give either --full or --lines JSON")
    lines = _lines(args.lines)
    open_store_of(args)
    client = _client(args)
    try:
        outcome = red_forms.raise_form(args.number, args.reason, lines, clerk=args.clerk or "", client=client)
    finally:
        if client is not None:
            client.close()
    print(outcome.message(args.lang))
    print(_row(outcome.form))
    _tell_pending()
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from app.store.red_forms import list_forms

    open_store_of(args)
    client = _with_platform(args)
    if client is not None:
        client.close()
    forms = list_forms(status=args.status, original_number=args.number)
    if args.json:
        print_json([_as_json(f) for f in forms])
    else:
        for form in forms:
            print(_row(form))
    _tell_pending(args.json)
    return EXIT_OK


def _as_json(form: Any) -> dict[str, Any]:
    return {key: (f"{value:f}" if isinstance(value, Decimal) else value) for key, value in vars(form).items()}


def cmd_show(args: argparse.Namespace) -> int:
    from app.core.errors import FieldError, ValidationFailed
    from app.store.red_forms import FormView, find_form

    open_store_of(args)
    client = _with_platform(args)
    if client is not None:
        client.close()
    row = find_form(args.form)
    if row is None:
        raise ValidationFailed([FieldError("uuid", f"没有红字确认单 {args.form}", f"no red-letter form {args.form}")])
    print_json(_as_json(FormView.of(row)))
    return EXIT_OK


def cmd_decide(args: argparse.Namespace) -> int:
    from app.services import red_forms

    open_store_of(args)
    client = _client(args)
    try:
        if client is not None:
            _refresh_quietly(client)
        outcome = red_forms.decide(args.form, args.decision, clerk=args.clerk or "", client=client)
    finally:
        if client is not None:
            client.close()
    print(outcome.message(args.lang))
    print(_row(outcome.form))
    return EXIT_OK


def _refresh_quietly(client: PlatformClient) -> None:
    from app.platform.client import TransientFailure, Unauthorized
    from app.services import red_forms

    with contextlib.suppress(TransientFailure, Unauthorized):
        red_forms.refresh(client)


def _platform_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None, help="platform URL (default: the one in the settings)")
    add_token_options(parser)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a request may take")
    parser.add_argument("--offline", action="store_true", help="do not reach the platform: record only")
    parser.add_argument("--clerk", default=None)


def register(commands: Subcommands) -> None:
    group = commands.add_parser("red-form", help="red-letter confirmation forms (红字确认单)")
    forms = group.add_subparsers(dest="red_form_command", metavar="ACTION", required=True)

    raised = forms.add_parser("raise", help="raise a form against an accepted blue invoice (in full or by lines)")
    raised.set_defaults(handler=cmd_raise)
    raised.add_argument("number", help="the blue invoice's number")
    raised.add_argument("--reason", default=None, help="01 开票有误 (error) / 02 销货退回 (return) / 03 服务中止 "
                                                       "(stopped) / 04 销售折让 (allowance)")
    raised.add_argument("--full", action="store_true", help="reverse every line (discounts spread onto their lines)")
    raised.add_argument("--lines", default=None,
                        help='JSON list [{"original_line_no": 1, "quantity": "-1" | "amount": "100"}], or @FILE')
    _platform_options(raised)

    listed = forms.add_parser("list", help="the forms (sent, refreshed from the platform when it answers)")
    listed.set_defaults(handler=cmd_list)
    listed.add_argument("--status", default=None, help="01 .. 10")
    listed.add_argument("--number", default=None, help="of this blue invoice (official number)")
    listed.add_argument("--json", action="store_true")
    _platform_options(listed)

    shown = forms.add_parser("show", help="one form")
    shown.set_defaults(handler=cmd_show)
    shown.add_argument("form", help="uuid, form number or request id")
    _platform_options(shown)

    for decision, text in (("agree", "agree to a form the buyer raised (03 → 04)"),
                           ("disagree", "disagree with a form the buyer raised (03 → 06)"),
                           ("revoke", "withdraw the desk's own form (01, 02 → 08; 04 → 09)")):
        parser = forms.add_parser(decision, help=text)
        parser.set_defaults(handler=cmd_decide, decision=decision)
        parser.add_argument("form", help="uuid, form number or request id")
        _platform_options(parser)

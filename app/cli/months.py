"""Command line for the monthly summary (汇总确认) and issuing a too-late sale again.

    month-close [--period YYYYMM] [--url URL] [--token T] [--json]
        exit 0 confirmed, 3 invoices of the month still wait, 4 the platform's figures differ, 5 closed
    reissue NUMBER [--clerk NAME]
"""

from __future__ import annotations

import argparse

from app.cli.common import EXIT_OK, Subcommands, add_token_options, open_store_of, print_json

EXIT_WAITING = 3
EXIT_MISMATCH = 4
EXIT_CLOSED = 5


def cmd_month_close(args: argparse.Namespace) -> int:
    from app.services import months
    from app.services.settings import make_client

    open_store_of(args)
    period = months.check_period(args.period) if args.period else None
    client = make_client(args.url, args.token, timeout=args.timeout)
    try:
        result = months.confirm(client, period, clerk=args.clerk)
    finally:
        client.close()
    figures = result.figures
    if args.json:
        print_json({"period": result.period, "state": result.state, "count": figures.count,
                    "total_amount": f"{figures.total_amount:f}", "total_tax": f"{figures.total_tax:f}",
                    "waiting": figures.waiting, "platform": result.platform, "message": result.message})
    else:
        print(f"{result.period}：本机 {figures.count} 张，金额 {figures.total_amount:f}，税额 {figures.total_tax:f} "
              f"(count, amount, tax as the desk holds them)")
        print(result.message)
    return {months.CONFIRMED: EXIT_OK, "waiting": EXIT_WAITING, months.MISMATCH: EXIT_MISMATCH,
            months.CLOSED: EXIT_CLOSED}.get(result.state, EXIT_OK)


def cmd_reissue(args: argparse.Namespace) -> int:
    from app.services.reissue import reissue

    open_store_of(args)
    issued = reissue(args.number, clerk=args.clerk)
    print(f"已重新开具：{args.number} → {issued.number} (issued again under a new number)")
    return EXIT_OK


def register(commands: Subcommands) -> None:
    close = commands.add_parser("month-close", help="月度汇总确认 (confirm a month's figures with the platform)")
    close.add_argument("--period", default=None, help="YYYYMM (default: last month)")
    close.add_argument("--url", default=None, help="platform URL (default: the one in the settings)")
    add_token_options(close)
    close.add_argument("--timeout", type=float, default=10.0, help="seconds per call")
    close.add_argument("--clerk", default="")
    close.add_argument("--json", action="store_true")
    close.set_defaults(handler=cmd_month_close)
    again = commands.add_parser("reissue", help="重新开具超期未上传的发票 (issue a too-late invoice's sale again)")
    again.add_argument("number")
    again.add_argument("--clerk", default="")
    again.set_defaults(handler=cmd_reissue)

"""python -m app [--data-dir DIR] COMMAND: the desktop app's services, headless.

With no command the desktop app starts. Exit status: 0 done, 2 bad input (nothing
stored), 1 anything unexpected. Commands for later capabilities add a parser in
build_parser() and a handler in HANDLERS.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from app.core.errors import ValidationFailed
from app.store.damage import StoreDamaged

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """Input the clerk must fix; the message names the field."""


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _open(args: argparse.Namespace):
    from app.services.store_access import open_store

    return open_store(args.data_dir)


# --- seller -----------------------------------------------------------------------------------

def cmd_seller_set(args: argparse.Namespace) -> int:
    from app.services.seller import get_seller, set_seller

    _open(args)
    current = get_seller()
    keep = lambda value, attr: value if value is not None else (getattr(current.party, attr) if current else "")
    settings = set_seller(
        name=args.name, tax_id=args.tax_id,
        drawer=args.drawer if args.drawer is not None else (current.drawer if current else ""),
        address=keep(args.address, "address"), phone=keep(args.phone, "phone"), bank=keep(args.bank, "bank"),
        account=keep(args.account, "account"),
        payee=args.payee if args.payee is not None else (current.payee if current else ""),
        reviewer=args.reviewer if args.reviewer is not None else (current.reviewer if current else ""),
        confirm_tax_id=args.confirm_tax_id,
    )
    print(f"{settings.party.name} {settings.party.tax_id}")
    return EXIT_OK


def cmd_seller_show(args: argparse.Namespace) -> int:
    from app.services.seller import get_seller

    _open(args)
    settings = get_seller()
    if settings is None:
        raise BadInput("seller: 销售方信息未设置 (no seller profile yet; use `seller set`)")
    from app.core.codec import party_to_body

    _print_json({**party_to_body(settings.party), "drawer": settings.drawer, "payee": settings.payee,
                 "reviewer": settings.reviewer})
    return EXIT_OK


# --- issue ------------------------------------------------------------------------------------

def _read_json(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise BadInput(f"json: 无法读取文件 {source} ({error.strerror})") from None
    except UnicodeDecodeError:
        raise BadInput(f"json: {source} 不是 UTF-8 文本 (not UTF-8 text)") from None
    try:
        return json.loads(text, parse_float=lambda s: s)  # keep 12.5 exact: it reaches Decimal as text
    except json.JSONDecodeError as error:
        raise BadInput(f"json: {source} 不是有效的 JSON：第{error.lineno}行第{error.colno}列 {error.msg}") from None


def cmd_issue(args: argparse.Namespace) -> int:
    from app.services.issuing import NoSellerProfile, issue_invoices

    data = _read_json(args.file)
    bodies = data if isinstance(data, list) else [data]
    if not bodies:
        raise BadInput("json: 列表为空，没有要开具的发票 (the list is empty)")
    _open(args)
    try:
        issued = issue_invoices(bodies, confirmed_tax_ids=args.confirm_tax_id or [], clerk=args.clerk or "")
    except NoSellerProfile as error:
        raise BadInput(f"seller: {error}") from None
    for item in issued:
        print(item.number)
    return EXIT_OK


# --- list / show ------------------------------------------------------------------------------

def cmd_list(args: argparse.Namespace) -> int:
    from app.core.money import format_money
    from app.store import queries
    from app.core.status import INVOICE_STATUSES, status_label

    if args.status and args.status not in INVOICE_STATUSES:
        raise BadInput(f"status: “{args.status}”不是发票状态（{', '.join(INVOICE_STATUSES)}）")
    _open(args)
    rows = []
    offset = 0
    while True:
        page = queries.list_invoices(offset=offset, limit=1000, status=args.status)
        rows += page
        offset += len(page)
        if len(page) < 1000:
            break
    if args.json:
        _print_json([{"number": r.number, "official_number": r.official_number, "issued_at": r.issued_at,
                      "buyer": r.buyer_name, "total_with_tax": format_money(r.total_with_tax), "status": r.status,
                      "kind": r.kind} for r in rows])
        return EXIT_OK
    for r in rows:
        print("\t".join([r.number, r.official_number or "-", r.issued_at[:16].replace("T", " "), r.buyer_name,
                         format_money(r.total_with_tax), status_label(r.status)]))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from app.core.capitals import amount_in_capitals
    from app.core.codec import invoice_to_body
    from app.store import queries
    from app.core.status import status_label

    _open(args)
    loaded = queries.load_invoice(args.number)
    if loaded is None:
        raise BadInput(f"number: 没有号码为 {args.number} 的发票 (no such invoice)")
    row, invoice = loaded
    body = invoice_to_body(invoice)
    if args.json:
        _print_json(body)
        return EXIT_OK
    print(f"{invoice.kind.label()}  {invoice.number}  {row.official_number or ''}  [{status_label(row.status)}]")
    print(f"开票日期 {body['issued_at']}")
    print(f"购买方 {invoice.buyer.name} {invoice.buyer.tax_id}")
    print(f"销售方 {invoice.seller.name} {invoice.seller.tax_id}")
    for line in body["lines"]:
        print(f"  {line['name']}  {line['quantity']} {line['unit']} × {line['unit_price']} = {line['amount']}"
              f"  税率 {line['tax_rate']} 税额 {line['tax']}")
    print(f"合计 {body['total_amount']}  税额 {body['total_tax']}  价税合计 ¥{body['total_with_tax']}"
          f"  {amount_in_capitals(invoice.total_with_tax)}")
    return EXIT_OK


# --- the desktop app --------------------------------------------------------------------------

def cmd_gui(args: argparse.Namespace) -> int:
    from app.ui.application import run_desktop

    return run_desktop(args.data_dir, lang=args.lang)


# --- parser -----------------------------------------------------------------------------------

HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "seller set": cmd_seller_set,
    "seller show": cmd_seller_show,
    "issue": cmd_issue,
    "list": cmd_list,
    "show": cmd_show,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="发票离线开票台 Fapiao Desk")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder of the store (default: the user data dir, or $FAPIAO_DESK_DATA)")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the desktop app")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    seller = commands.add_parser("seller", help="the seller profile (销售方)")
    seller_commands = seller.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    seller_set = seller_commands.add_parser("set", help="set the seller profile")
    seller_set.add_argument("--name", required=True)
    seller_set.add_argument("--tax-id", required=True)
    for option in ("--address", "--phone", "--bank", "--account", "--drawer", "--payee", "--reviewer"):
        seller_set.add_argument(option, default=None)
    seller_set.add_argument("--confirm-tax-id", action="store_true",
                            help="accept an id whose check character fails (recorded in the audit log)")
    seller_commands.add_parser("show", help="print the seller profile as JSON")

    issue = commands.add_parser("issue", help="issue invoices from a JSON file (- for stdin)")
    issue.add_argument("file")
    issue.add_argument("--confirm-tax-id", action="append", metavar="ID",
                       help="accept this buyer id although its check character fails (recorded)")
    issue.add_argument("--clerk", default=None, help="who issues (default: the drawer)")

    listing = commands.add_parser("list", help="list invoices, newest first")
    listing.add_argument("--status", default=None)
    listing.add_argument("--json", action="store_true")

    show = commands.add_parser("show", help="show one invoice")
    show.add_argument("number")
    show.add_argument("--json", action="store_true")

    from app.cli.trust import register as register_trust  # cancel, red, limits, outages, reconcile

    register_trust(HANDLERS, commands)
    from app.cli.printing import register as register_printing  # print, printer set/show/calibration

    register_printing(HANDLERS, commands)
    from app.cli.sync import register as register_sync  # sync, queue, platform

    register_sync(HANDLERS, commands)
    from app.cli.history import register as register_history  # audit verify/log, backup, backups, restore

    register_history(HANDLERS, commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return cmd_gui(args)
    key = f"{args.command} {args.subcommand}" if getattr(args, "subcommand", None) else args.command
    try:
        return HANDLERS[key](args)
    except ValidationFailed as failed:
        print(failed.describe(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except BadInput as error:
        print(str(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    except StoreDamaged as damaged:  # checked before migrations: nothing was written
        print(f"{damaged}\n  restore the newest good backup: python -m app backups; python -m app restore FILE",
              file=sys.stderr)
        return EXIT_ERROR

"""Command line for invoices: issue, list, show."""

from __future__ import annotations

import argparse

from app.cli.common import EXIT_OK, BadInput, Subcommands, open_store_of, print_json, read_json
from app.core.capitals import amount_in_capitals
from app.core.codec import invoice_to_body
from app.core.money import format_money
from app.core.status import INVOICE_STATUSES, status_label
from app.services.issuing import issue_invoices
from app.store import queries

PAGE = 1000


def cmd_issue(args: argparse.Namespace) -> int:
    data = read_json(args.file)
    bodies = data if isinstance(data, list) else [data]
    if not bodies:
        raise BadInput("json（输入文件）：列表为空，没有要开具的发票", "json: the list is empty, nothing to issue")
    open_store_of(args)
    issued = issue_invoices(bodies, confirmed_tax_ids=args.confirm_tax_id or [],
                            confirmed_short_name=args.confirm_not_person, clerk=args.clerk or "")
    for item in issued:
        print(item.number)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    if args.status and args.status not in INVOICE_STATUSES:
        raise BadInput(f"status（状态）：“{args.status}”不是发票状态（{', '.join(INVOICE_STATUSES)}）",
                       f"status: {args.status!r} is not an invoice status ({', '.join(INVOICE_STATUSES)})")
    open_store_of(args)
    rows = []
    offset = 0
    while True:
        page = queries.list_invoices(offset=offset, limit=PAGE, status=args.status)
        rows += page
        offset += len(page)
        if len(page) < PAGE:
            break
    if args.json:
        print_json([{"number": r.number, "official_number": r.official_number, "issued_at": r.issued_at,
                     "buyer": r.buyer_name, "total_with_tax": format_money(r.total_with_tax), "status": r.status,
                     "kind": r.kind} for r in rows])
        return EXIT_OK
    for r in rows:
        print("\t".join([r.number, r.official_number or "-", r.issued_at[:16].replace("T", " "), r.buyer_name,
                         format_money(r.total_with_tax), status_label(r.status)]))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    open_store_of(args)
    loaded = queries.load_invoice(args.number)
    if loaded is None:
        raise BadInput(f"number（发票号码）：没有号码为 {args.number} 的发票", f"number: no invoice {args.number}")
    record, invoice = loaded
    body = invoice_to_body(invoice)
    if args.json:
        print_json(body)
        return EXIT_OK
    print(f"{invoice.kind.label()}  {invoice.number}  {record.official_number or ''}  [{status_label(record.status)}]")
    print(f"开票日期 {body['issued_at']}")
    print(f"购买方 {invoice.buyer.name} {invoice.buyer.tax_id}")
    print(f"销售方 {invoice.seller.name} {invoice.seller.tax_id}")
    for line in body["lines"]:
        print(f"  {line['name']}  {line['quantity']} {line['unit']} × {line['unit_price']} = {line['amount']}"
              f"  税率 {line['tax_rate']} 税额 {line['tax']}")
    print(f"合计 {body['total_amount']}  税额 {body['total_tax']}  价税合计 ¥{body['total_with_tax']}"
          f"  {amount_in_capitals(invoice.total_with_tax)}")
    return EXIT_OK


def register(commands: Subcommands) -> None:
    """The parsers of this group, each with its handler."""
    issue = commands.add_parser("issue", help="issue invoices from a JSON file (- for stdin): the protocol v2 body, "
                                              "lines by tax_code + item_name or by a catalog item")
    issue.set_defaults(handler=cmd_issue)
    issue.add_argument("file")
    issue.add_argument("--confirm-tax-id", action="append", metavar="ID",
                       help="accept this buyer id although its check character fails (recorded)")
    issue.add_argument("--confirm-not-person", action="store_true",
                       help="a buyer name of 4 characters or fewer is an organisation's, not a natural person's "
                            "(remembered with the customer)")
    issue.add_argument("--clerk", default=None, help="who issues (default: the drawer)")

    listing = commands.add_parser("list", help="list invoices, newest first")
    listing.set_defaults(handler=cmd_list)
    listing.add_argument("--status", default=None)
    listing.add_argument("--json", action="store_true")

    show = commands.add_parser("show", help="show one invoice")
    show.set_defaults(handler=cmd_show)
    show.add_argument("number")
    show.add_argument("--json", action="store_true")

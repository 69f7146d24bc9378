"""Command line for invoices: issue, list, show.

A pre-issue record (预开单, platform channel: LX-…, no official number yet) is not an invoice, and every
command says so: issue says it recorded one, to be issued as an invoice when the platform answers; list and
show label it 预开单（非发票）, and for one the platform has issued, name the invoice it became.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from decimal import Decimal

from app.cli.common import EXIT_ERROR, EXIT_OK, BadInput, Subcommands, open_store_of, print_json, read_json
from app.core import status as statuses
from app.core.capitals import amount_in_capitals
from app.core.codec import invoice_to_body
from app.core.errors import ValidationFailed
from app.core.invoice import InvoiceKind
from app.core.invoice_query import (
    BUYER,
    CHANNELS,
    DEFAULT_SORT,
    ITEM,
    MEDIA,
    NUMBER,
    REMARKS,
    SORTS,
    UPLOAD_STATES,
    InvoiceQuery,
)
from app.core.money import format_money, parse_decimal
from app.core.status import INVOICE_STATUSES, status_label
from app.services.issuing import issue_invoices
from app.store import queries

PAGE = 1000
PRE_ISSUE_LABEL = "预开单（非发票）"
DIRECT, PLATFORM = "direct", "platform"


def channel_of(number: str, official_number: str | None) -> str:
    """The channel a stored record came through: a direct-channel invoice holds its official number as its own
    number (app.services.issuing); a platform-channel record has its LX-… number and the platform's beside it.
    (Derived, as the store's read models do not carry the column yet.)"""
    return DIRECT if official_number and official_number == number else PLATFORM


def is_pre_issue(status: str, official_number: str | None) -> bool:
    """A record that is not an invoice: a pre-issue record, or one the platform never issued (no official number)."""
    return status == statuses.PRE_ISSUE or not official_number


def became(number: str, official_number: str | None) -> str | None:
    """The invoice a pre-issue record became, once the platform issued it: its official number."""
    return official_number if official_number and official_number != number else None


def record_label(number: str, official_number: str | None, status: str) -> str:
    """What list and show say of a record's state."""
    label = status_label(status)
    if is_pre_issue(status, official_number) and PRE_ISSUE_LABEL not in label:
        return f"{PRE_ISSUE_LABEL} {label}"
    invoice = became(number, official_number)
    if invoice:
        return f"{label}；预开单已开具为发票 {invoice}"
    return label


def issued_line(number: str, official_number: str | None, status: str) -> str:
    """One line of `issue` per record: the number first (tab-separated), then what it is."""
    if official_number and status != statuses.PRE_ISSUE:
        return (f"{official_number}\t已开具发票，发票号码 {official_number}（{status_label(status)}）"
                f" / invoice issued, official number {official_number} ({status_label(status, 'en')})")
    return (f"{number}\t已记录预开单（非发票）{number}，平台恢复后开具正式发票"
            f" / recorded pre-issue record {number} (not an invoice), to be issued as an invoice"
            " when the platform answers")


def cmd_issue(args: argparse.Namespace) -> int:
    if args.template is not None or (args.file or "").lower().endswith((".xlsx", ".xlsm")):
        return cmd_issue_workbook(args)
    if args.file is None:
        raise BadInput("file（输入文件）：请给出要开具的 JSON 或 .xlsx 文件",
                       "file: give the JSON or .xlsx file to issue")
    data = read_json(args.file)
    bodies = data if isinstance(data, list) else [data]
    if not bodies:
        raise BadInput("json（输入文件）：列表为空，没有要开具的发票", "json: the list is empty, nothing to issue")
    open_store_of(args)
    issued = issue_invoices(bodies, confirmed_tax_ids=args.confirm_tax_id or [],
                            confirmed_short_name=args.confirm_not_person, clerk=args.clerk or "")
    records = [(item.number, queries.find_invoice(item.number)) for item in issued]
    if args.json:
        print_json([{"number": number, "official_number": record.official_number if record else None,
                     "channel": channel_of(number, record.official_number if record else None),
                     "status": record.status if record else None,
                     "pre_issue": bool(record and is_pre_issue(record.status, record.official_number))}
                    for number, record in records])
        return EXIT_OK
    for number, record in records:
        print(issued_line(number, record.official_number if record else None,
                          record.status if record else statuses.PRE_ISSUE))
    return EXIT_OK


def _day_option(option: str, value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise BadInput(f"{option}（日期）：“{value}”不是 YYYY-MM-DD 格式的日期",
                       f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def _amount_option(option: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    amount = parse_decimal(value.replace(",", ""))
    if amount is None:
        raise BadInput(f"{option}（金额）：“{value}”不是金额", f"{option}: {value!r} is not an amount")
    return amount


def query_of(args: argparse.Namespace) -> InvoiceQuery:
    """The list's InvoiceQuery from the options (the same the app's search box and filters build)."""
    query = InvoiceQuery.searching(
        " ".join(args.search or []),
        date_from=_day_option("--from", args.date_from), date_to=_day_option("--to", args.date_to),
        min_total=_amount_option("--min", args.min_total), max_total=_amount_option("--max", args.max_total),
        status=args.status or None, kind=args.kind, medium=args.medium, red=args.red, channel=args.channel,
        upload=args.upload, sort=args.sort, descending=not args.ascending)
    for search_field, words in ((NUMBER, args.number), (BUYER, args.buyer), (ITEM, args.item),
                                (REMARKS, args.remarks)):
        for text in words or []:
            query = query.with_words(search_field, text)
    try:
        return query.check()
    except ValidationFailed as failed:
        options = {"text": "search", "date_to": "to", "min_total": "min", "max_total": "max"}
        raise BadInput("；".join(f"--{options.get(e.field, e.field)}：{e.message('zh')}" for e in failed.errors),
                       "; ".join(f"--{options.get(e.field, e.field)}: {e.message('en')}"
                                 for e in failed.errors)) from None


def _json_item(r: queries.InvoiceSummary) -> dict[str, object]:
    return {"number": r.number, "official_number": r.official_number, "issued_at": r.issued_at,
            "buyer": r.buyer_name, "buyer_tax_id": r.buyer_tax_id, "total_with_tax": format_money(r.total_with_tax),
            "status": r.status, "channel": channel_of(r.number, r.official_number),
            "pre_issue": is_pre_issue(r.status, r.official_number),
            "invoice_number": became(r.number, r.official_number), "kind": r.kind, "red": r.red,
            "original_number": r.original_number}


def cmd_list(args: argparse.Namespace) -> int:
    """`list` with any search, filter and order; to the screen (streamed, a page at a time), as JSON, or to a
    file with --xlsx FILE / --csv FILE (the same query)."""
    chosen = query_of(args)
    open_store_of(args)
    if args.xlsx is not None or args.csv is not None:
        from app.services.list_export import export_list

        for target in (args.xlsx, args.csv):
            if target is not None:
                result = export_list(target, chosen, lines=args.lines and target == args.xlsx)
                print(f"{result.path}\t已导出 {result.invoices} 张发票"
                      + (f"、{result.lines} 行明细" if args.lines else "") + f" / exported {result.invoices} invoices")
        return EXIT_OK
    rows = queries.iter_search(chosen, PAGE)
    if args.json:
        # Streamed as one JSON array: a million invoices never sit in memory at once.
        sys.stdout.write("[")
        written = 0
        for r in rows:
            sys.stdout.write(("," if written else "") + "\n  " + json.dumps(_json_item(r), ensure_ascii=False))
            written += 1
        sys.stdout.write("\n]\n" if written else "]\n")
        return EXIT_OK
    for r in rows:
        print("\t".join([r.number, r.official_number or "-", r.issued_at[:16].replace("T", " "), r.buyer_name,
                         format_money(r.total_with_tax), record_label(r.number, r.official_number, r.status)]))
    return EXIT_OK


def cmd_search_index(args: argparse.Namespace) -> int:
    """`search-index [--rebuild]`: what the list's search index holds, built again on request."""
    from app.services.search_index import rebuild_search_index, search_index_state

    open_store_of(args)
    state = rebuild_search_index() if args.rebuild else search_index_state()
    print(f"搜索索引：{state.indexed:,} 张发票已索引（共 {state.invoices:,} 张，缺 {state.missing:,} 张），"
          f"名称目录 {state.names:,} 条 / search index: {state.indexed:,} of {state.invoices:,} invoices indexed, "
          f"{state.missing:,} missing; {state.names:,} names" + ("；已重建 / rebuilt" if args.rebuild else ""))
    if state.missing and not args.rebuild:
        print("有发票未被索引：运行 search-index --rebuild 重建 / some invoices are not indexed: run "
              "search-index --rebuild")
        return EXIT_ERROR
    return EXIT_OK


def cmd_issue_workbook(args: argparse.Namespace) -> int:
    """`issue --template FILE.xlsx`, or `issue FILE.xlsx [--yes]`: the preview, then (with --yes) the invoices."""
    from app.services import batch_workbook

    if args.template is not None:
        print(batch_workbook.save_template(args.template))
        return EXIT_OK
    open_store_of(args)
    confirmed = args.confirm_tax_id or []
    batch = batch_workbook.read_batch(args.file, confirmed)
    print("流水号 / serial\t购买方 / buyer\t行数 / lines\t金额 / amount\t税额 / tax\t价税合计 / total")
    for item in batch.invoices:
        print("\t".join([item.serial, item.buyer_name, str(len(item.lines)), format_money(item.total_amount),
                         format_money(item.total_tax), format_money(item.total_with_tax)]))
    print(f"共 {len(batch.invoices)} 张发票、{batch.line_count} 行，价税合计 {format_money(batch.total_with_tax)}"
          f" / {len(batch.invoices)} invoices, {batch.line_count} lines, total {format_money(batch.total_with_tax)}")
    if not args.yes:
        print("未开具：核对无误后加 --yes 重新运行以开具"
              " / nothing issued: check the preview, then run again with --yes")
        return EXIT_OK
    issued = batch_workbook.issue_batch(batch, clerk=args.clerk or "", confirmed_tax_ids=confirmed)
    for done in issued:
        record = queries.find_invoice(done.number)
        official = record.official_number if record else None
        print(f"{done.serial}\t{issued_line(done.number, official, record.status if record else statuses.PRE_ISSUE)}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    open_store_of(args)
    loaded = queries.load_invoice(args.number)
    if loaded is None:
        raise BadInput(f"number（发票号码）：没有号码为 {args.number} 的发票", f"number: no invoice {args.number}")
    record, invoice = loaded
    body = invoice_to_body(invoice)
    official = record.official_number
    pre_issue = is_pre_issue(record.status, official)
    if args.json:
        print_json({**body, "official_number": official, "channel": channel_of(invoice.number, official),
                    "status": record.status, "pre_issue": pre_issue,
                    "invoice_number": became(invoice.number, official)})
        return EXIT_OK
    heading = PRE_ISSUE_LABEL if pre_issue else invoice.kind.label()
    print(f"{heading}  {invoice.number}  {official or ''}  [{record_label(invoice.number, official, record.status)}]")
    if pre_issue:
        print(f"{PRE_ISSUE_LABEL}：不是发票，平台恢复后开具正式发票 / pre-issue record, NOT AN INVOICE: "
              "to be issued as an invoice when the platform answers")
    elif became(invoice.number, official):
        print(f"由预开单 {invoice.number} 开具为发票 {official} / issued by the platform from pre-issue record "
              f"{invoice.number} as invoice {official}")
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
    issue.add_argument("file", nargs="?", default=None,
                       help="a JSON file (- for stdin), or an .xlsx workbook in the two-sheet batch layout (批量开具)")
    issue.add_argument("--yes", action="store_true",
                       help="an .xlsx workbook: issue the invoices it previews (without it, only the preview)")
    issue.add_argument("--template", default=None, metavar="FILE.xlsx",
                       help="write an empty batch workbook (1-发票基本信息, 2-发票明细信息) and stop")
    issue.add_argument("--confirm-tax-id", action="append", metavar="ID",
                       help="accept this buyer id although its check character fails (recorded)")
    issue.add_argument("--confirm-not-person", action="store_true",
                       help="a buyer name of 4 characters or fewer is an organisation's, not a natural person's "
                            "(remembered with the customer)")
    issue.add_argument("--clerk", default=None, help="who issues (default: the drawer)")
    issue.add_argument("--json", action="store_true", help="number, official number, channel and status as JSON")

    listing = commands.add_parser("list", help="list invoices, newest first: search, filter and sort them")
    listing.set_defaults(handler=cmd_list)
    listing.add_argument("search", nargs="*", metavar="WORD",
                         help="words to find in any part of a number, the buyer's name or tax id, an item's name or "
                              "the remarks (one or two characters: in buyer and item names)")
    listing.add_argument("--number", action="append", metavar="TEXT", help="any part of a number (3 characters+)")
    listing.add_argument("--buyer", action="append", metavar="TEXT", help="any part of the buyer's name or tax id")
    listing.add_argument("--item", action="append", metavar="TEXT", help="any part of an item's name")
    listing.add_argument("--remarks", action="append", metavar="TEXT", help="any part of the remarks (3 characters+)")
    listing.add_argument("--status", default=None, help=f"one of {', '.join(INVOICE_STATUSES)}")
    listing.add_argument("--min", dest="min_total", default=None, metavar="AMOUNT", help="total with tax at least")
    listing.add_argument("--max", dest="max_total", default=None, metavar="AMOUNT", help="total with tax at most")
    listing.add_argument("--kind", default=None, choices=[k.value for k in InvoiceKind])
    listing.add_argument("--medium", default=None, choices=list(MEDIA))
    listing.add_argument("--channel", default=None, choices=list(CHANNELS))
    listing.add_argument("--upload", default=None, choices=list(UPLOAD_STATES), help="the upload state")
    colour = listing.add_mutually_exclusive_group()
    colour.add_argument("--red", dest="red", action="store_const", const=True, default=None,
                        help="red-letter invoices only")
    colour.add_argument("--blue", dest="red", action="store_const", const=False, help="blue invoices only")
    listing.add_argument("--sort", default=DEFAULT_SORT, choices=list(SORTS), help="the column to sort by")
    listing.add_argument("--asc", dest="ascending", action="store_true", help="ascending (default: descending)")
    listing.add_argument("--from", dest="date_from", default=None, metavar="YYYY-MM-DD",
                         help="issued on or after this day")
    listing.add_argument("--to", dest="date_to", default=None, metavar="YYYY-MM-DD",
                         help="issued on or before this day")
    listing.add_argument("--xlsx", default=None, metavar="FILE", help="write the list to an Excel workbook")
    listing.add_argument("--csv", default=None, metavar="FILE", help="write the list to a CSV file (UTF-8 with BOM)")
    listing.add_argument("--lines", action="store_true", help="with --xlsx: a second sheet with every invoice line")
    listing.add_argument("--json", action="store_true")

    index = commands.add_parser("search-index", help="what the list's search index holds; --rebuild builds it again")
    index.set_defaults(handler=cmd_search_index)
    index.add_argument("--rebuild", action="store_true", help="build the index again from the invoices")

    show = commands.add_parser("show", help="show one invoice")
    show.set_defaults(handler=cmd_show)
    show.add_argument("number")
    show.add_argument("--json", action="store_true")

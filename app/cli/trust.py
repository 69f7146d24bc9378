"""Command line for corrections and trust after an outage: cancel, red, limits, outages,
outage-report, reconcile. Same services as the app; app/cli/__init__.py registers these parsers, each with its handler.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli.common import EXIT_ERROR, EXIT_OK, BadInput, Subcommands, add_token_options, open_store_of, print_json

# --- cancel / red ------------------------------------------------------------------------------

def cmd_cancel(args: argparse.Namespace) -> int:
    from app.services.lifecycle import cancel_invoice

    if args.reason is None:
        raise BadInput("cancel_reason（作废原因）：作废须填写原因（--reason）",
                       "cancel_reason: give the reason (--reason)")
    open_store_of(args)
    outcome = cancel_invoice(args.number, args.reason, clerk=args.clerk or "")
    print(outcome.message())
    return EXIT_OK


def cmd_red(args: argparse.Namespace) -> int:
    """The red invoice on a confirmation form in 01 or 04 (red-form raise first)."""
    from app.platform.client import PlatformClient
    from app.services.red_forms import issue_red_invoice
    from app.services.settings import make_client

    if not args.form:
        raise BadInput("form（红字确认单）：红字发票须凭红字确认单开具：先 red-form raise，再 red NUMBER --form UUID",
                       "form: a red invoice needs a confirmation form: red-form raise first, then red NUMBER --form "
                       "UUID")
    open_store_of(args)
    client: PlatformClient | None = None if args.offline else make_client(args.url, args.token)
    try:
        issued = issue_red_invoice(args.form, clerk=args.clerk or "", remarks=args.remarks or "",
                                   number=args.number, client=client)
    finally:
        if client is not None:
            client.close()
    print(f"{issued.number}\t{issued.invoice.total_with_tax}")
    return EXIT_OK


# --- limits ------------------------------------------------------------------------------------

def cmd_limits(args: argparse.Namespace) -> int:
    from app.core.errors import ValidationFailed
    from app.core.limits import limits_to_settings, validate_limits
    from app.core.money import format_money
    from app.services.limits import current_remaining, current_usage, get_limits, set_limits

    open_store_of(args)
    current = limits_to_settings(get_limits())
    given = {"max_hours": args.max_hours, "max_count": args.max_count, "max_amount": args.max_amount,
             "max_single": args.max_single}
    if any(v is not None for v in given.values()):
        merged = {k: (v if v is not None else current[k]) for k, v in given.items()}
        limits, errors = validate_limits(**merged)
        if errors or limits is None:
            raise ValidationFailed(errors)
        set_limits(limits)
    limits = get_limits()
    usage = current_usage()
    left = current_remaining()
    report = {"limits": limits_to_settings(limits),
              "held": {"count": usage.count, "amount": format_money(usage.amount),
                       "oldest_issued_at": usage.oldest_issued_at.isoformat() if usage.oldest_issued_at else None},
              "remaining": {"hours": str(left.hours) if left.hours is not None else None, "count": left.count,
                            "amount": format_money(left.amount)},
              "warnings": [w.describe() for w in left.warnings], "exceeded": [e.describe() for e in left.exceeded]}
    print_json(report)
    return EXIT_OK


# --- outages -----------------------------------------------------------------------------------

def cmd_outages(args: argparse.Namespace) -> int:
    from app.services import outages

    open_store_of(args)
    if args.note is not None:
        if args.id is None:
            raise BadInput("id（停机编号）：添加备注须指定停机记录 --id", "id: give the outage to annotate with --id")
        outages.add_note(args.id, args.note, clerk=args.clerk or "")
    rows = outages.describe_all()
    if args.json:
        print_json(rows)
        return EXIT_OK
    for row in rows:
        errors = "; ".join(f"{e['message']}×{e['count']}" for e in row["errors"])
        print("\t".join([str(row["id"]), row["started_at"][:19].replace("T", " "),
                         (row["ended_at"] or "进行中")[:19].replace("T", " "), row["duration"],
                         f"{len(row['invoices'])}张" + (f"（超期 {row['too_late']}）" if row["too_late"] else ""),
                         errors]))
    return EXIT_OK


def cmd_outage_report(args: argparse.Namespace) -> int:
    from app.services import outages

    out = Path(args.output)
    from app.reports import fault_report  # reportlab: only for the command that writes one

    if out.suffix.lower() not in fault_report.REPORT_SUFFIXES:
        raise BadInput("output（输出文件）：应以 .pdf 或 .txt 结尾", "output: must end in .pdf or .txt")
    open_store_of(args)
    fault_report.write_fault_report(outages.fault_report(args.id), out)  # an unknown id: exit 2, named
    print(out)
    return EXIT_OK


# --- reconcile ---------------------------------------------------------------------------------

def cmd_reconcile(args: argparse.Namespace) -> int:
    from app.platform.client import PlatformError
    from app.reports import reconcile_report
    from app.services import reconcile as rec
    from app.services.settings import make_client

    open_store_of(args)
    try:
        client = make_client(args.url, args.token)
    except ValueError as error:
        raise BadInput(f"url（平台地址）：{error}", f"url: {error}") from None
    try:
        report = rec.reconcile(client, args.date_from, args.date_to)
    except PlatformError as error:
        print(f"无法从平台下载发票清单 (cannot download the platform's list): {error}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        client.close()
    requeued = rec.requeue(report.differences) if args.requeue else []
    imported = rec.import_records(report.differences) if args.do_import else None
    if args.csv:
        reconcile_report.write_csv(report, args.csv)
    if args.pdf:
        from app.reports.reconcile_report import write_reconcile_pdf

        write_reconcile_pdf(report, args.pdf)
    if args.json:
        print_json({"period": [report.date_from, report.date_to], "local": report.local_count,
                    "platform": report.platform_count, "matched": report.matched, "not_sent": report.not_sent,
                    "counts": report.counts(),
                    "differences": reconcile_report.report_rows(report), "requeued": requeued,
                    "imported": imported.imported if imported else [],
                    "recorded": imported.recorded if imported else [],
                    "import_failed": imported.failed if imported else []})
        return EXIT_OK
    for line in reconcile_report.summary_lines(report):
        print(line)
    for row in reconcile_report.report_rows(report):
        print("\t".join([row["kind_label"], row["number"], row["local_total_with_tax"] or "-",
                         row["platform_total_with_tax"] or "-", row["detail"]]))
    if args.requeue:
        print(f"重新排队上传 requeued: {len(requeued)} {' '.join(requeued)}")
    if imported is not None:
        print(f"导入 imported: {len(imported.imported)}; 记录接受 recorded: {len(imported.recorded)}; "
              f"失败 failed: {len(imported.failed)}")
        for number, why in imported.failed:
            print(f"  {number}: {why}")
    return EXIT_OK



def register(commands: Subcommands) -> None:
    """The parsers of this group, each with its handler."""
    cancel = commands.add_parser("cancel", help="cancel (作废) a paper invoice within its month, or withdraw a "
                                                "pre-issue record never issued; electronic invoices: red-form")
    cancel.set_defaults(handler=cmd_cancel)
    cancel.add_argument("number")
    cancel.add_argument("--reason", default=None, help="why (required)")
    cancel.add_argument("--clerk", default=None)

    red = commands.add_parser("red", help="issue the red-letter (红字) invoice on a confirmation form in 01 or 04")

    red.set_defaults(handler=cmd_red)
    red.add_argument("number", help="the blue invoice's number")
    red.add_argument("--form", default=None, help="the form's uuid (or form number): see red-form list")
    red.add_argument("--remarks", default=None, help="added after the remarks the face needs")
    red.add_argument("--clerk", default=None)
    red.add_argument("--url", default=None, help="platform URL (default: the one in the settings)")
    add_token_options(red)
    red.add_argument("--offline", action="store_true", help="do not refresh the form from the platform first")

    limits = commands.add_parser("limits", help="offline limits: show what remains, or set them")

    limits.set_defaults(handler=cmd_limits)
    limits.add_argument("--max-hours", default=None, help="longest offline time, hours")
    limits.add_argument("--max-count", default=None, help="most invoices not uploaded")
    limits.add_argument("--max-amount", default=None, help="largest cumulative offline amount (excl. tax)")
    limits.add_argument("--max-single", default=None, help="largest single invoice (excl. tax)")

    outages = commands.add_parser("outages", help="the outage log")

    outages.set_defaults(handler=cmd_outages)
    outages.add_argument("--json", action="store_true")
    outages.add_argument("--id", type=int, default=None, help="with --note: the outage to annotate")
    outages.add_argument("--note", default=None, help="add a note (what was tried, who was called)")
    outages.add_argument("--clerk", default=None)

    report = commands.add_parser("outage-report", help="a fault report of one outage, as PDF or text")

    report.set_defaults(handler=cmd_outage_report)
    report.add_argument("id", type=int)
    report.add_argument("-o", "--output", required=True, help="FILE.pdf or FILE.txt")

    reconcile = commands.add_parser("reconcile", help="compare the store with the platform for a period")

    reconcile.set_defaults(handler=cmd_reconcile)
    reconcile.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
    reconcile.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD")
    reconcile.add_argument("--url", default=None, help="the platform (default: the setting)")
    add_token_options(reconcile)
    reconcile.add_argument("--csv", default=None, help="save the report as CSV")
    reconcile.add_argument("--pdf", default=None, help="save the report as PDF")
    reconcile.add_argument("--requeue", action="store_true", help="re-queue invoices missing on the platform")
    reconcile.add_argument("--import", dest="do_import", action="store_true",
                           help="import invoices missing here (rebuild a lost store)")
    reconcile.add_argument("--json", action="store_true")



"""Command line for the statistics (统计): a month's or a period's counts and amounts, checked before the 13th.

    stats [--month YYYY-MM | --from YYYY-MM-DD --to YYYY-MM-DD] [--by kind|rate|code|buyer|day|month]
          [--json] [--xlsx FILE] [--pdf FILE] [--csv FILE]

Without a period: last month up to the 12th (its summary closes at 00:00 on the 13th), this month from the
13th on (Beijing time). The files are written as well as the figures printed.
"""

from __future__ import annotations

import argparse
import unicodedata
from datetime import date
from decimal import Decimal

from app.cli.common import EXIT_OK, BadInput, Subcommands, open_store_of, print_json

# As app.reports.statistics.GROUPINGS (not imported here: the parser is built for every command).
GROUPINGS = ("kind", "rate", "code", "buyer", "day", "month")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int, right: bool = False) -> str:
    pad = " " * max(width - _width(text), 0)
    return pad + text if right else text + pad


def clock_today() -> date:
    from app.core import clock

    return clock.today()


def _period(args: argparse.Namespace) -> tuple[date, date]:
    from app.reports import statistics as st

    if args.month and (args.date_from or args.date_to):
        raise BadInput("period（期间）：--month 与 --from/--to 只能选一种",
                       "period: give --month or --from/--to, not both")
    if args.month:
        return st.month_period(args.month)
    if args.date_from or args.date_to:
        if not (args.date_from and args.date_to):
            raise BadInput("period（期间）：--from 与 --to 须同时给出", "period: give both --from and --to")
        return st.parse_day(args.date_from, "from"), st.parse_day(args.date_to, "to")
    shown = st.default_month(clock_today())
    return st.month_period(f"{shown.year:04d}{shown.month:02d}")


def cmd_stats(args: argparse.Namespace) -> int:
    from app.reports import statistics as st

    start, end = _period(args)
    open_store_of(args)
    stats = st.statistics(start, end, args.by)
    written = []
    if args.xlsx:
        from app.reports.statistics_xlsx import write_xlsx

        written.append(write_xlsx(stats, args.xlsx))
    if args.csv:
        from app.reports.statistics_xlsx import write_csv

        written.append(write_csv(stats, args.csv))
    if args.pdf:
        from app.reports.statistics_pdf import write_statistics_pdf

        written.append(write_statistics_pdf(stats, args.pdf))
    if args.json:
        value = st.as_json(stats)
        value["files"] = [str(path) for path in written]
        print_json(value)
        return EXIT_OK
    lang = args.lang
    print(f"{'发票统计' if lang == 'zh' else 'Invoice statistics'} {stats.start.isoformat()} — "
          f"{stats.end.isoformat()}  {st.label_of(st.GROUPING_LABELS[stats.by], lang)}")
    keys = st.key_headers(stats.by, lang)
    columns = [(st.BLUE, "count"), (st.RED, "count"), (st.CANCELLED, "count"), (st.NET, "count"),
               (st.NET, "amount"), (st.NET, "tax"), (st.NET, "with_tax")]
    headers = [*keys, *[st.column_header(c, lang, short=True) for c in columns]]
    table = [[*st.key_cells(row, stats.by, lang), *[_shown(st.figure_of(row.figures, g, f)) for g, f in columns]]
             for row in stats.rows]
    table.append([st.total_label(lang), *[""] * (len(keys) - 1),
                  *[_shown(st.figure_of(stats.totals, g, f)) for g, f in columns]])
    widths = [max(_width(line[i]) for line in [headers, *table]) for i in range(len(headers))]
    for line in [headers, *table]:
        print("  ".join(_fit(cell, widths[i], right=i >= len(keys)) for i, cell in enumerate(line)))
    print()
    for said in st.summary_lines(stats, lang):
        print(said)
    for path in written:
        print(f"{'已写入' if lang == 'zh' else 'written'}：{path}")
    return EXIT_OK


def _shown(value: int | Decimal) -> str:
    return f"{value:,.2f}" if isinstance(value, Decimal) else str(value)


def register(commands: Subcommands) -> None:
    stats = commands.add_parser("stats", help="统计：期间的发票张数与金额 (a period's counts and amounts)")
    stats.add_argument("--month", default=None,
                       help="YYYY-MM (default: last month up to the 12th, then this month; Beijing time)")
    stats.add_argument("--from", dest="date_from", default=None, metavar="YYYY-MM-DD", help="first day YYYY-MM-DD")
    stats.add_argument("--to", dest="date_to", default=None, metavar="YYYY-MM-DD",
                       help="last day YYYY-MM-DD (included)")
    stats.add_argument("--by", choices=GROUPINGS, default="kind", help="grouping (default: kind)")
    stats.add_argument("--json", action="store_true")
    stats.add_argument("--xlsx", default=None, metavar="FILE", help="also write an Excel workbook")
    stats.add_argument("--csv", default=None, metavar="FILE", help="also write CSV")
    stats.add_argument("--pdf", default=None, metavar="FILE", help="also write a PDF")
    stats.set_defaults(handler=cmd_stats)

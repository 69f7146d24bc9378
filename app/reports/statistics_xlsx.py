"""The statistics (app/reports/statistics.py) as an Excel workbook and as CSV.

XLSX: money as numbers with two places (number format 0.00), counts as whole numbers, days and the period as
dates; every text cell neutralised (a buyer named =1+1 stays text). Sheet 统计: the period, the table and its
total, what is shown apart (not invoices) and the monthly summary's check; sheet 按日 (or 按月): the chart's
figures. CSV: the table and its total, UTF-8 with a BOM (Excel on a Chinese Windows opens it right).
Both are written beside the target and then put in place, so a failed write leaves no half file."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from app.base.files import write_beside, write_failure
from app.core.catalog_rules import neutralised
from app.core.errors import DeskError
from app.reports.statistics import (
    APART,
    BY_BUYER,
    BY_CODE,
    BY_DAY,
    BY_MONTH,
    CATEGORY_LABELS,
    FIELDS,
    FULL_COLUMNS,
    GROUPING_LABELS,
    TABLE_GROUPS,
    GroupRow,
    Statistics,
    column_header,
    figure_of,
    key_cells,
    key_headers,
    label_of,
    summary_lines,
    total_label,
)

MONEY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
MONTH_FORMAT = "yyyy-mm"


def _text(value: str) -> str:
    return neutralised(ILLEGAL_CHARACTERS_RE.sub("", value))


def _written(path: Path | str, write: Callable[[Path], None]) -> Path:
    target = Path(path)
    try:
        write_beside(target, write, prefix=".stats-")
    except OSError as error:
        zh, en = write_failure(error, target)
        raise DeskError(zh, en, exit_code=2 if not target.parent.is_dir() else None) from None
    return target


def _key_values(row: GroupRow, stats: Statistics) -> list[Any]:
    """The key cells: a date for a day or a month, text otherwise."""
    if stats.by in (BY_DAY, BY_MONTH) and row.day is not None:
        return [row.day]
    return [_text(cell) for cell in key_cells(row, stats.by)]


def _figure_cells(figures: Any) -> list[int | Decimal]:
    return [figure_of(figures, group, name) for group, name in FULL_COLUMNS]


def write_xlsx(stats: Statistics, path: Path | str) -> Path:
    return _written(path, lambda temporary: _write_book(stats, temporary))


def _write_book(stats: Statistics, path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "统计"
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="EEEEEE")
    sheet.append(["发票统计 / Invoice statistics"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["期间 Period", stats.start, "至 to", stats.end])
    for cell in (sheet["B2"], sheet["D2"]):
        cell.number_format = DATE_FORMAT
    grouping = GROUPING_LABELS[stats.by]
    sheet.append(["分组 Grouping", f"{label_of(grouping)} / {label_of(grouping, 'en')}"])
    sheet.append(["生成时间 Made", stats.made_at.replace(tzinfo=None)])
    sheet["B4"].number_format = "yyyy-mm-dd hh:mm:ss"
    sheet.append([])

    keys = key_headers(stats.by)
    first_figure = len(keys) + 1
    group_row = [*keys, *[label_of(TABLE_GROUPS[g]) if f == "count" else None for g, f in FULL_COLUMNS]]
    field_row = [None] * len(keys) + [label_of(FIELDS[f]) for _, f in FULL_COLUMNS]
    sheet.append(group_row)
    sheet.append(field_row)
    top = sheet.max_row - 1
    for offset in range(len(keys)):
        sheet.merge_cells(start_row=top, start_column=offset + 1, end_row=top + 1, end_column=offset + 1)
    for index in range(len(TABLE_GROUPS)):
        start = first_figure + index * len(FIELDS)
        sheet.merge_cells(start_row=top, start_column=start, end_row=top, end_column=start + len(FIELDS) - 1)
    for row in sheet.iter_rows(min_row=top, max_row=top + 1):
        for cell in row:
            cell.font = bold
            cell.fill = head_fill
            cell.alignment = Alignment(horizontal="center", vertical="center")

    def append_figures(keys_cells: list[Any], figures: Any, *, strong: bool = False) -> None:
        sheet.append([*keys_cells, *_figure_cells(figures)])
        line = sheet.max_row
        for column, (_group, name) in enumerate(FULL_COLUMNS, start=first_figure):
            if name != "count":
                sheet.cell(line, column).number_format = MONEY_FORMAT
        key_cell = sheet.cell(line, 1)
        if isinstance(key_cell.value, date):
            key_cell.number_format = MONTH_FORMAT if stats.by == BY_MONTH else DATE_FORMAT
        if strong:
            for column in range(1, first_figure + len(FULL_COLUMNS)):
                sheet.cell(line, column).font = bold

    for row in stats.rows:
        append_figures(_key_values(row, stats), row.figures)
    append_figures([total_label(), *[None] * (len(keys) - 1)], stats.totals, strong=True)

    sheet.append([])
    sheet.append(["另列（非发票或尚无平台结果，不计入合计） / Shown apart (not invoices, or not yet answered)"])
    sheet.cell(sheet.max_row, 1).font = bold
    sheet.append(["类别 Category", "张数 count", "金额 amount", "税额 tax", "价税合计 with tax"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for category in APART:
        figures = stats.of(category)
        sheet.append([f"{label_of(CATEGORY_LABELS[category])} / {label_of(CATEGORY_LABELS[category], 'en')}",
                      figures.count, figures.amount, figures.tax, figures.with_tax])
        for column in (3, 4, 5):
            sheet.cell(sheet.max_row, column).number_format = MONEY_FORMAT
    sheet.append([])
    for line in summary_lines(stats):
        sheet.append([_text(line)])

    sheet.column_dimensions["A"].width = 30 if stats.by in (BY_BUYER, BY_CODE) else 16
    for column in range(2, first_figure + len(FULL_COLUMNS)):
        sheet.column_dimensions[get_column_letter(column)].width = 22 if column < first_figure else 13
    sheet.freeze_panes = sheet.cell(top + 2, first_figure)

    series = book.create_sheet("按日" if stats.series_unit == BY_DAY else "按月")
    series.append(["日期 date" if stats.series_unit == BY_DAY else "月份 month", "张数 count", "金额 amount",
                   "税额 tax", "价税合计 with tax"])
    for cell in series[1]:
        cell.font = bold
    for point in stats.series:
        series.append([point.start, point.net.count, point.net.amount, point.net.tax, point.net.with_tax])
        line = series.max_row
        series.cell(line, 1).number_format = DATE_FORMAT if stats.series_unit == BY_DAY else MONTH_FORMAT
        for column in (3, 4, 5):
            series.cell(line, column).number_format = MONEY_FORMAT
    series.column_dimensions["A"].width = 14
    book.save(path)



def csv_header(stats: Statistics) -> list[str]:
    return [*key_headers(stats.by), *[column_header(c) for c in FULL_COLUMNS]]


def _csv_text(value: str) -> str:
    # A leading tab keeps Excel from reading a 19-digit code as a number (3.04E+18).
    return "\t" + value if value.isdigit() else _text(value)


def _csv_figure(value: int | Decimal) -> str:
    return f"{value:f}" if isinstance(value, Decimal) else str(value)


def write_csv(stats: Statistics, path: Path | str) -> Path:
    def write(temporary: Path) -> None:
        with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(csv_header(stats))
            for row in stats.rows:
                keys = [row.key] if stats.by in (BY_DAY, BY_MONTH) else [_csv_text(c) for c in key_cells(row, stats.by)]
                writer.writerow([*keys, *[_csv_figure(v) for v in _figure_cells(row.figures)]])
            blanks = [""] * (len(key_headers(stats.by)) - 1)
            writer.writerow([total_label(), *blanks, *[_csv_figure(v) for v in _figure_cells(stats.totals)]])

    return _written(path, write)

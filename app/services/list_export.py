"""The invoice list to a file: Excel (.xlsx) or CSV, with what the list shows and the figures behind it.

The rows are those of the list's query (any search, filter and order: app.core.invoice_query, the same
the list and the command line use), in its order, read a page at a time by key (never OFFSET) and
streamed to the file (openpyxl's write-only mode, or csv): an export of a million invoices holds one
page in memory. With lines=True an .xlsx export gets a second sheet, 发票明细, with every line of those invoices.

In the workbook, numbers (the desk's and the platform's 20-digit ones), tax ids and codes are text cells
(number format @, so Excel never turns them into 1.1E+19); money is a number with two decimals (0.00);
the date of issue is a real date and time (Beijing). A text cell Excel would run as a formula (= + - @)
gets a leading single quote. CSV is UTF-8 with a BOM, money as 1234.56, digits-only codes behind a tab
(as app.services.catalog_files writes them). The file goes in place atomically: a temporary file beside
it, renamed over it once whole.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from app.base.files import write_beside, write_failure
from app.core import status as statuses
from app.core.catalog_rules import neutralised
from app.core.clock import in_beijing
from app.core.errors import DeskError, FieldError, ValidationFailed
from app.core.invoice import InvoiceKind
from app.core.invoice_query import InvoiceQuery
from app.core.money import format_plain
from app.core.status import status_label
from app.core.tax import find_rate
from app.store import invoice_search
from app.store.models import InvoiceLine, database
from app.store.queries import InvoiceSummary, iter_search

PAGE = 1000
EVERY = 10**15  # a count with no cap worth naming
LIST_SHEET = "发票列表"
LINES_SHEET = "发票明细"
MONEY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
Format = Literal["xlsx", "csv"]
Progress = Callable[[int, int], bool]  # (done, total) -> go on?

# What a cell holds: its kind decides how it is written.
TEXT, CODE, MONEY, WHEN, NUMBER = "text", "code", "money", "when", "number"


@dataclass(frozen=True)
class OutColumn:
    zh: str
    en: str
    kind: str = TEXT
    width: int = 14


LIST_COLUMNS: tuple[OutColumn, ...] = (
    OutColumn("号码", "number", CODE, 16),
    OutColumn("正式号码", "official number", CODE, 24),
    OutColumn("开票日期", "issued at", WHEN, 20),
    OutColumn("发票种类", "kind", TEXT, 16),
    OutColumn("状态", "status", TEXT, 24),
    OutColumn("购买方名称", "buyer name", TEXT, 30),
    OutColumn("购买方纳税人识别号", "buyer tax id", CODE, 22),
    OutColumn("金额", "amount", MONEY),
    OutColumn("税额", "tax", MONEY),
    OutColumn("价税合计", "total with tax", MONEY),
    OutColumn("原发票号码", "original number", CODE, 24),
    OutColumn("备注", "remarks", TEXT, 30),
    OutColumn("开票人", "drawer", TEXT, 10),
)
LINE_COLUMNS: tuple[OutColumn, ...] = (
    OutColumn("号码", "number", CODE, 16),
    OutColumn("正式号码", "official number", CODE, 24),
    OutColumn("序号", "line", NUMBER, 6),
    OutColumn("项目名称", "item", TEXT, 30),
    OutColumn("税收分类编码", "tax code", CODE, 22),
    OutColumn("规格型号", "spec", TEXT),
    OutColumn("单位", "unit", TEXT, 8),
    OutColumn("数量", "quantity", NUMBER),
    OutColumn("单价", "unit price", NUMBER),
    OutColumn("金额", "amount", MONEY),
    OutColumn("税率", "tax rate", TEXT, 8),
    OutColumn("税额", "tax", MONEY),
    OutColumn("优惠政策标识", "policy", CODE, 8),
)


class ExportCancelled(DeskError):
    """The clerk stopped the export; no file was written."""


# What the list shows (any search, filter and order): the query the list and the command line use.
ListFilter = InvoiceQuery


@dataclass(frozen=True)
class ExportResult:
    path: Path
    invoices: int
    lines: int


def export_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return "xlsx"
    if suffix == ".csv":
        return "csv"
    raise ValidationFailed([FieldError("file", f"{path.name}：只能导出为 .xlsx 或 .csv 文件",
                                       f"{path.name}: export to an .xlsx or .csv file")])


def count_filtered(list_filter: ListFilter) -> int:
    return invoice_search.count_up_to(list_filter, EVERY)


_LIST_COLUMNS_SQL = ", ".join(f"invoice.{name}" for name in (
    "id", "provisional_number", "official_number", "issued_at", "kind", "status", "buyer_name", "buyer_tax_id",
    "total_amount", "total_tax", "total_with_tax", "original_number", "remarks", "drawer"))
_LIST_WIDTH = 14


def _pages(list_filter: ListFilter) -> Iterator[list[tuple[Any, ...]]]:
    """The query's invoices in its order, a page at a time by key."""
    after: invoice_search.Cursor | None = None
    prepared = invoice_search.prepare(list_filter)
    while True:
        page = invoice_search.select_page(prepared, _LIST_COLUMNS_SQL, PAGE, after)
        if page.rows:
            yield [row[:_LIST_WIDTH] for row in page.rows]
        if page.after is None:
            return
        after = page.after


def iter_filtered(list_filter: ListFilter | None = None) -> Iterator[InvoiceSummary]:
    """The list's rows of a query in its order, a page at a time."""
    return iter_search((list_filter or ListFilter()).check(), PAGE)


def _when(issued_at: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(issued_at)
    except (TypeError, ValueError):
        return None
    return in_beijing(moment).replace(tzinfo=None, microsecond=0)


def _kind_label(kind: str) -> str:
    try:
        return InvoiceKind(kind).label()
    except ValueError:
        return kind


def _status_text(status: str) -> str:
    return "预开单（非发票）" if status == statuses.PRE_ISSUE else status_label(status)


def _fen(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value).scaleb(-2)


def _list_cells(row: tuple[Any, ...]) -> list[Any]:
    (_id, number, official, issued_at, kind, status, buyer, buyer_tax_id, amount, tax, with_tax, original,
     remarks, drawer) = row
    return [number, official or "", _when(issued_at), _kind_label(kind), _status_text(status), buyer,
            buyer_tax_id or "", _fen(amount), _fen(tax), _fen(with_tax), original or "", remarks or "", drawer or ""]


def _line_rows(invoices: Sequence[tuple[Any, ...]]) -> Iterator[list[Any]]:
    """The lines of one page of invoices, in the page's order and their own."""
    numbers = {row[0]: (row[1], row[2] or "") for row in invoices}
    marks = ", ".join("?" for _ in numbers)
    lines = database.execute_sql(
        "SELECT invoice_id, position, name, tax_code, spec, unit, quantity, unit_price, amount, tax_rate, tax, policy "
        f"FROM {InvoiceLine._meta.table_name} WHERE invoice_id IN ({marks}) ORDER BY invoice_id DESC, position",
        list(numbers)).fetchall()
    for invoice_id, position, name, code, spec, unit, quantity, price, amount, rate, tax, policy in lines:
        number, official = numbers[invoice_id]
        found = find_rate(rate)
        yield [number, official, position + 1, name, code or "", spec or "", unit or "",
               _decimal(quantity), _decimal(price), _fen(amount), found.label_zh if found else rate, _fen(tax),
               policy or ""]


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text not in (None, "") else None


# --- writing -------------------------------------------------------------------------------------

def _safe(value: str) -> str:
    return neutralised(ILLEGAL_CHARACTERS_RE.sub("", value))


def _styled(sheet: Any, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet)
    cell.number_format = number_format
    return cell


class _RowWriter:
    """Appends rows to a write-only sheet, each cell formatted by its column's kind.

    A write-only sheet serialises a row as it is appended, so one styled cell a column is reused for every
    row: only its value changes (a million rows would otherwise build, and style, a cell object each)."""

    def __init__(self, sheet: Any, columns: Sequence[OutColumn]) -> None:
        self.sheet = sheet
        self.columns = columns
        formats = {MONEY: MONEY_FORMAT, WHEN: DATE_FORMAT, CODE: "@"}
        self.cells = [_styled(sheet, formats[c.kind]) if c.kind in formats else None for c in columns]
        self.text = [_styled(sheet, "@") for _ in columns]  # a NUMBER a double cannot hold exactly

    def append(self, values: Sequence[Any]) -> None:
        row: list[Any] = []
        for index, (value, column) in enumerate(zip(values, self.columns, strict=True)):
            if value is None or value == "":
                row.append(None)
                continue
            kind, cell = column.kind, self.cells[index]
            if kind == MONEY:
                value = float(value)  # ok-float: an Excel number, shown with two decimals (0.00)
            elif kind == NUMBER and isinstance(value, Decimal):
                number = float(value)  # ok-float: a quantity or price, as a number when a double holds it exactly
                if Decimal(repr(number)) == value and len(value.as_tuple().digits) <= 15:
                    value = number
                else:
                    value, cell = format_plain(value), self.text[index]
            elif kind in (CODE, TEXT):
                value = _safe(str(value))
            if cell is None:
                row.append(value)
            else:
                cell.value = value
                row.append(cell)
        self.sheet.append(row)


def _csv_cell(value: Any, column: OutColumn) -> str:
    if value is None:
        return ""
    if column.kind == MONEY:
        return f"{value:.2f}"
    if column.kind == WHEN:
        return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else str(value)
    if isinstance(value, Decimal):
        return format_plain(value)
    text = str(value)
    if column.kind == CODE and text.isdigit():
        return "\t" + text  # Excel would read 20 digits as 1.1E+19; a leading tab keeps them text
    return _safe(text)


def _header(sheet: Any, columns: Sequence[OutColumn]) -> None:
    bold = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    cells = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.zh)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)


def _write_xlsx(path: Path, list_filter: ListFilter, lines: bool, tick: Callable[[int], None]) -> tuple[int, int]:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(LIST_SHEET)
    _header(sheet, LIST_COLUMNS)
    rows = _RowWriter(sheet, LIST_COLUMNS)
    detail = None
    if lines:
        sheet_of_lines = book.create_sheet(LINES_SHEET)
        _header(sheet_of_lines, LINE_COLUMNS)
        detail = _RowWriter(sheet_of_lines, LINE_COLUMNS)
    invoices = written_lines = 0
    try:
        for page in _pages(list_filter):
            for row in page:
                rows.append(_list_cells(row))
            if detail is not None:
                for line in _line_rows(page):
                    detail.append(line)
                    written_lines += 1
            invoices += len(page)
            tick(invoices)
    except BaseException:
        for opened in book.worksheets:  # end each sheet's stream now, not when the collector finds it
            with contextlib.suppress(Exception):  # the export failed already: its own error is what matters
                opened.close()
        raise
    book.save(path)
    return invoices, written_lines


def _write_csv(path: Path, list_filter: ListFilter, tick: Callable[[int], None]) -> tuple[int, int]:
    invoices = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.zh for c in LIST_COLUMNS])
        for page in _pages(list_filter):
            for row in page:
                writer.writerow([_csv_cell(v, c) for v, c in zip(_list_cells(row), LIST_COLUMNS, strict=True)])
            invoices += len(page)
            tick(invoices)
    return invoices, 0


def export_list(path: Path | str, list_filter: ListFilter | None = None, *, lines: bool = False,
                progress: Progress | None = None) -> ExportResult:
    """The filtered list to an .xlsx or .csv file (with lines=True, an .xlsx gets the 发票明细 sheet too).

    progress(done, total) is called after each page; when it returns False the export stops, leaves no
    file and raises ExportCancelled."""
    target = Path(path)
    chosen = (list_filter or ListFilter()).check()
    kind = export_format(target)

    def write(written: Path) -> tuple[int, int]:
        with database.atomic():  # one state of the store, read page by page
            total = count_filtered(chosen)

            def tick(done: int) -> None:
                if progress is not None and not progress(done, total):
                    raise ExportCancelled("已取消导出", "export cancelled")

            if progress is not None:
                tick(0)
            if kind == "xlsx":
                return _write_xlsx(written, chosen, lines, tick)
            return _write_csv(written, chosen, tick)

    try:
        invoices, line_count = write_beside(target, write, prefix=".export-")
    except OSError as error:
        raise ValidationFailed([FieldError("file", *write_failure(error, target))]) from None
    return ExportResult(target, invoices, line_count)

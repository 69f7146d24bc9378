"""The item catalog and the customer book in and out of files: Excel workbooks (.xlsx) and CSV.

A file has a header row of column names (Chinese as exported; English accepted too) and a row per
item or customer. An import checks every row before it writes anything: a file with a bad row stores
nothing and raises ValidationFailed whose errors name the row as Excel numbers it (the header is row 1)
and the column by its header. A good file is written in one IMMEDIATE transaction with its audit entry;
a row for an item already in the catalog (same name and spec), or a customer already in the book (same
name and tax id), updates it, and only the columns the file has change.

An export streams the rows (openpyxl's write-only mode, or csv): the table is never held whole. Cells
Excel would run as a formula (= + - @) get a leading single quote; codes and ids are written as text.
CSV is UTF-8 with a BOM so that Excel opens it as such; a CSV Excel saved in the Chinese ANSI code page
(GB 18030) is read too.
"""

from __future__ import annotations

import csv
import dataclasses
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

from app.base.files import write_beside, write_failure
from app.core.catalog_rules import (
    CUSTOMER_COLUMNS,
    ITEM_COLUMNS,
    MAX_FILE_ROWS,
    Column,
    CustomerFields,
    ItemFields,
    cell_error,
    check_customer,
    check_item,
    in_cells,
    match_headers,
    neutralised,
    too_many_rows,
    unneutralised,
)
from app.core.clock import now_iso
from app.core.errors import FieldError, ValidationFailed
from app.core.money import format_plain
from app.core.tax import find_rate
from app.core.taxid import normalize_tax_id
from app.services.customers import (
    customer_as_typed,
    customer_edited,
    customer_row_fields,
    remembered_confirmations,
)
from app.services.items import edited, item_as_typed, item_row_fields, taxpayer_type
from app.store import audit
from app.store.catalog_queries import CustomerEntry, ItemEntry, iter_customers, iter_items
from app.store.models import Buyer, Item, database
from app.store.taxcodes import StoredTaxCodes

# An import lists this many errors, then says how many more there are.
MAX_ERRORS_LISTED = 200
CHUNK = 400  # rows a query looks up or writes at a time

Format = Literal["xlsx", "csv"]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int

    @property
    def rows(self) -> int:
        return self.created + self.updated


def file_error(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed([FieldError("file", zh, en)])


def file_format(path: Path) -> Format:
    """xlsx or csv, by the file's extension."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".csv":
        return "csv"
    if suffix == ".xls":
        raise file_error(f"{path.name} 是旧版 Excel 文件（.xls）：请在 Excel 中另存为 .xlsx 再导入",
                          f"{path.name} is an old Excel file (.xls): save it as .xlsx in Excel first")
    raise file_error(f"{path.name}：只支持 .xlsx 和 .csv 文件",
                      f"{path.name}: only .xlsx and .csv files are supported")


# --- reading -------------------------------------------------------------------------------------

def cell_text(value: Any) -> str | None:
    """A cell as the text the clerk sees: numbers without a float's noise, codes never in exponent form, dates
    as ISO dates. Shared by the catalogs and the batch workbook (app/services/batch_workbook.py)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e20:
            return str(int(value))
        # What Excel shows: 15 significant digits (0.1+0.2 in a cell is 0.3, not 0.30000000000000004).
        return format_plain(Decimal(format(value, ".15g")))
    if isinstance(value, Decimal):
        return format_plain(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    shown = unneutralised(str(value)).strip()
    return shown or None


# What openpyxl raises for a file that is not a workbook, or a damaged one (its XML: SyntaxError).
UNREADABLE = (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, IndexError, SyntaxError, OSError)


def unreadable(path: Path, error: Exception) -> ValidationFailed:
    detail = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
    return file_error(f"无法读取 {path.name}：不是有效的 .xlsx 文件（{detail}）",
                       f"cannot read {path.name}: not a valid .xlsx file ({detail})")


def _xlsx_rows(path: Path) -> Generator[Sequence[Any]]:
    """The first sheet's rows from row 1, blank ones included (so numbers stay Excel's), read-only."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except UNREADABLE as error:
        raise unreadable(path, error) from None
    try:
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # some writers record a wrong size: read every row there is
            rows = sheet.iter_rows(min_row=1, values_only=True)
        except UNREADABLE as error:
            raise unreadable(path, error) from None
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except UNREADABLE as error:
                raise unreadable(path, error) from None
            yield row
    finally:
        book.close()


def _csv_rows(path: Path) -> Generator[Sequence[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            with path.open(encoding=encoding, newline="") as handle:
                rows = list(_limited(csv.reader(handle)))
        except UnicodeDecodeError:
            continue
        except csv.Error as error:
            raise file_error(f"无法读取 {path.name}：CSV 格式不正确（{error}）",
                              f"cannot read {path.name}: not a well-formed CSV file ({error})") from None
        yield from rows
        return
    raise file_error(f"无法读取 {path.name}：不是 UTF-8 或 GB18030 编码的文本",
                      f"cannot read {path.name}: it is neither UTF-8 nor GB 18030 text")


def _limited(rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """The rows, refused once more than MAX_FILE_ROWS of them (besides the header) hold anything."""
    filled = 0
    for number, row in enumerate(rows, start=1):
        if number > 1 and any(cell_text(value) is not None for value in row):
            filled += 1
            if filled > MAX_FILE_ROWS:
                raise ValidationFailed([too_many_rows()])
        yield row


def read_table(path: Path | str, columns: Sequence[Column]) -> list[tuple[int, dict[str, str | None]]]:
    """The rows of a file that hold anything, each with its row number and its cells by column key;
    raises ValidationFailed for a file it cannot read, a bad header, or too many rows."""
    path = Path(path)
    kind = file_format(path)
    if not path.is_file():
        raise file_error(f"找不到文件 {path}", f"no such file: {path}")
    with closing(_xlsx_rows(path) if kind == "xlsx" else _csv_rows(path)) as source:
        return _table(path, _limited(source), columns)


def _table(path: Path, rows: Iterator[Sequence[Any]], columns: Sequence[Column]
           ) -> list[tuple[int, dict[str, str | None]]]:
    header = next(rows, None)
    if header is None:
        raise file_error(f"{path.name} 是空文件：第1行应为列名", f"{path.name} is empty: row 1 holds the headers")
    found, errors = match_headers([cell_text(h) for h in header], columns)
    if errors:
        raise ValidationFailed(errors)
    table: list[tuple[int, dict[str, str | None]]] = []
    for number, row in enumerate(rows, start=2):
        cells = [cell_text(value) for value in row]
        if not any(cell is not None for cell in cells):
            continue
        values: dict[str, str | None] = {}
        for index, cell in enumerate(cells):
            column = found[index] if index < len(found) else None
            if column is not None:
                values[column.key] = cell
            elif cell is not None:
                letter = get_column_letter(index + 1)
                errors.append(cell_error(number, None, f"第{letter}列有内容，但这一列没有列名",
                                         f"column {letter} holds a value but has no header"))
        table.append((number, values))
    if errors:
        raise ValidationFailed(errors)
    return table


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def listed(errors: list[FieldError]) -> list[FieldError]:
    """At most MAX_ERRORS_LISTED errors, and how many more there are."""
    if len(errors) <= MAX_ERRORS_LISTED:
        return errors
    more = len(errors) - MAX_ERRORS_LISTED
    return [*errors[:MAX_ERRORS_LISTED],
            FieldError("file", f"另有{more}处错误未列出", f"{more} more errors not listed")]


def _text(value: str | None) -> str:
    return (value or "").strip()


# --- items ---------------------------------------------------------------------------------------

def _check_items(table: list[tuple[int, dict[str, str | None]]]) -> list[tuple[int | None, ItemFields]]:
    """Every row checked (with what the catalog has for the rows it updates); (existing id, item) each."""
    names = sorted({_text(values.get("item_name")) for _, values in table})
    existing: dict[tuple[str, str], Item] = {}
    for part in _chunks(names):
        for row in Item.select().where(Item.item_name.in_(part)):
            existing[(row.item_name, row.spec)] = row
    codes = StoredTaxCodes().prefetch(_text(values.get("tax_code")).replace(" ", "") for _, values in table)
    kind = taxpayer_type()
    errors: list[FieldError] = []
    checked: list[tuple[int | None, ItemFields]] = []
    first_row: dict[tuple[str, str], int] = {}
    for number, values in table:
        key = (_text(values.get("item_name")), _text(values.get("spec")))
        known = existing.get(key)
        raw: dict[str, Any] = edited(item_as_typed(known), values) if known is not None else dict(values)
        item, row_errors = check_item(raw, codes, kind)
        errors += in_cells(row_errors, number, ITEM_COLUMNS)
        if key in first_row:
            errors.append(cell_error(number, ITEM_COLUMNS[0], f"与第{first_row[key]}行重复（项目名称和规格型号都相同）",
                                     f"repeats row {first_row[key]} (same item name and spec)"))
        first_row.setdefault(key, number)
        if item is not None:
            checked.append((known.id if known is not None else None, item))
    if errors:
        raise ValidationFailed(listed(errors))
    return checked


def import_items(path: Path | str, clerk: str = "") -> ImportResult:
    """Items from an .xlsx or .csv file, all or none; raises ValidationFailed naming each bad row and column."""
    source = Path(path)
    table = read_table(source, ITEM_COLUMNS)
    with database.atomic("IMMEDIATE"):
        checked = _check_items(table)
        stamp = now_iso()
        new = [{**item_row_fields(item), "created_at": stamp, "updated_at": stamp}
               for item_id, item in checked if item_id is None]
        for part in _chunks(new):
            Item.insert_many(part).execute()
        updated = 0
        for item_id, item in checked:
            if item_id is not None:
                Item.update(**item_row_fields(item), updated_at=stamp).where(Item.id == item_id).execute()
                updated += 1
        result = ImportResult(created=len(new), updated=updated)
        audit.append("items_imported", clerk=clerk, detail={"file": source.name, "created": result.created,
                                                             "updated": result.updated})
    return result


def _rate_label(code: str) -> str:
    rate = find_rate(code)
    return rate.label_zh if rate is not None else code


def _item_cells(entry: ItemEntry) -> list[Any]:
    return [entry.item_name, entry.tax_code, entry.spec, entry.unit, entry.unit_price,
            "是" if entry.price_includes_tax else "否", _rate_label(entry.tax_rate), entry.policy or ""]


def export_items(path: Path | str, include_retired: bool = False) -> int:
    """The catalog to an .xlsx or .csv file (retired items only when asked for); how many rows it wrote."""
    return _export(Path(path), ITEM_COLUMNS, "项目信息", lambda: map(_item_cells, iter_items(include_retired)))


# --- customers -----------------------------------------------------------------------------------

def _check_customers(table: list[tuple[int, dict[str, str | None]]]
                     ) -> list[tuple[int | None, CustomerFields]]:
    names = sorted({_text(values.get("name")) for _, values in table})
    existing: dict[tuple[str, str], Buyer] = {}
    for part in _chunks(names):
        for row in Buyer.select().where(Buyer.name.in_(part)):
            existing[(row.name, row.tax_id)] = row
    errors: list[FieldError] = []
    checked: list[tuple[int | None, CustomerFields]] = []
    first_row: dict[tuple[str, str], int] = {}
    for number, values in table:
        key = (_text(values.get("name")), normalize_tax_id(values.get("tax_id") or ""))
        known = existing.get(key)
        raw: dict[str, Any] = customer_edited(customer_as_typed(known), values) if known is not None else dict(values)
        customer, row_errors = check_customer(raw, remembered_confirmations(known))
        located = in_cells(row_errors, number, CUSTOMER_COLUMNS)
        errors += [_with_column_hint(e) for e in located]
        if key in first_row:
            errors.append(cell_error(number, CUSTOMER_COLUMNS[0],
                                     f"与第{first_row[key]}行重复（名称和纳税人识别号都相同）",
                                     f"repeats row {first_row[key]} (same name and tax id)"))
        first_row.setdefault(key, number)
        if customer is not None:
            checked.append((known.id if known is not None else None, customer))
    if errors:
        raise ValidationFailed(listed(errors))
    return checked


def _with_column_hint(error: FieldError) -> FieldError:
    """A check character the clerk may confirm: in a file, by 是 in the 税号已确认 column."""
    if not error.overridable:
        return error
    return dataclasses.replace(error, message_zh=error.message_zh + "（确属有效时在“税号已确认”列填“是”）",
                               message_en=error.message_en + " (if it is, put 是/yes in the column 税号已确认)")


def import_customers(path: Path | str, clerk: str = "") -> ImportResult:
    """Customers from an .xlsx or .csv file, all or none; raises ValidationFailed naming each bad row and column."""
    source = Path(path)
    table = read_table(source, CUSTOMER_COLUMNS)
    with database.atomic("IMMEDIATE"):
        checked = _check_customers(table)
        stamp = now_iso()
        new = [{**customer_row_fields(customer), "use_count": 0, "last_used_at": "", "updated_at": stamp}
               for customer_id, customer in checked if customer_id is None]
        for part in _chunks(new):
            Buyer.insert_many(part).execute()
        updated = 0
        for customer_id, customer in checked:
            if customer_id is not None:
                Buyer.update(**customer_row_fields(customer), updated_at=stamp).where(Buyer.id == customer_id).execute()
                updated += 1
        result = ImportResult(created=len(new), updated=updated)
        audit.append("customers_imported", clerk=clerk, detail={"file": source.name, "created": result.created,
                                                                 "updated": result.updated})
    return result


def _customer_cells(entry: CustomerEntry) -> list[Any]:
    return [entry.name, entry.tax_id, "是" if entry.natural_person else "否", entry.id_type, entry.id_number,
            entry.address, entry.phone, entry.bank, entry.account, entry.email,
            "是" if entry.tax_id_confirmed else ""]


def export_customers(path: Path | str) -> int:
    """The customer book to an .xlsx or .csv file; how many rows it wrote."""
    return _export(Path(path), CUSTOMER_COLUMNS, "客户信息", lambda: map(_customer_cells, iter_customers()))


# --- writing -------------------------------------------------------------------------------------

def _exact_float(value: Decimal) -> float | None:
    """The price as a spreadsheet number when a float holds it exactly as typed, else None (written as text)."""
    number = float(value)  # ok-float: an Excel number is a double; used only when it holds the price exactly
    return number if Decimal(repr(number)) == value and len(value.as_tuple().digits) <= 15 else None


def _safe(value: str) -> str:
    return neutralised(ILLEGAL_CHARACTERS_RE.sub("", value))


def _csv_cell(value: Any, column: Column) -> str:
    if isinstance(value, Decimal):
        return format_plain(value)
    text = str(value)
    if column.as_text and text.isdigit():
        # A leading tab keeps Excel from reading a 19-digit code as a number (3.04E+18); imports strip it.
        return "\t" + text
    return _safe(text)


def _export(path: Path, columns: Sequence[Column], title: str, rows: Callable[[], Iterable[list[Any]]]) -> int:
    """Write the header and the rows to a temporary file beside path, then put it in place."""
    kind = file_format(path)

    def write(temporary: Path) -> int:
        with database.atomic():  # one state of the table, read row by row
            if kind == "xlsx":
                return _write_xlsx(temporary, columns, title, rows())
            return _write_csv(temporary, columns, rows())

    try:
        return write_beside(path, write, prefix=".export-")
    except OSError as error:
        raise file_error(*write_failure(error, path)) from None


def _write_csv(path: Path, columns: Sequence[Column], rows: Iterable[list[Any]]) -> int:
    written = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.zh for c in columns])
        for row in rows:
            writer.writerow([_csv_cell("" if v is None else v, c) for v, c in zip(row, columns, strict=True)])
            written += 1
    return written


def _write_xlsx(path: Path, columns: Sequence[Column], title: str, rows: Iterable[list[Any]]) -> int:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.zh)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    written = 0
    for row in rows:
        cells: list[Any] = []
        for value, column in zip(row, columns, strict=True):
            if value is None:
                cells.append(None)
            elif isinstance(value, Decimal):
                exact = _exact_float(value)
                cells.append(exact if exact is not None else _text_cell(sheet, format_plain(value)))
            elif column.as_text:
                cells.append(_text_cell(sheet, _safe(str(value))))
            else:
                cells.append(_safe(str(value)))
        sheet.append(cells)
        written += 1
    book.save(path)
    return written


def _text_cell(sheet: Any, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "@"  # stays text when the clerk edits it in Excel
    return cell

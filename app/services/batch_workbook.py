"""Batch issuing from an Excel workbook (.xlsx) in the platform's two-sheet layout (批量开具).

Sheet 1 (1-发票基本信息) holds one row per invoice, keyed by its serial (发票流水号, at most 20 characters,
unique in the sheet): kind, whether prices include tax, the buyer, remarks, payee, reviewer. Sheet 2
(2-发票明细信息) holds the lines, each with the serial of its invoice; the rows of one serial are its lines in
their order. A sheet is found by its name (or, failing that, by its place: the first two sheets).

Nothing is issued unless the whole file is good: read_batch() checks every row (the columns, the serials,
then every invoice through the issue rules, app.services.issuing.prepare_invoice, before anything is
written) and raises ValidationFailed whose errors (SheetCellError) name the sheet, the row as Excel numbers
it (the header is row 1) and the column, in Chinese and English. What it returns is the preview the clerk
sees; issue_batch() issues those invoices in one transaction (app.services.issuing.issue_invoices: all or
nothing) with an audit entry naming the file. save_template() writes an empty workbook of this layout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from app.base.files import write_beside, write_failure
from app.core.catalog_rules import MAX_FILE_ROWS, Column, match_headers
from app.core.errors import FieldError, ValidationFailed, field_label
from app.core.invoice import Invoice, InvoiceKind
from app.core.money import format_plain
from app.core.taxcodes import POLICY_BY_FLAG, POLICY_BY_NAME
from app.services.catalog_files import UNREADABLE, cell_text, file_error, listed, unreadable
from app.services.issuing import IssuedInvoice, issue_invoices, prepare_invoice
from app.services.seller import SellerSettings, get_seller
from app.store import audit

SERIAL_LIMIT = 20
MAX_ERRORS_LISTED = 200

HEADER_SHEET = "1-发票基本信息"
LINE_SHEET = "2-发票明细信息"
GUIDE_SHEET = "填写说明"
_HEADER_SHEET_NAMES = (HEADER_SHEET, "发票基本信息", "基本信息", "发票信息", "invoices", "headers")
_LINE_SHEET_NAMES = (LINE_SHEET, "发票明细信息", "明细信息", "发票明细", "明细", "lines")

SERIAL = Column("serial", "发票流水号", "serial", ("流水号", "serial number", "单据编号"), as_text=True, required=True)
HEADER_COLUMNS: tuple[Column, ...] = (
    SERIAL,
    Column("kind", "发票类型", "kind", ("发票种类", "票种", "invoice kind")),
    Column("prices_include_tax", "是否含税", "prices include tax", ("含税标志", "单价含税", "含税")),
    Column("buyer.name", "购买方名称", "buyer name", ("购方名称", "客户名称", "buyer"), required=True),
    Column("buyer.tax_id", "购买方纳税人识别号", "buyer tax id",
           ("购买方统一社会信用代码/纳税人识别号", "购方税号", "购买方税号", "纳税人识别号", "buyer taxpayer id"),
           as_text=True),
    Column("buyer.address", "购买方地址", "buyer address", ("购方地址",)),
    Column("buyer.phone", "购买方电话", "buyer phone", ("购方电话", "购买方联系电话"), as_text=True),
    Column("buyer.bank", "购买方开户银行", "buyer bank", ("购买方开户行", "购方开户行", "购方开户银行")),
    Column("buyer.account", "购买方银行账号", "buyer account", ("购买方账号", "购方银行账号", "购方账号"),
           as_text=True),
    Column("buyer.natural_person", "是否自然人", "natural person", ("自然人标志", "购买方为自然人")),
    Column("remarks", "备注", "remarks"),
    Column("payee", "收款人", "payee"),
    Column("reviewer", "复核人", "reviewer", ("复核",)),
)
LINE_COLUMNS: tuple[Column, ...] = (
    SERIAL,
    Column("item_name", "项目名称", "item name", ("商品名称", "货物或应税劳务、服务名称", "名称"), required=True),
    Column("tax_code", "税收分类编码", "tax code", ("商品和服务税收分类编码", "税收编码", "tax classification code"),
           as_text=True, required=True),
    Column("spec", "规格型号", "spec", ("规格",)),
    Column("unit", "单位", "unit", ("计量单位",)),
    Column("quantity", "数量", "quantity"),
    Column("unit_price", "单价", "unit price"),
    Column("amount", "金额", "amount"),
    Column("tax_rate", "税率", "tax rate", ("税率/征收率", "征收率"), required=True),
    Column("uses_policy", "是否使用优惠政策", "uses a policy", ("是否享受优惠政策", "享受优惠政策")),
    Column("policy", "优惠政策类型", "policy", ("优惠政策", "优惠政策标识", "policy flag")),
)
_HEADER_BY_KEY = {c.key: c for c in HEADER_COLUMNS}
_LINE_BY_KEY = {c.key: c for c in LINE_COLUMNS}
# Body fields of a line that a column of sheet 2 stands for.
_LINE_FIELD_COLUMN = {"name": "item_name", "short_name": "tax_code", "item": "item_name", "nature": "item_name",
                      "amount_with_tax": "amount", "tax": "amount"}

_KINDS = {"normal": InvoiceKind.NORMAL, "普通发票": InvoiceKind.NORMAL, "增值税普通发票": InvoiceKind.NORMAL,
          "普票": InvoiceKind.NORMAL, "数电普票": InvoiceKind.NORMAL, "电子发票（普通发票）": InvoiceKind.NORMAL,
          "special": InvoiceKind.SPECIAL, "专用发票": InvoiceKind.SPECIAL, "增值税专用发票": InvoiceKind.SPECIAL,
          "专票": InvoiceKind.SPECIAL, "数电专票": InvoiceKind.SPECIAL,
          "电子发票（增值税专用发票）": InvoiceKind.SPECIAL}
_YES = frozenset({"是", "y", "yes", "true", "1", "含税", "√"})
_NO = frozenset({"否", "n", "no", "false", "0", "不含税", ""})


@dataclass(frozen=True)
class SheetCellError(FieldError):
    """An error in one cell (or row) of a batch workbook: the sheet, the row as Excel numbers it, the column."""

    sheet: str = ""
    row: int = 0
    column_zh: str = ""
    column_en: str = ""

    def describe(self, lang: str = "zh") -> str:
        col_zh = f"“{self.column_zh}”列" if self.column_zh else ""
        col_en = f" column {self.column_zh}" if self.column_zh else ""
        row_zh = f"第{self.row}行" if self.row else ""
        row_en = f" row {self.row}" if self.row else ""
        zh = f"工作表“{self.sheet}”{row_zh}{col_zh}"
        en = f"sheet {self.sheet}{row_en}{col_en}"
        if lang == "zh":
            return f"{zh}（{en}）：{self.message_zh}（{self.message_en}）"
        return f"{en} ({zh}): {self.message_en} ({self.message_zh})"


def sheet_error(sheet: str, row: int, column: Column | None, zh: str, en: str) -> SheetCellError:
    where = f"{sheet}!{row}" + (f".{column.key}" if column else "")
    return SheetCellError(where, zh, en, sheet=sheet, row=row, column_zh=column.zh if column else "",
                          column_en=column.en if column else "")


@dataclass(frozen=True)
class BatchLine:
    row: int
    item_name: str
    quantity: str
    unit_price: str
    amount: Decimal
    tax_rate: str


@dataclass(frozen=True)
class BatchInvoice:
    """One invoice of the file, checked: what the preview shows and the body issue_batch sends."""

    serial: str
    row: int  # its row in sheet 1
    kind: str
    buyer_name: str
    buyer_tax_id: str
    lines: tuple[BatchLine, ...]
    total_amount: Decimal
    total_tax: Decimal
    total_with_tax: Decimal
    body: dict[str, Any] = field(compare=False, repr=False)
    line_rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class Batch:
    path: Path
    invoices: tuple[BatchInvoice, ...]
    header_sheet: str = HEADER_SHEET  # the names the file gives its two sheets
    line_sheet: str = LINE_SHEET

    @property
    def total_with_tax(self) -> Decimal:
        return sum((i.total_with_tax for i in self.invoices), Decimal("0.00"))

    @property
    def line_count(self) -> int:
        return sum(len(i.lines) for i in self.invoices)


@dataclass(frozen=True)
class BatchIssued:
    serial: str
    number: str
    total_with_tax: Decimal


# --- reading -------------------------------------------------------------------------------------

def _pick_sheet(names: Sequence[str], wanted: Sequence[str], place: int) -> str | None:
    def key(name: str) -> str:
        return name.replace(" ", "").casefold()

    for name in names:
        if key(name) in {key(w) for w in wanted}:
            return name
    for name in names:  # "1-发票基本信息（模板）" and the like
        if any(key(w) in key(name) for w in wanted[:2]):
            return name
    return names[place] if len(names) > place and names[place] != GUIDE_SHEET else None


Table = list[tuple[int, dict[str, str | None]]]


def _table(sheet_name: str, rows: Iterator[Sequence[Any]], columns: Sequence[Column], errors: list[FieldError]
           ) -> Table:
    header = next(rows, None)
    if header is None:
        errors.append(sheet_error(sheet_name, 1, None, "是空表：第1行应为列名", "is empty: row 1 holds the headers"))
        return []
    found, header_errors = match_headers([cell_text(h) for h in header], columns)
    for error in header_errors:  # a header not known, given twice, or a required one missing
        errors.append(sheet_error(sheet_name, 1, None, error.message_zh, error.message_en))
    table: Table = []
    filled = 0
    for number, row in enumerate(rows, start=2):
        cells = [cell_text(value) for value in row]
        if not any(cell is not None for cell in cells):
            continue
        filled += 1
        if filled > MAX_FILE_ROWS:
            errors.append(sheet_error(sheet_name, number, None, f"超过{MAX_FILE_ROWS}行，请分成几个文件",
                                      f"more than {MAX_FILE_ROWS} rows: split the file"))
            break
        values: dict[str, str | None] = {}
        for index, cell in enumerate(cells):
            column = found[index] if index < len(found) else None
            if column is not None:
                values[column.key] = cell
            elif cell is not None:
                letter = get_column_letter(index + 1)
                errors.append(sheet_error(sheet_name, number, None, f"第{letter}列有内容，但这一列没有列名",
                                          f"column {letter} holds a value but has no header"))
        table.append((number, values))
    return table


def _read_sheets(path: Path) -> tuple[str, Table, str, Table]:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise file_error(f"{path.name}：批量开具只支持 .xlsx 文件（两个工作表：{HEADER_SHEET}、{LINE_SHEET}）",
                          f"{path.name}: batch issuing takes an .xlsx workbook (two sheets: invoices and lines)")
    if not path.is_file():
        raise file_error(f"找不到文件 {path}", f"no such file: {path}")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except UNREADABLE as error:
        raise unreadable(path, error) from None
    try:
        names = list(book.sheetnames)
        header_name = _pick_sheet(names, _HEADER_SHEET_NAMES, 0)
        line_name = _pick_sheet([n for n in names if n != header_name], _LINE_SHEET_NAMES, 0)
        if header_name is None or line_name is None:
            raise file_error(f"{path.name} 应有两个工作表：“{HEADER_SHEET}”（每张发票一行）和“{LINE_SHEET}”（明细）",
                              f"{path.name} needs two sheets: {HEADER_SHEET} (one row an invoice) and "
                              f"{LINE_SHEET} (the lines)")
        errors: list[FieldError] = []
        tables = []
        for name, columns in ((header_name, HEADER_COLUMNS), (line_name, LINE_COLUMNS)):
            try:
                sheet = book[name]
                sheet.reset_dimensions()
                tables.append(_table(name, sheet.iter_rows(min_row=1, values_only=True), columns, errors))
            except UNREADABLE as error:
                raise unreadable(path, error) from None
        if errors:
            raise ValidationFailed(listed(errors))
        return header_name, tables[0], line_name, tables[1]
    finally:
        book.close()


# --- rows to bodies ------------------------------------------------------------------------------

def _flag(value: str | None) -> bool | None:
    """是/否 as typed; None when it is neither."""
    key = (value or "").strip().lower()
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None


def _rate_text(value: str | None) -> str | None:
    """'6%', '0.06', '免税' as typed; a bare 6 or 1.5 (a percentage typed without its sign) is 6% or 1.5%."""
    if value is None:
        return None
    text = value.strip()
    try:
        number = Decimal(text)
    except ArithmeticError:
        return text
    return f"{text}%" if 1 <= number < 100 else text


def _policy(values: dict[str, str | None], sheet: str, row: int, errors: list[FieldError]) -> str | None:
    """The policy flag (01..18) of a line from 是否使用优惠政策 and 优惠政策类型 (a name like 免税, or its flag)."""
    uses_column, policy_column = _LINE_BY_KEY["uses_policy"], _LINE_BY_KEY["policy"]
    typed = (values.get("policy") or "").strip()
    uses = _flag(values.get("uses_policy"))
    if uses is None:
        errors.append(sheet_error(sheet, row, uses_column, f"“{values.get('uses_policy')}”应为“是”或“否”",
                                  f"{values.get('uses_policy')!r} must be 是 (yes) or 否 (no)"))
        return None
    if not typed:
        if uses:
            errors.append(sheet_error(sheet, row, policy_column, "使用优惠政策时应填写优惠政策类型（如：免税）",
                                      "a line that uses a policy needs its type (e.g. 免税)"))
        return None
    flag = typed.zfill(2) if typed.isdigit() and len(typed) <= 2 else None
    if flag is None:
        policy = POLICY_BY_NAME.get(typed)
        flag = policy.flag if policy is not None else None
    if flag is None or flag not in POLICY_BY_FLAG:
        names = "、".join(p.name for p in POLICY_BY_NAME.values())
        errors.append(sheet_error(sheet, row, policy_column, f"“{typed}”不是优惠政策类型（{names}，或其标识01至18）",
                                  f"{typed!r} is not a policy type (a name such as 免税, or a flag 01 to 18)"))
        return None
    if values.get("uses_policy") not in (None, "") and not uses:
        errors.append(sheet_error(sheet, row, uses_column, f"填写了优惠政策类型“{typed}”，此列应为“是”",
                                  f"the policy type {typed!r} is given: this column must be 是 (yes)"))
        return None
    return flag


def _header_body(values: dict[str, str | None], sheet: str, row: int, errors: list[FieldError]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    kind_text = (values.get("kind") or "").strip()
    if kind_text:
        kind = _KINDS.get(kind_text) or _KINDS.get(kind_text.lower())
        if kind is None:
            errors.append(sheet_error(sheet, row, _HEADER_BY_KEY["kind"],
                                      f"“{kind_text}”不是发票类型（普通发票 / 增值税专用发票）",
                                      f"{kind_text!r} is not a kind (普通发票 ordinary / 增值税专用发票 special)"))
        else:
            body["kind"] = kind.value
    for key in ("prices_include_tax", "buyer.natural_person"):
        typed = values.get(key)
        if typed in (None, ""):
            continue
        flag = _flag(typed)
        if flag is None:
            errors.append(sheet_error(sheet, row, _HEADER_BY_KEY[key], f"“{typed}”应为“是”或“否”",
                                      f"{typed!r} must be 是 (yes) or 否 (no)"))
        elif key == "prices_include_tax":
            body["prices_include_tax"] = flag
        else:
            body.setdefault("buyer", {})["natural_person"] = flag
    buyer = body.setdefault("buyer", {})
    for key in ("name", "tax_id", "address", "phone", "bank", "account"):
        typed = values.get(f"buyer.{key}")
        if typed is not None:
            buyer[key] = typed.replace(" ", "") if key == "tax_id" else typed
    for key in ("remarks", "payee", "reviewer"):
        if values.get(key) is not None:
            body[key] = values[key]
    return body


def _line_body(values: dict[str, str | None], sheet: str, row: int, errors: list[FieldError]) -> dict[str, Any]:
    line: dict[str, Any] = {}
    for key in ("item_name", "spec", "unit", "quantity", "unit_price", "amount"):
        if values.get(key) is not None:
            line[key] = values[key]
    code = values.get("tax_code")
    if code is not None:
        line["tax_code"] = code.replace(" ", "")
    rate = _rate_text(values.get("tax_rate"))
    if rate is not None:
        line["tax_rate"] = rate
    policy = _policy(values, sheet, row, errors)
    if policy is not None:
        line["policy"] = policy
    return line


@dataclass
class _Draft:
    serial: str
    row: int
    body: dict[str, Any]
    line_rows: list[int] = field(default_factory=list)


def _serial(values: dict[str, str | None], sheet: str, row: int, errors: list[FieldError]) -> str | None:
    serial = (values.get("serial") or "").strip()
    if not serial:
        errors.append(sheet_error(sheet, row, SERIAL, "不能为空", "is required"))
        return None
    if len(serial) > SERIAL_LIMIT:
        errors.append(sheet_error(sheet, row, SERIAL, f"不能超过{SERIAL_LIMIT}个字符（现为{len(serial)}个）",
                                  f"must be at most {SERIAL_LIMIT} characters (it has {len(serial)})"))
        return None
    return serial


def _drafts(header_name: str, headers: Table, line_name: str, lines: Table, errors: list[FieldError]
            ) -> list[_Draft]:
    drafts: dict[str, _Draft] = {}
    for row, values in headers:
        serial = _serial(values, header_name, row, errors)
        body = _header_body(values, header_name, row, errors)
        if serial is None:
            continue
        if serial in drafts:
            errors.append(sheet_error(header_name, row, SERIAL, f"流水号“{serial}”与第{drafts[serial].row}行重复",
                                      f"serial {serial!r} repeats row {drafts[serial].row}"))
            continue
        drafts[serial] = _Draft(serial, row, {**body, "lines": []})
    for row, values in lines:
        serial = _serial(values, line_name, row, errors)
        line = _line_body(values, line_name, row, errors)
        if serial is None:
            continue
        draft = drafts.get(serial)
        if draft is None:
            errors.append(sheet_error(line_name, row, SERIAL, f"流水号“{serial}”不在工作表“{header_name}”中",
                                      f"serial {serial!r} is not in the sheet {header_name}"))
            continue
        draft.body["lines"].append(line)
        draft.line_rows.append(row)
    for draft in drafts.values():
        if not draft.line_rows:
            errors.append(sheet_error(header_name, draft.row, SERIAL,
                                      f"流水号“{draft.serial}”在工作表“{line_name}”中没有明细行",
                                      f"serial {draft.serial!r} has no line in the sheet {line_name}"))
    return list(drafts.values())


def _located(error: FieldError, draft: _Draft, header_name: str, line_name: str) -> FieldError:
    """An error of the issue rules (a field of the body) in the cell it came from."""
    path = error.field
    if path.startswith("lines[") and "]" in path:
        index = int(path[6:path.index("]")])
        key = path[path.index("]") + 2:] if "]." in path else ""
        column = _LINE_BY_KEY.get(_LINE_FIELD_COLUMN.get(key, key))
        row = draft.line_rows[index] if index < len(draft.line_rows) else draft.row
        sheet = line_name if index < len(draft.line_rows) else header_name
        label = f"line.{key}" if key else "lines"
        prefix = "" if column is not None else f"{field_label(label)}："
        prefix_en = "" if column is not None else f"{field_label(label, 'en')}: "
        return dataclasses.replace(sheet_error(sheet, row, column, prefix + error.message_zh,
                                               prefix_en + error.message_en), overridable=error.overridable)
    column = _HEADER_BY_KEY.get(path)
    if column is None and path == "lines":
        column = SERIAL
    label_zh = "" if column is not None else f"{field_label(path)}："
    label_en = "" if column is not None else f"{field_label(path, 'en')}: "
    return dataclasses.replace(sheet_error(header_name, draft.row, column, label_zh + error.message_zh,
                                           label_en + error.message_en), overridable=error.overridable)


def _preview(draft: _Draft, invoice: Invoice) -> BatchInvoice:
    lines = tuple(BatchLine(row, line.item_name or line.name, format_plain(line.quantity),
                            format_plain(line.unit_price), line.amount, line.tax_rate)
                  for row, line in zip(draft.line_rows, invoice.lines, strict=False))
    return BatchInvoice(draft.serial, draft.row, invoice.kind.value, invoice.buyer.name, invoice.buyer.tax_id, lines,
                        invoice.total_amount, invoice.total_tax, invoice.total_with_tax, draft.body,
                        tuple(draft.line_rows))


def _seller() -> SellerSettings:
    seller = get_seller()
    if seller is None:
        from app.services.issuing import NoSellerProfile

        raise NoSellerProfile("seller：销售方信息未设置，请先设置（seller set）",
                              "seller: no seller profile yet, set it first")
    return seller


def read_batch(path: Path | str, confirmed_tax_ids: Iterable[str] = ()) -> Batch:
    """The invoices of a batch workbook, every row checked by the issue rules; nothing is written.

    Raises ValidationFailed naming each bad cell by sheet, row and column (SheetCellError)."""
    source = Path(path)
    seller = _seller()
    confirmed = list(confirmed_tax_ids)
    header_name, headers, line_name, lines = _read_sheets(source)
    errors: list[FieldError] = []
    drafts = _drafts(header_name, headers, line_name, lines, errors)
    if not drafts and not errors:
        errors.append(sheet_error(header_name, 2, SERIAL, "没有要开具的发票（第2行起每行一张发票）",
                                  "no invoice to issue (one row an invoice, from row 2)"))
    checked: list[BatchInvoice] = []
    for draft in drafts:
        if not draft.line_rows:
            continue
        try:
            invoice = prepare_invoice(draft.body, seller, confirmed)
        except ValidationFailed as failed:
            errors += [_located(e, draft, header_name, line_name) for e in failed.errors]
            continue
        if invoice.is_red_letter:
            errors.append(sheet_error(header_name, draft.row, None, "批量开具只开蓝字发票",
                                      "batch issuing issues blue invoices only"))
            continue
        checked.append(_preview(draft, invoice))
    if errors:
        errors.sort(key=lambda e: (0 if not isinstance(e, SheetCellError) else
                                   (1 if e.sheet == header_name else 2), getattr(e, "row", 0)))
        raise ValidationFailed(listed(errors))
    return Batch(source, tuple(checked), header_name, line_name)


def issue_batch(batch: Batch, clerk: str = "", confirmed_tax_ids: Iterable[str] = ()) -> list[BatchIssued]:
    """Issue the previewed invoices, all or nothing, with one audit entry naming the file and its serials."""
    bodies = [invoice.body for invoice in batch.invoices]

    def record(written: list[IssuedInvoice]) -> None:
        audit.append("batch_issued", clerk=clerk, detail={
            "file": batch.path.name, "count": len(written),
            "serials": {inv.serial: item.number for inv, item in zip(batch.invoices, written, strict=True)}})

    try:
        written = issue_invoices(bodies, clerk=clerk, confirmed_tax_ids=confirmed_tax_ids, after_write=record)
    except ValidationFailed as failed:
        raise ValidationFailed([_issue_error(e, batch) for e in failed.errors]) from None
    return [BatchIssued(inv.serial, item.number, item.invoice.total_with_tax)
            for inv, item in zip(batch.invoices, written, strict=True)]


def _issue_error(error: FieldError, batch: Batch) -> FieldError:
    """'[2]lines[0].tax_rate' of issue_invoices -> the serial's cells (one invoice: no prefix)."""
    path = error.field
    index = 0
    if path.startswith("[") and "]" in path:
        index, path = int(path[1:path.index("]")]), path[path.index("]") + 1:]
    if index >= len(batch.invoices) or path in ("number", "quota", "limits") or path.startswith("offline_limits"):
        return error
    invoice = batch.invoices[index]
    draft = _Draft(invoice.serial, invoice.row, invoice.body, list(invoice.line_rows))
    return _located(dataclasses.replace(error, field=path), draft, batch.header_sheet, batch.line_sheet)


def issue_file(path: Path | str, clerk: str = "", confirmed_tax_ids: Iterable[str] = ()) -> list[BatchIssued]:
    """read_batch then issue_batch, in one go."""
    confirmed = list(confirmed_tax_ids)
    return issue_batch(read_batch(path, confirmed), clerk, confirmed)


# --- the template --------------------------------------------------------------------------------

_GUIDE: tuple[tuple[str, str, str], ...] = (
    ("发票流水号", "必填", "每张发票一个，最长20个字符，在“1-发票基本信息”中不能重复；明细行填写所属发票的流水号"),
    ("发票类型", "选填", "普通发票（默认）或 增值税专用发票"),
    ("是否含税", "选填", "是：单价和金额含税；否（默认）：不含税"),
    ("购买方名称", "必填", "开具专用发票时，购买方纳税人识别号、地址、电话、开户银行、银行账号均须填写"),
    ("是否自然人", "选填", "是：购买方为自然人（个人）"),
    ("税收分类编码", "必填", "19位数字，须为现行编码表中可开票的编码"),
    ("数量、单价、金额", "选填", "填数量和单价，或只填金额；三者都填时金额应等于数量×单价"),
    ("税率", "必填", "13%、9%、6%、5%、3%、1%、0%、免税、不征税"),
    ("是否使用优惠政策", "选填", "是：须填写优惠政策类型；免税发票税率填0、此列填是、类型填“免税”"),
    ("优惠政策类型", "选填", "如：免税、不征税、简易征收、按3%简易征收、按5%简易征收"),
)


def save_template(path: Path | str) -> Path:
    """An empty batch workbook: the two sheets with their headers (required ones marked *) and a guide sheet."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        target = target.with_suffix(".xlsx")
    folder = target.parent
    if not folder.is_dir():
        raise file_error(f"文件夹 {folder} 不存在", f"the folder {folder} does not exist")
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, columns in ((HEADER_SHEET, HEADER_COLUMNS), (LINE_SHEET, LINE_COLUMNS)):
        sheet = book.create_sheet(title)
        for index, column in enumerate(columns, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = max(12, 2 * len(column.zh) + 4)
            if column.as_text:
                sheet.column_dimensions[letter].number_format = "@"
        cells = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=("*" if column.required else "") + column.zh)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    guide = book.create_sheet(GUIDE_SHEET)
    guide.column_dimensions["A"].width = 24
    guide.column_dimensions["C"].width = 90
    guide.append(["列名", "是否必填", "说明"])
    for row in _GUIDE:
        guide.append(list(row))
    try:
        write_beside(target, book.save, prefix=".template-")
    except OSError as error:
        raise file_error(*write_failure(error, target)) from None
    return target

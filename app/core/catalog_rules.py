"""The item catalog (项目信息) and the customer book (客户信息): what an item or a customer must be before
the desk keeps it, and the columns of their files.

Pure: the table of codes in force comes from the caller (app.core.taxcodes.TaxCodeTable). An item is
held to the rules an invoice line is held to (shudian-rules.md section 3: a usable leaf code, the rate
and policy flag that code allows the seller), so an item taken from the catalog always makes a line
that can be issued; a customer to those of a buyer (section 2). Each check gives back what it could
read and every error it found, each naming its field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.core.errors import FieldError
from app.core.fields import Collector, decimal, tax_id_field, text
from app.core.parties import ID_TYPES
from app.core.tax import find_rate
from app.core.taxcodes import CODE_LENGTH, POLICY_BY_FLAG, TaxCode, TaxCodeTable, assembled_name
from app.core.taxid import check_tax_id, normalize_tax_id
from app.core.validation import (
    LIMITS,
    SMALL_TAXPAYER_RATES,
    TAXPAYER_TYPES,
    check_buyer_identity,
    check_rate_and_policy,
)

EMAIL_LIMIT = 100
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# How a flag may be typed in the form or in a file cell.
_TRUE = frozenset({"true", "yes", "y", "1", "是", "含税", "√", "✓", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "不含税", "f", ""})
_ID_TYPE_BY_NAME = {names[0]: code for code, names in ID_TYPES.items()}

# A file holds at most this many rows besides its header.
MAX_FILE_ROWS = 20_000


# --- items ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemFields:
    """An item as the catalog keeps it: checked, the rate a rate code of app.core.tax."""

    item_name: str
    tax_code: str
    spec: str
    unit: str
    unit_price: Decimal | None
    price_includes_tax: bool
    tax_rate: str
    policy: str | None
    short_name: str  # of the code, for the printed name

    @property
    def printed_name(self) -> str:
        return assembled_name(self.short_name, self.item_name)


def flag_field(value: Any, field: str, out: Collector) -> bool:
    """A yes/no as typed: True/False, or 是/否, 含税/不含税, yes/no, 1/0 (a file cell); blank is no."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    out.add(field, f"“{value}”应为“是”或“否”", f"{value!r} must be yes or no")
    return False


def _policy_text(value: Any) -> Any:
    """'3' (what a spreadsheet makes of 03) -> '03'."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 1:
        return value.strip().zfill(2)
    return value.strip() if isinstance(value, str) else value


def _usable_code(value: Any, field: str, out: Collector, codes: TaxCodeTable) -> TaxCode | None:
    """A code of the table in force that a line may carry: usable, and a leaf (or an allowed summary)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    typed = text(value, field, out, CODE_LENGTH + 10, required=True).replace(" ", "")
    if not typed:
        return None
    if len(typed) != CODE_LENGTH or not typed.isdigit():
        out.add(field, f"“{typed}”不是19位数字的税收分类编码", f"{typed!r} is not a 19-digit tax code")
        return None
    code = codes.get(typed)
    if code is None:
        out.add(field, f"编码{typed}不在现行税收分类编码表中",
                f"code {typed} is not in the tax classification table in force")
        return None
    if not code.usable:
        out.add(field, f"编码{typed}（{code.name}）已停用，请改用现行编码",
                f"code {typed} ({code.name}) has been withdrawn: choose a code in force")
        return None
    if not code.allowed_on_a_line:
        out.add(field, f"编码{typed}（{code.name}）是汇总项，不能直接开票，请选择其下级编码",
                f"code {typed} ({code.name}) is a summary row: choose one of the codes under it")
        return None
    return code


def _rate_labels(codes: Iterable[str]) -> str:
    return "、".join(rate.label_zh if (rate := find_rate(c)) else c for c in codes)


def default_rate(code: TaxCode | None, policy: str | None, taxpayer_type: str) -> str | None:
    """The rate an item takes when none is typed: the one its policy forces, or its code's only rate
    (a general taxpayer); None when there is a choice to make."""
    rule = POLICY_BY_FLAG.get(policy or "")
    if rule is not None and rule.rates is not None and len(rule.rates) == 1:
        return next(iter(rule.rates))
    if code is not None and taxpayer_type == "general" and len(code.line_rates) == 1:
        return code.line_rates[0]
    return None


def check_item(raw: Mapping[str, Any], codes: TaxCodeTable, taxpayer_type: str = "general"
               ) -> tuple[ItemFields | None, list[FieldError]]:
    """An item as typed (the form, the command line, a file row: text, or bool for the flag) checked as an
    invoice line would be: (the item, []) or (None, every error, each naming its field)."""
    if taxpayer_type not in TAXPAYER_TYPES:
        raise ValueError(f"taxpayer type {taxpayer_type!r}")
    out = Collector()
    item_name = text(raw.get("item_name"), "item_name", out, LIMITS["line.item_name"], required=True)
    if "*" in item_name:
        out.add("item_name", "项目名称不能含“*”：简称由税收分类编码生成，打印为“*简称*项目名称”",
                "the item name goes without '*': the desk adds '*short name*' from the tax code")
    code = _usable_code(raw.get("tax_code"), "tax_code", out, codes)
    spec = text(raw.get("spec"), "spec", out, LIMITS["line.spec"])
    unit = text(raw.get("unit"), "unit", out, LIMITS["line.unit"])
    unit_price = decimal(raw.get("unit_price"), "unit_price", out, required=False)
    if unit_price is not None and unit_price < 0:
        out.add("unit_price", "不能为负数", "must not be negative")
    includes_tax = flag_field(raw.get("price_includes_tax"), "price_includes_tax", out)
    policy = _policy_text(raw.get("policy"))
    rate = raw.get("tax_rate")
    if isinstance(rate, int | Decimal) and not isinstance(rate, bool):
        rate = str(rate)
    if rate is None or (isinstance(rate, str) and not rate.strip()):
        rate = default_rate(code, policy if isinstance(policy, str) and policy in POLICY_BY_FLAG else None,
                            taxpayer_type)
        if rate is None and code is not None:
            allowed = SMALL_TAXPAYER_RATES if taxpayer_type == "small" else code.line_rates
            out.add("tax_rate", f"不能为空：请选择税率（{_rate_labels(allowed)}）",
                    f"is required: choose the rate ({', '.join(allowed)})")
    rate_code: str | None = None
    checked_policy: str | None = None
    if rate is not None:
        errors, rate_code, checked_policy = check_rate_and_policy({"tax_rate": rate, "policy": policy}, "", code,
                                                                  taxpayer_type)
        out.errors += errors
    if out.errors or code is None or rate_code is None:
        return None, out.errors
    return ItemFields(item_name=item_name, tax_code=code.code, spec=spec, unit=unit, unit_price=unit_price,
                      price_includes_tax=includes_tax, tax_rate=rate_code, policy=checked_policy,
                      short_name=code.short_name), []


# --- customers -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CustomerFields:
    """A customer as the book keeps it: checked, the tax id normalised."""

    name: str
    tax_id: str
    natural_person: bool
    id_type: str
    id_number: str
    address: str
    phone: str
    bank: str
    account: str
    email: str
    tax_id_confirmed: bool  # the tax id fails its check character and the clerk confirmed it is real
    short_name_confirmed: bool  # a short name confirmed as an organisation's, not a person's


CUSTOMER = "customer"  # errors name customer.name, customer.tax_id, ...


def _text_of(value: Any) -> Any:
    """A number in a spreadsheet cell (an ID type, an account) as its digits."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def check_customer(raw: Mapping[str, Any], confirmed_tax_ids: Iterable[str] = ()
                   ) -> tuple[CustomerFields | None, list[FieldError]]:
    """A customer as typed, checked as a buyer of section 2 is: (the customer, []) or (None, every error).

    A tax id failing its check character is refused (an error the clerk may override) unless it is one of
    confirmed_tax_ids (remembered from before) or raw["tax_id_confirmed"] is true (confirmed now)."""
    out = Collector()
    path = CUSTOMER
    name = text(_text_of(raw.get("name")), f"{path}.name", out, LIMITS["name"], required=True)
    confirm_now = flag_field(raw.get("tax_id_confirmed"), f"{path}.tax_id_confirmed", out)
    typed_id = _text_of(raw.get("tax_id"))
    confirmed = {normalize_tax_id(t) for t in confirmed_tax_ids}
    if confirm_now and isinstance(typed_id, str):
        confirmed.add(normalize_tax_id(typed_id))
    tax_id = tax_id_field(typed_id, f"{path}.tax_id", out, False, confirmed)
    natural = flag_field(raw.get("natural_person"), f"{path}.natural_person", out)
    short_confirmed = flag_field(raw.get("short_name_confirmed"), f"{path}.short_name_confirmed", out)
    id_type = text(_text_of(raw.get("id_type")), f"{path}.id_type", out, 40)
    id_type = _ID_TYPE_BY_NAME.get(id_type, id_type)
    id_number = text(_text_of(raw.get("id_number")), f"{path}.id_number", out, LIMITS["id_number"])
    check_buyer_identity(out, path, name, natural, id_type, id_number)
    address, phone, bank, account = (text(_text_of(raw.get(key)), f"{path}.{key}", out, LIMITS[key])
                                     for key in ("address", "phone", "bank", "account"))
    email = text(raw.get("email"), f"{path}.email", out, EMAIL_LIMIT)
    if email and not _EMAIL.fullmatch(email):
        out.add(f"{path}.email", f"“{email}”不是有效的电子邮箱地址", f"{email!r} is not an e-mail address")
    if out.errors:
        return None, out.errors
    id_confirmed = bool(tax_id) and not check_tax_id(tax_id).ok
    return CustomerFields(name=name, tax_id=tax_id, natural_person=natural, id_type=id_type, id_number=id_number,
                          address=address, phone=phone, bank=bank, account=account, email=email,
                          tax_id_confirmed=id_confirmed, short_name_confirmed=short_confirmed and not natural), []


# --- files ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """A column of an item or customer file: its key (the field), its Chinese and English headers."""

    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    as_text: bool = False  # written as text, never as a number (codes, ids, accounts)
    required: bool = False  # a file without this column is refused


ITEM_COLUMNS: tuple[Column, ...] = (
    Column("item_name", "项目名称", "item name", ("名称", "商品名称", "货物或应税劳务、服务名称"), required=True),
    Column("tax_code", "税收分类编码", "tax code",
           ("商品和服务税收分类编码", "税收编码", "编码", "tax classification code"), as_text=True),
    Column("spec", "规格型号", "spec", ("规格", "型号", "specification")),
    Column("unit", "单位", "unit", ("计量单位",)),
    Column("unit_price", "单价", "unit price", ("price",)),
    Column("price_includes_tax", "含税", "price includes tax", ("单价含税", "含税标志", "是否含税", "includes tax")),
    Column("tax_rate", "税率", "tax rate", ("税率/征收率", "征收率", "rate")),
    Column("policy", "优惠政策标识", "policy", ("优惠政策", "policy flag"), as_text=True),
)
CUSTOMER_COLUMNS: tuple[Column, ...] = (
    Column("name", "名称", "name", ("客户名称", "购买方名称", "购方名称", "customer name"), required=True),
    Column("tax_id", "纳税人识别号", "tax id",
           ("税号", "统一社会信用代码", "纳税人识别号/统一社会信用代码", "taxpayer id"), as_text=True),
    Column("natural_person", "自然人", "natural person", ("自然人标志",)),
    Column("id_type", "证件类型", "id type", (), as_text=True),
    Column("id_number", "证件号码", "id number", (), as_text=True),
    Column("address", "地址", "address"),
    Column("phone", "电话", "phone", ("联系电话",), as_text=True),
    Column("bank", "开户行", "bank", ("开户银行",)),
    Column("account", "账号", "account", ("银行账号", "开户行账号"), as_text=True),
    Column("email", "电子邮箱", "email", ("邮箱", "e-mail")),
    Column("tax_id_confirmed", "税号已确认", "tax id confirmed"),
)


def _header_key(text_: str) -> str:
    return re.sub(r"[\s_\-*]", "", text_).casefold()


@dataclass(frozen=True)
class CellError(FieldError):
    """An error in one cell (or row) of a file: the row as the clerk sees it in Excel (the header is row 1)
    and the column by its header. Its field is rows[N].key."""

    row: int = 0
    column_zh: str = ""
    column_en: str = ""

    def describe(self, lang: str = "zh") -> str:
        # The row and the column as the clerk sees them in the sheet; the id (rows[3].tax_code) stays in
        # `field`, for JSON and tests, not in the text.
        if lang == "zh":
            where = f"第{self.row}行" + (f"“{self.column_zh}”列" if self.column_zh else "")
            return f"{where}：{self.message_zh}"
        where = f"row {self.row}" + (f", column {self.column_zh} ({self.column_en})" if self.column_zh else "")
        return f"{where}: {self.message_en}"


def cell_error(row: int, column: Column | None, zh: str, en: str, overridable: bool = False) -> CellError:
    field = f"rows[{row}]" + (f".{column.key}" if column else "")
    return CellError(field, zh, en, overridable, row=row, column_zh=column.zh if column else "",
                     column_en=column.en if column else "")


def in_cells(errors: Iterable[FieldError], row: int, columns: Sequence[Column]) -> list[FieldError]:
    """Errors of check_item / check_customer for one file row, each naming its row and column."""
    by_key = {c.key: c for c in columns}
    located: list[FieldError] = []
    for error in errors:
        key = error.field.removeprefix(f"{CUSTOMER}.")
        located.append(cell_error(row, by_key.get(key), error.message_zh, error.message_en, error.overridable))
    return located


def match_headers(headers: Sequence[Any], columns: Sequence[Column]) -> tuple[list[Column | None], list[FieldError]]:
    """The column of each header cell (None for a blank one), by its Chinese or English name; errors name
    a header not known, a column given twice, a required column missing."""
    lookup: dict[str, Column] = {}
    for column in columns:
        for name in (column.zh, column.en, column.key, *column.aliases):
            lookup.setdefault(_header_key(name), column)
    found: list[Column | None] = []
    errors: list[FieldError] = []
    seen: set[str] = set()
    for header in headers:
        shown = "" if header is None else str(header).strip().lstrip("\ufeff")
        if not shown:
            found.append(None)
            continue
        matched = lookup.get(_header_key(shown))
        if matched is None:
            known = "、".join(c.zh for c in columns)
            errors.append(cell_error(1, None, f"不认识的列名“{shown}”（可用的列：{known}）",
                                     f"unknown column {shown!r} (columns: {', '.join(c.en for c in columns)})"))
        elif matched.key in seen:
            errors.append(cell_error(1, matched, f"“{shown}”列重复", f"column {shown!r} is given twice"))
            matched = None
        else:
            seen.add(matched.key)
        found.append(matched)
    for column in columns:
        if column.required and column.key not in seen:
            errors.append(FieldError("file", f"缺少“{column.zh}”列（第1行应为列名）",
                                     f"the column {column.zh} ({column.en}) is missing (row 1 holds the headers)"))
    return found, errors


def too_many_rows() -> FieldError:
    return FieldError("file", f"文件超过{MAX_FILE_ROWS}行（不含列名行），请分成几个文件导入",
                      f"the file has more than {MAX_FILE_ROWS} rows besides its header: split it into several files")


# Cells a spreadsheet would run as a formula (CSV and formula injection): written with a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: str) -> str:
    """'=SUM(A1)' -> "'=SUM(A1)": a cell Excel shows as the text it is."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unneutralised(value: str) -> str:
    """What neutralised() wrote, read back."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value

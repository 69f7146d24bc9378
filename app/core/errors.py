"""The desk's failures: one root error (DeskError) with a message in Chinese and English and an
exit code, and validation errors that name the field, in Chinese first and English on request."""

from __future__ import annotations

from dataclasses import dataclass

# Exit statuses of the command line; every DeskError carries one.
EXIT_OK = 0
EXIT_ERROR = 1  # anything the clerk cannot fix by changing the input (a damaged store, a failed backup)
EXIT_BAD_INPUT = 2  # input the clerk must fix; nothing was stored


class DeskError(Exception):
    """Root of every failure the desk expects: the command line and the app catch it once.

    message_zh is what a clerk reads first; message_en follows it (or stands alone with --lang en).
    """

    exit_code = EXIT_ERROR

    def __init__(self, message_zh: str, message_en: str = "", *, exit_code: int | None = None) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.message_en = message_en
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.describe()

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" or not self.message_en else self.message_en

    def describe(self, lang: str = "zh") -> str:
        """Both languages, the chosen one first: '本地数据库已损坏… (the store is damaged…)'."""
        if not self.message_en:
            return self.message_zh
        if lang == "zh":
            return f"{self.message_zh} ({self.message_en})"
        return f"{self.message_en} ({self.message_zh})"


class BadInput(DeskError):
    """Input the clerk must fix (a missing option, an unreadable file); the message names the field."""

    exit_code = EXIT_BAD_INPUT

# Field labels as a clerk knows them. Line fields are looked up without their index.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "invoice": ("发票", "invoice"),
    "number": ("发票号码", "number"),
    "kind": ("发票种类", "kind"),
    "issued_at": ("开票日期", "issue date"),
    "seller": ("销售方", "seller"),
    "seller.name": ("销售方名称", "seller name"),
    "seller.tax_id": ("销售方纳税人识别号", "seller taxpayer id"),
    "seller.address": ("销售方地址", "seller address"),
    "seller.phone": ("销售方电话", "seller phone"),
    "seller.bank": ("销售方开户行", "seller bank"),
    "seller.account": ("销售方账号", "seller account"),
    "buyer": ("购买方", "buyer"),
    "buyer.name": ("购买方名称", "buyer name"),
    "buyer.tax_id": ("购买方纳税人识别号", "buyer taxpayer id"),
    "buyer.address": ("购买方地址", "buyer address"),
    "buyer.phone": ("购买方电话", "buyer phone"),
    "buyer.bank": ("购买方开户行", "buyer bank"),
    "buyer.account": ("购买方账号", "buyer account"),
    "buyer.natural_person": ("自然人标志", "natural-person flag"),
    "buyer.id_type": ("购买方证件类型", "buyer ID type"),
    "buyer.id_number": ("购买方证件号码", "buyer ID number"),
    "buyer.email": ("购买方电子邮箱", "buyer e-mail"),
    "medium": ("发票介质", "medium"),
    "taxpayer_type": ("纳税人类型", "taxpayer type"),
    "red": ("红字标志", "red-letter flag"),
    "red_form_uuid": ("红字确认单", "red-letter confirmation form"),
    "deduction": ("差额征税", "deduction"),
    "drawer_id_type": ("开票人证件类型", "drawer ID type"),
    "drawer_id_number": ("开票人证件号码", "drawer ID number"),
    "show_seller_bank": ("显示销售方银行账号", "show seller bank"),
    "show_buyer_bank": ("显示购买方银行账号", "show buyer bank"),
    "lines": ("项目明细", "lines"),
    "line.name": ("项目名称（含简称）", "printed item name"),
    "line.item_name": ("项目名称", "item name"),
    "line.tax_code": ("税收分类编码", "tax classification code"),
    "line.short_name": ("商品和服务简称", "short name"),
    "line.nature": ("行性质", "line nature"),
    "line.policy": ("优惠政策标识", "policy flag"),
    "line.line_no": ("行号", "line number"),
    "line.original_line_no": ("对应蓝字发票行号", "blue line reversed"),
    "line.amount_with_tax": ("含税金额", "amount with tax"),
    "line.item": ("项目", "catalog item"),
    "line.spec": ("规格型号", "specification"),
    "line.unit": ("单位", "unit"),
    "line.quantity": ("数量", "quantity"),
    "line.unit_price": ("单价", "unit price"),
    "line.amount": ("金额", "amount"),
    "line.tax_rate": ("税率/征收率", "tax rate"),
    "line.tax": ("税额", "tax"),
    "line.discount": ("折扣行", "discount line"),
    "total_amount": ("合计金额", "total amount"),
    "total_tax": ("合计税额", "total tax"),
    "total_with_tax": ("价税合计", "total with tax"),
    "remarks": ("备注", "remarks"),
    "payee": ("收款人", "payee"),
    "reviewer": ("复核", "reviewer"),
    "drawer": ("开票人", "drawer"),
    "original_number": ("原发票号码", "original invoice number"),
    "offline": ("离线标志", "offline flag"),
    "prices_include_tax": ("含税标志", "prices-include-tax flag"),
    "json": ("输入文件", "input file"),
    "cancel": ("作废", "cancellation"),
    "cancel_reason": ("作废原因", "cancellation reason"),
    "red_reason": ("红字发票开具原因", "red-letter reason"),
    "reverse": ("冲红", "reversal"),
    "offline_limits.max_hours": ("离线开票时限", "longest offline time"),
    "offline_limits.max_count": ("离线发票张数上限", "most invoices not uploaded"),
    "offline_limits.max_amount": ("离线累计金额上限", "largest cumulative offline amount"),
    "offline_limits.max_single": ("单张发票开票限额", "largest single invoice"),
    "outage": ("停机记录", "outage"),
    "note": ("备注", "note"),
    # The item catalog (项目信息) and the customer book (客户信息); "rows[N]." errors of a file name row N.
    "item": ("项目", "catalog item"),
    "item_name": ("项目名称", "item name"),
    "tax_code": ("税收分类编码", "tax classification code"),
    "spec": ("规格型号", "specification"),
    "unit": ("单位", "unit"),
    "unit_price": ("单价", "unit price"),
    "price_includes_tax": ("单价含税", "price includes tax"),
    "tax_rate": ("税率/征收率", "tax rate"),
    "policy": ("优惠政策标识", "policy flag"),
    "customer": ("客户", "customer"),
    "customer.name": ("客户名称", "customer name"),
    "customer.tax_id": ("纳税人识别号", "taxpayer id"),
    "customer.natural_person": ("自然人标志", "natural-person flag"),
    "customer.id_type": ("证件类型", "ID type"),
    "customer.id_number": ("证件号码", "ID number"),
    "customer.address": ("地址", "address"),
    "customer.phone": ("电话", "phone"),
    "customer.bank": ("开户行", "bank"),
    "customer.account": ("账号", "account"),
    "customer.email": ("电子邮箱", "e-mail"),
    "customer.tax_id_confirmed": ("税号已确认", "taxpayer id confirmed"),
    "customer.short_name_confirmed": ("非自然人已确认", "short name confirmed"),
    "merge": ("合并客户", "customers to merge"),
    "file": ("文件", "file"),
}


def _label_key(field_path: str) -> str:
    """lines[3].quantity -> line.quantity; buyer.tax_id stays."""
    if field_path.startswith("lines[") and "]." in field_path:
        return "line." + field_path.split("].", 1)[1]
    if field_path.startswith("lines["):
        return "lines"
    return field_path


def field_label(field_path: str, lang: str = "zh") -> str:
    """The clerk's name for a field path; "[2]buyer.name" (the third invoice of a list) keeps its prefix."""
    if field_path.startswith("[") and "]" in field_path:
        prefix, rest = field_path[: field_path.index("]") + 1], field_path[field_path.index("]") + 1 :]
        number = int(prefix[1:-1]) + 1
        inner = field_label(rest, lang)
        return f"第{number}张发票{inner}" if lang == "zh" else f"invoice {number} {inner}"
    labels = FIELD_LABELS.get(_label_key(field_path))
    if labels is None:
        return field_path
    label = labels[0] if lang == "zh" else labels[1]
    if field_path.startswith("lines["):
        index = int(field_path[6 : field_path.index("]")])
        label = f"第{index + 1}行{label}" if lang == "zh" else f"line {index + 1} {label}"
    return label


@dataclass(frozen=True)
class FieldError:
    """One broken rule: the field path (as in the protocol's JSON) and what is wrong."""

    field: str
    message_zh: str
    message_en: str
    # A failed check character of a taxpayer id is the one error a clerk may override.
    overridable: bool = False

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en

    def describe(self, lang: str = "zh") -> str:
        """'buyer.tax_id（购买方纳税人识别号）：…', naming the field both ways."""
        label = field_label(self.field, lang)
        if lang == "zh":
            return f"{self.field}（{label}）：{self.message_zh}"
        return f"{self.field} ({label}): {self.message_en}"


class ValidationFailed(DeskError):
    """Raised by services when an input breaks a rule; nothing has been stored. Each error names its field."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, errors: list[FieldError] | None = None) -> None:
        self.errors: list[FieldError] = list(errors or [])
        super().__init__("；".join(e.describe("zh") for e in self.errors),
                         "; ".join(e.describe("en") for e in self.errors))

    def __str__(self) -> str:
        return "; ".join(e.describe() for e in self.errors)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValidationFailed) and type(other) is type(self) and other.errors == self.errors

    __hash__ = None  # type: ignore[assignment]  # compared by its errors, like the dataclass it was

    def describe(self, lang: str = "zh") -> str:
        return "\n".join(e.describe(lang) for e in self.errors)

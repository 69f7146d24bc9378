"""The invoice as issued: seller, buyer, lines and the totals derived from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class computed_once(Generic[T]):  # lower case: a decorator, as functools.cached_property
    """A property of a frozen (immutable) object, computed on first use and then read from the instance's
    __dict__ (a non-data descriptor: the attribute stored there is found first). functools.cached_property
    takes a lock on every first use in Python 3.11, costing more than the sums it spares here."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        if instance is None:
            return self  # type: ignore[return-value]  # the descriptor itself, looked up on the class
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


# The old pre-printed face held 8 lines, more going on a 销货清单 (legacy invoices only).
FACE_LINES = 8
# The platform refuses more than 5,000 lines (shudian-rules.md section 3); 2,000 is the advised ceiling.
MAX_LINES = 5000
ADVISED_LINES = 2000


class Rules(StrEnum):
    """Which rules an invoice was issued under. Stored invoices never change rules."""

    SHUDIAN = "shudian"  # 数电: every line under a tax classification code
    LEGACY = "legacy"  # issued by Fapiao Desk before it knew 数电 (schema 1): kept and printed as issued


class Medium(StrEnum):
    ELECTRONIC = "electronic"  # 电票: the data is the invoice
    PAPER = "paper"  # 纸票: on the tax bureau's pre-printed forms, platform channel only

    def label(self, lang: str = "zh") -> str:
        if lang == "zh":
            return "电子发票" if self is Medium.ELECTRONIC else "纸质发票"
        return "electronic" if self is Medium.ELECTRONIC else "paper"


class LineNature(StrEnum):
    NORMAL = "normal"  # 00
    DISCOUNT = "discount"  # 01 折扣行: follows the line it reduces
    DISCOUNTED = "discounted"  # 02 被折扣行: the line a discount reduces


class InvoiceKind(StrEnum):
    NORMAL = "normal"  # 增值税普通发票
    SPECIAL = "special"  # 增值税专用发票

    def label(self, lang: str = "zh") -> str:
        if lang == "zh":
            return "增值税普通发票" if self is InvoiceKind.NORMAL else "增值税专用发票"
        return "VAT ordinary invoice" if self is InvoiceKind.NORMAL else "VAT special invoice"


@dataclass(frozen=True)
class Party:
    name: str
    tax_id: str = ""
    address: str = ""
    phone: str = ""
    bank: str = ""
    account: str = ""
    # The buyer only (shudian-rules.md section 2): a natural person, with an ID given both ways or not at all.
    natural_person: bool = False
    id_type: str = ""
    id_number: str = ""

    @property
    def printed_name(self) -> str:
        return f"{self.name}（个人）" if self.natural_person else self.name


@dataclass(frozen=True)
class Line:
    name: str  # printed: *short_name*item_name under 数电 rules; typed freely on a legacy invoice
    tax_rate: str  # a code from app.core.tax.RATES ("exempt" and "not_taxed" carry policies 03 and 04)
    amount: Decimal  # excluding tax
    tax: Decimal
    spec: str = ""
    unit: str = ""
    quantity: Decimal | None = None
    unit_price: Decimal | None = None  # excluding tax, as printed
    nature: LineNature = LineNature.NORMAL
    tax_code: str = ""  # 19 digits; empty on a legacy line only
    short_name: str = ""
    item_name: str = ""
    policy: str | None = None  # 优惠政策标识 "01".."18"
    original_line_no: int | None = None  # on a red line: the blue line it reverses
    item_id: int | None = None  # the catalog item it came from, if any (kept locally, not sent)

    @property
    def discount(self) -> bool:
        """A 折扣行 that reduces the line before it."""
        return self.nature is LineNature.DISCOUNT

    @property
    def amount_with_tax(self) -> Decimal:
        return self.amount + self.tax


@dataclass(frozen=True)
class Invoice:
    kind: InvoiceKind
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    drawer: str
    number: str = ""
    issued_at: datetime | None = None
    offline: bool = True
    remarks: str = ""
    payee: str = ""
    reviewer: str = ""
    original_number: str | None = None  # set on a red-letter invoice
    prices_include_tax: bool = False  # how the clerk typed the prices; the face shows net prices
    confirmed_tax_ids: frozenset[str] = field(default_factory=frozenset)
    medium: Medium = Medium.ELECTRONIC
    rules: Rules = Rules.SHUDIAN
    drawer_id_type: str = ""
    drawer_id_number: str = ""
    show_seller_bank: bool = False
    show_buyer_bank: bool = False
    red_form_uuid: str | None = None
    # The form's 20-digit number (红字发票信息确认单编号), printed on the face and in the XML; the protocol
    # body carries the uuid only, so this comes from the desk's form, not from the body.
    red_form_number: str | None = None
    red_reason: str | None = None  # "01".."04" on a red invoice under 数电 rules
    # The buyer's name of 4 characters or fewer that the clerk confirmed is not a natural person.
    confirmed_short_name: bool = False

    # The totals are summed once per invoice, on first use: the invoice is frozen and its lines a tuple of frozen
    # lines, so they cannot change after (computed_once writes the instance's __dict__, which a frozen
    # dataclass allows; the fields alone are compared and hashed, and dataclasses.replace builds a new invoice).
    @computed_once
    def total_amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @computed_once
    def total_tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), Decimal("0.00"))

    @computed_once
    def total_with_tax(self) -> Decimal:
        return self.total_amount + self.total_tax

    @property
    def is_red_letter(self) -> bool:
        return self.original_number is not None

    @property
    def is_legacy(self) -> bool:
        return self.rules is Rules.LEGACY

    @property
    def needs_sales_list(self) -> bool:
        """A legacy invoice with more lines than its face held: the face says (详见销货清单)."""
        return self.is_legacy and len(self.lines) > FACE_LINES

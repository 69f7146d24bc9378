"""The invoice as issued: seller, buyer, lines and the totals derived from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

# The face of a VAT invoice holds 8 lines, discount lines included; more go on a 销货清单.
FACE_LINES = 8
MAX_LINES = 2000


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


@dataclass(frozen=True)
class Line:
    name: str
    tax_rate: str  # a code from app.core.tax.RATES
    amount: Decimal  # excluding tax
    tax: Decimal
    spec: str = ""
    unit: str = ""
    quantity: Decimal | None = None
    unit_price: Decimal | None = None  # excluding tax, as printed
    discount: bool = False  # a 折扣行 that reduces the line before it

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

    @property
    def total_amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def total_tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), Decimal("0.00"))

    @property
    def total_with_tax(self) -> Decimal:
        return self.total_amount + self.total_tax

    @property
    def is_red_letter(self) -> bool:
        return self.original_number is not None

    @property
    def needs_sales_list(self) -> bool:
        """More lines than the face holds: the face says (详见销货清单)."""
        return len(self.lines) > FACE_LINES

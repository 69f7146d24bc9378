"""Tax rates in force and the arithmetic of one invoice line."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.core.money import PRICE_PLACES, to_money, to_places


@dataclass(frozen=True)
class TaxRate:
    code: str  # as sent in the protocol: "0.13", ..., "0", "exempt", "not_taxed"
    rate: Decimal
    label_zh: str
    label_en: str

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en


RATES: tuple[TaxRate, ...] = (
    TaxRate("0.13", Decimal("0.13"), "13%", "13%"),
    TaxRate("0.09", Decimal("0.09"), "9%", "9%"),
    TaxRate("0.06", Decimal("0.06"), "6%", "6%"),
    TaxRate("0.05", Decimal("0.05"), "5%", "5%"),
    TaxRate("0.03", Decimal("0.03"), "3%", "3%"),
    TaxRate("0.015", Decimal("0.015"), "1.5%", "1.5%"),  # 5 % reduced to 1.5 %: policy 10 only
    TaxRate("0.01", Decimal("0.01"), "1%", "1%"),
    TaxRate("0", Decimal("0"), "0%", "0%"),
    # 免税 and 不征税 print a mark instead of a rate; their tax is zero (printed as ***).
    TaxRate("exempt", Decimal("0"), "免税", "tax-free"),
    TaxRate("not_taxed", Decimal("0"), "不征税", "not taxed"),
)
_BY_CODE = {r.code: r for r in RATES}
_ALIASES = {"免税": "exempt", "不征税": "not_taxed", "0.00": "0", "0.0": "0"}


def find_rate(text: object) -> TaxRate | None:
    """A rate by its code, its label (13%, 免税) or a decimal string equal to one in force."""
    if isinstance(text, (int, Decimal)) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        return None
    key = text.strip()
    key = _ALIASES.get(key, key)
    if key in _BY_CODE:
        return _BY_CODE[key]
    if key.endswith("%"):
        try:
            value = Decimal(key[:-1]) / 100
        except ArithmeticError:
            return None
    else:
        try:
            value = Decimal(key)
        except ArithmeticError:
            return None
    for rate in RATES:
        if rate.code not in ("exempt", "not_taxed") and rate.rate == value:
            return rate
    return None


@dataclass(frozen=True)
class LineFigures:
    amount: Decimal  # 金额, excluding tax
    tax: Decimal  # 税额
    unit_price: Decimal | None  # 单价 excluding tax, as printed


def line_from_net_price(quantity: Decimal, unit_price: Decimal, rate: Decimal) -> LineFigures:
    """Price excluding tax: amount = q × p, tax = amount × rate, each to the fen."""
    amount = to_money(quantity * unit_price)
    return LineFigures(amount, to_money(amount * rate), unit_price)


def split_gross(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """What the buyer pays, split into amount and tax so that the two add up to it to the fen.

    The tax is rounded first and the amount is the rest, as the tax-control systems do.
    """
    gross = to_money(gross)
    tax = to_money(gross * rate / (1 + rate))
    return gross - tax, tax


def line_from_gross_price(quantity: Decimal, gross_unit_price: Decimal, rate: Decimal) -> LineFigures:
    """Price including tax: gross = q × p; tax = gross × rate ÷ (1 + rate); amount = gross − tax.

    The printed unit price excludes tax and keeps 8 decimals, so q × price stays within a fen of amount.
    """
    amount, tax = split_gross(quantity * gross_unit_price, rate)
    net_price = None
    if quantity:
        net_price = to_places(amount / quantity, PRICE_PLACES)
    return LineFigures(amount, tax, net_price)


def tax_on(amount: Decimal, rate: Decimal) -> Decimal:
    return to_money(amount * rate)

"""Money is Decimal end to end, rounded ROUND_HALF_UP to the fen (0.01)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Unit prices keep up to 8 decimals, as the tax-control systems do.
PRICE_PLACES = Decimal("0.00000001")
QUANTITY_PLACES = Decimal("0.00000001")


def to_money(value: Decimal | int | str) -> Decimal:
    """Round to the fen, half up (0.005 -> 0.01); never -0.00 (the store keeps fen, which have no sign of zero,
    so a -0.00 would write a body whose hash the stored invoice could never give again)."""
    rounded = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def to_places(value: Decimal, places: Decimal) -> Decimal:
    """Round half up to the given places and drop trailing zeros (keeping at least 0)."""
    rounded = Decimal(value).quantize(places, rounding=ROUND_HALF_UP)
    normalized = rounded.normalize()
    # normalize() may give exponent notation such as 1E+3; turn it back into plain digits.
    if normalized == normalized.to_integral_value():
        return normalized.quantize(Decimal(1))
    return normalized


def parse_decimal(text: object) -> Decimal | None:
    """Parse a decimal from text or a number; None when it is not a finite number.

    Floats are refused on purpose: a float cannot carry an exact amount.
    """
    if isinstance(text, (bool, float)):
        return None
    if isinstance(text, Decimal):
        value = text
    elif isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, str):
        cleaned = text.strip().replace(",", "").replace("，", "")
        if not cleaned:
            return None
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            return None
    else:
        return None
    if not value.is_finite():
        return None
    return value


def format_money(value: Decimal) -> str:
    """Two places, no grouping: the protocol's form ("1234.56")."""
    return f"{to_money(value):f}"


def format_money_grouped(value: Decimal) -> str:
    """Two places with thousands separators, for display ("1,234.56")."""
    return f"{to_money(value):,.2f}"


def format_plain(value: Decimal | None) -> str:
    """A quantity or unit price as plain digits, no exponent, no trailing zeros."""
    if value is None:
        return ""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"

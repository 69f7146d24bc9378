from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.capitals import DIGITS, amount_in_capitals


@pytest.mark.parametrize(
    "amount, expected",
    [
        ("1005.00", "壹仟零伍元整"),
        ("100.10", "壹佰元壹角整"),
        ("0.05", "伍分"),
        ("12.345", "壹拾贰元叁角伍分"),  # rounds half up to 12.35
        ("0", "零元整"),
        ("0.50", "伍角整"),
        ("10", "壹拾元整"),
        ("1010", "壹仟零壹拾元整"),
        ("10005", "壹万零伍元整"),
        ("100000", "壹拾万元整"),
        ("100100", "壹拾万零壹佰元整"),
        ("1000000000", "壹拾亿元整"),
        ("100010000", "壹亿零壹万元整"),
        ("100.05", "壹佰元零伍分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("20000.5", "贰万元伍角整"),
        ("60000000.06", "陆仟万元零陆分"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("0.004", "零元整"),
        ("0.005", "壹分"),
    ],
)
def test_capitals_by_the_rules(amount, expected):
    assert amount_in_capitals(Decimal(amount), yuan="元") == expected


def test_invoices_print_yuan_as_圆_and_red_letter_as_negative():
    assert amount_in_capitals(Decimal("1060.00")) == "壹仟零陆拾圆整"
    assert amount_in_capitals(Decimal("-1060.00")) == "(负数)壹仟零陆拾圆整"


def test_too_large_is_refused():
    with pytest.raises(ValueError):
        amount_in_capitals(Decimal("1000000000000"))


def _read_back(text: str) -> Decimal:
    """An independent reader of capitals, to check the writer by property."""
    units = {"拾": 10, "佰": 100, "仟": 1000}
    total = Decimal(0)
    yi_part = wan_part = section = 0
    digit = 0
    body, _, rest = text.partition("元") if "元" in text else ("", "", text)
    for ch in body:
        if ch in DIGITS:
            digit = DIGITS.index(ch)
        elif ch in units:
            section += digit * units[ch]
            digit = 0
        elif ch == "万":
            wan_part = (section + digit) * 10000
            section = digit = 0
        elif ch == "亿":
            yi_part = (wan_part + section + digit) * 100000000
            wan_part = section = digit = 0
    total = Decimal(yi_part + wan_part + section + digit)
    jiao = rest.split("角")[0][-1] if "角" in rest else None
    fen = rest.split("分")[0][-1] if "分" in rest else None
    if jiao:
        total += Decimal(DIGITS.index(jiao)) / 10
    if fen:
        total += Decimal(DIGITS.index(fen)) / 100
    return total


@given(st.integers(min_value=1, max_value=999_999_999_999_99))
def test_capitals_read_back_to_the_amount(fen):
    amount = Decimal(fen) / 100
    text = amount_in_capitals(amount, yuan="元")
    assert _read_back(text) == amount
    assert "零零" not in text
    assert not text.startswith("零")
    # 整 closes an amount that ends at 元 or 角, and never one that has 分.
    assert text.endswith("整") == (fen % 10 == 0)

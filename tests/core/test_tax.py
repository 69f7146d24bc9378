from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.money import to_money
from app.core.tax import RATES, find_rate, line_from_gross_price, line_from_net_price, split_gross

rates = st.sampled_from([r.rate for r in RATES])
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=8)


def test_rounding_is_half_up_to_the_fen():
    assert to_money(Decimal("0.005")) == Decimal("0.01")
    assert to_money(Decimal("2.675")) == Decimal("2.68")  # a float would give 2.67
    assert to_money(Decimal("-0.005")) == Decimal("-0.01")


def test_price_excluding_tax():
    figures = line_from_net_price(Decimal("3"), Decimal("33.333333"), Decimal("0.06"))
    assert figures.amount == Decimal("100.00")
    assert figures.tax == Decimal("6.00")


def test_price_including_tax_rounds_the_tax_first():
    figures = line_from_gross_price(Decimal("3"), Decimal("100"), Decimal("0.13"))
    # tax = round(300 × 0.13 / 1.13) = round(34.5132...) = 34.51; amount = 300 − 34.51
    assert figures.tax == Decimal("34.51")
    assert figures.amount == Decimal("265.49")
    assert figures.unit_price == Decimal("88.49666667")


@given(quantities, prices, rates)
def test_gross_split_adds_up_to_what_the_buyer_pays(quantity, price, rate):
    gross = to_money(quantity * price)
    figures = line_from_gross_price(quantity, price, rate)
    assert figures.amount + figures.tax == gross
    assert figures.tax == to_money(gross * rate / (1 + rate))
    # The printed net unit price keeps 8 decimals and stays within a fen of the amount.
    assert abs(quantity * figures.unit_price - figures.amount) <= Decimal("0.01")


@given(quantities, prices, rates)
def test_net_line_amount_plus_tax_is_the_line_total(quantity, price, rate):
    figures = line_from_net_price(quantity, price, rate)
    assert figures.amount == to_money(quantity * price)
    assert figures.tax == to_money(figures.amount * rate)
    assert abs(quantity * price - figures.amount) <= Decimal("0.005")


@given(st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2), rates)
def test_split_gross_is_exact_for_negative_amounts_too(gross, rate):
    amount, tax = split_gross(gross, rate)
    assert amount + tax == gross


@pytest.mark.parametrize("text, code", [("0.13", "0.13"), ("13%", "0.13"), ("0.060", "0.06"), ("6", None),
                                        ("免税", "exempt"), ("不征税", "not_taxed"), ("0%", "0"), ("0.07", None),
                                        ("abc", None), (None, None), ("", None)])
def test_rates_in_force(text, code):
    rate = find_rate(text)
    assert (rate.code if rate else None) == code

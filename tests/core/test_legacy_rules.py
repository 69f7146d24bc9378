"""The rules Fapiao Desk issued under before 数电 (app.core.legacy): still read for the invoices issued then."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.codec import invoice_to_body
from app.core.errors import ValidationFailed
from app.core.invoice import FACE_LINES
from app.core.legacy import parse_legacy_invoice as parse_invoice
from app.core.tax import RATES

SELLER = {"name": "北京某某科技有限公司", "tax_id": "91110108MA0123456G"}
BUYER = {"name": "北京客户贸易有限公司", "tax_id": "91110000600037341L"}


def body(**overrides):
    value = {"seller": SELLER, "buyer": BUYER, "drawer": "张三",
             "lines": [{"name": "*信息技术服务*软件开发", "quantity": "1", "unit_price": "1000", "tax_rate": "0.06"}]}
    value.update(overrides)
    return value


def errors_of(draft, **kwargs):
    with pytest.raises(ValidationFailed) as caught:
        parse_invoice(draft, **kwargs)
    return {e.field: e for e in caught.value.errors}


def test_amounts_are_computed_when_left_out():
    invoice = parse_invoice(body())
    assert (invoice.total_amount, invoice.total_tax, invoice.total_with_tax) == (
        Decimal("1000.00"), Decimal("60.00"), Decimal("1060.00"))


def test_every_error_names_its_field_in_both_languages():
    found = errors_of(body(buyer={"name": "", "tax_id": "123"}, drawer="",
                           lines=[{"name": "", "quantity": "-1", "unit_price": "abc", "tax_rate": "0.07"}]))
    assert set(found) == {"buyer.name", "buyer.tax_id", "drawer", "lines[0].name", "lines[0].quantity",
                          "lines[0].unit_price", "lines[0].tax_rate"}
    assert found["lines[0].quantity"].describe().startswith("第1行数量：")
    assert "line 1 quantity" in found["lines[0].quantity"].describe("en")


def test_a_total_that_does_not_add_up():
    found = errors_of(body(total_with_tax="1000.00"))
    assert "total_with_tax" in found and "1060.00" in found["total_with_tax"].message_zh


def test_given_amount_must_match_quantity_times_price():
    found = errors_of(body(lines=[{"name": "x", "quantity": "2", "unit_price": "10", "amount": "20.02",
                                   "tax_rate": "0.13"}]))
    assert "lines[0].amount" in found
    assert parse_invoice(body(lines=[{"name": "x", "quantity": "3", "unit_price": "3.333", "amount": "10.00",
                                      "tax_rate": "0.13"}])).lines[0].amount == Decimal("10.00")


def test_money_is_never_a_float():
    found = errors_of(body(lines=[{"name": "x", "quantity": 1, "unit_price": 10.5, "tax_rate": "0.13"}]))
    assert "lines[0].unit_price" in found


def test_unit_prices_keep_at_most_thirteen_decimals():
    assert "lines[0].unit_price" in errors_of(
        body(lines=[{"name": "x", "quantity": "1", "unit_price": "1.12345678901234", "tax_rate": "0.13"}]))


def test_special_invoice_requires_the_buyer_block():
    found = errors_of(body(kind="special", buyer={"name": "客户"}))
    assert {"buyer.tax_id", "buyer.address", "buyer.phone", "buyer.bank", "buyer.account"} <= set(found)


def test_natural_person_buyer_may_have_no_id_on_an_ordinary_invoice():
    assert parse_invoice(body(buyer={"name": "王五"})).buyer.tax_id == ""


def test_failed_check_character_needs_confirmation():
    draft = body(buyer={"name": "客户", "tax_id": "91110000600037341A"})
    found = errors_of(draft)
    assert found["buyer.tax_id"].overridable
    invoice = parse_invoice(draft, confirmed_tax_ids=["91110000600037341A"])
    assert invoice.confirmed_tax_ids == frozenset({"91110000600037341A"})


def test_rates_not_in_force_and_unknown_kinds():
    found = errors_of(body(kind="vip", lines=[{"name": "x", "quantity": "1", "unit_price": "1", "tax_rate": "17%"}]))
    assert {"kind", "lines[0].tax_rate"} <= set(found)


def test_discount_line_reduces_the_line_before():
    invoice = parse_invoice(body(lines=[
        {"name": "*办公设备*打印机", "quantity": "1", "unit_price": "1000", "tax_rate": "0.13"},
        {"name": "*办公设备*打印机", "amount": "-100.00", "tax_rate": "0.13", "discount": True}]))
    assert invoice.total_amount == Decimal("900.00") and invoice.total_tax == Decimal("117.00")
    found = errors_of(body(lines=[
        {"name": "a", "quantity": "1", "unit_price": "10", "tax_rate": "0.13"},
        {"name": "a", "amount": "-20.00", "tax_rate": "0.13", "discount": True}]))
    assert "lines[1].amount" in found


def test_red_letter_is_negative_and_names_the_original():
    invoice = parse_invoice(body(original_number="LX-0000001",
                                 lines=[{"name": "x", "quantity": "-1", "unit_price": "1000", "tax_rate": "0.06"}]))
    assert invoice.total_with_tax == Decimal("-1060.00") and invoice.is_red_letter
    assert "lines[0].quantity" in errors_of(body(lines=[{"name": "x", "quantity": "-1", "unit_price": "5",
                                                           "tax_rate": "0.06"}]))


def test_many_lines_go_on_a_sales_list():
    lines = [{"name": f"item {i}", "quantity": "1", "unit_price": "1", "tax_rate": "0.13"}
             for i in range(FACE_LINES + 1)]
    assert parse_invoice(body(lines=lines)).needs_sales_list
    assert not parse_invoice(body(lines=lines[:FACE_LINES])).needs_sales_list


def test_not_an_object():
    assert "invoice" in errors_of(["x"])
    assert "lines" in errors_of(body(lines=[]))


line_strategy = st.fixed_dictionaries({
    "name": st.text(alphabet="商品服务abc", min_size=1, max_size=10),
    "quantity": st.decimals(min_value=Decimal("1"), max_value=Decimal("9999"), places=2).map(str),
    "unit_price": st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=4).map(str),
    "tax_rate": st.sampled_from([r.code for r in RATES]),
})


@settings(max_examples=150)
@given(st.lists(line_strategy, min_size=1, max_size=12), st.booleans())
def test_totals_always_add_up_and_the_body_round_trips(lines, gross):
    invoice = parse_invoice(body(lines=lines, prices_include_tax=gross))
    for line in invoice.lines:
        assert line.amount + line.tax == line.amount_with_tax
    assert invoice.total_amount + invoice.total_tax == invoice.total_with_tax
    assert invoice.total_amount == sum(line.amount for line in invoice.lines)
    # The computed body, with every amount given, is accepted as it stands (what the platform checks).
    again = parse_invoice(invoice_to_body(invoice))
    assert again.lines == invoice.lines and again.total_with_tax == invoice.total_with_tax


def test_errors_in_a_list_name_the_invoice_too():
    from app.core.errors import FieldError

    error = FieldError("[1]lines[0].tax_rate", "不是现行税率", "not a rate in force")
    assert error.describe() == "第2张发票第1行税率/征收率：不是现行税率"
    assert error.describe("en") == "invoice 2 line 1 tax rate: not a rate in force"


def test_with_prices_including_tax_an_amount_only_line_is_gross_too():
    invoice = parse_invoice(body(prices_include_tax=True, lines=[
        {"name": "*办公设备*打印机", "quantity": "1", "unit_price": "1130", "tax_rate": "0.13"},
        {"name": "*办公设备*打印机", "amount": "-113.00", "tax_rate": "0.13", "discount": True}]))
    goods, discount = invoice.lines
    assert (goods.amount, goods.tax) == (Decimal("1000.00"), Decimal("130.00"))
    assert (discount.amount, discount.tax) == (Decimal("-100.00"), Decimal("-13.00"))
    assert invoice.total_with_tax == Decimal("1017.00")
    # The body as computed (net amounts, no flag) reads back the same.
    assert parse_invoice(invoice_to_body(invoice)).lines == invoice.lines

"""The 数电 rules (shudian-rules.md sections 2 and 3) held to the shipped tax classification table."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.base.resources import read_tax_code_rows
from app.core.codec import invoice_to_body
from app.core.errors import ValidationFailed
from app.core.invoice import LineNature, Medium, Rules
from app.core.money import to_money
from app.core.taxcodes import POLICY_BY_FLAG, codes_from_table
from app.core.validation import LINE_TAX_TOLERANCE, TOTAL_TAX_TOLERANCE, parse_invoice
from tests.helpers.bodies import CABBAGE, PRINTER, SOFTWARE

CODES = {code.code: code for code in codes_from_table(read_tax_code_rows())}
SELLER = {"name": "北京某某科技有限公司", "tax_id": "91110108MA0123456G"}
BUYER = {"name": "北京客户贸易有限公司", "tax_id": "91110000600037341L"}
SUMMARY = "1090511000000000000"  # 电子计算机外部设备及装置: a summary row
LEASE = "3040502020102000000"  # 个人出租住房: 9 %, policies 10 (1.5 %) and 09 (5 %)
TOLL = "3040502020301000000"  # 高速公路通行服务: 9 %, policies 08 and 04 (不征税)


def line(code=SOFTWARE, item="软件开发", **values):
    return {"tax_code": code, "item_name": item, "quantity": "1", "unit_price": "1000", "tax_rate": "0.06", **values}


def body(**overrides):
    value = {"seller": SELLER, "buyer": BUYER, "drawer": "张三", "lines": [line()]}
    value.update(overrides)
    return value


def parse(draft, **kwargs):
    return parse_invoice(draft, codes=CODES, **kwargs)


def errors_of(draft, **kwargs):
    with pytest.raises(ValidationFailed) as caught:
        parse(draft, **kwargs)
    return {e.field: e for e in caught.value.errors}


def test_the_printed_name_is_assembled_from_the_code():
    invoice = parse(body())
    only = invoice.lines[0]
    assert (only.tax_code, only.short_name, only.item_name, only.name) == (
        SOFTWARE, "信息技术服务", "软件开发", "*信息技术服务*软件开发")
    assert (invoice.rules, invoice.medium, only.nature) == (Rules.SHUDIAN, Medium.ELECTRONIC, LineNature.NORMAL)
    assert invoice.total_with_tax == Decimal("1060.00")


def test_a_name_or_short_name_that_is_not_the_codes_is_refused():
    found = errors_of(body(lines=[line(name="*软件*软件开发", short_name="软件")]))
    assert {"lines[0].name", "lines[0].short_name"} <= set(found)
    assert "*信息技术服务*软件开发" in found["lines[0].name"].message_zh
    assert "lines[0].item_name" in errors_of(body(lines=[line(item="*信息技术服务*软件开发")]))


def test_held_to_the_table_summary_unknown_and_withdrawn_codes():
    found = errors_of(body(lines=[line(code=SUMMARY, item="打印机", tax_rate="0.13"),
                                  line(code="3049999999999999999", item="x"),
                                  line(code="12345", item="x")]))
    assert "汇总项" in found["lines[0].tax_code"].message_zh
    assert "不在现行税收分类编码表" in found["lines[1].tax_code"].message_zh
    assert "19位" in found["lines[2].tax_code"].message_zh
    withdrawn = dict(CODES)
    withdrawn[SOFTWARE] = CODES[SOFTWARE].__class__(**{**CODES[SOFTWARE].__dict__, "usable": False})
    with pytest.raises(ValidationFailed) as caught:
        parse_invoice(body(), codes=withdrawn)
    error = caught.value.errors[0]
    assert error.field == "lines[0].tax_code" and SOFTWARE in error.message_zh and "停用" in error.message_zh
    assert "line 1 tax classification code" in error.describe("en")
    # An invoice accepted before its code was withdrawn is still read (reconciliation, the platform's records).
    assert parse_invoice(body(), codes=withdrawn, withdrawn_ok=True).lines[0].tax_code == SOFTWARE


def test_telecom_summary_codes_are_allowed_at_their_rate():
    basic = parse(body(lines=[line(code="3030100000000000000", item="通信费", tax_rate="0.09")]))
    assert basic.lines[0].name == "*电信服务*通信费"
    assert "lines[0].tax_rate" in errors_of(body(lines=[line(code="3030100000000000000", item="x")]))


def test_a_codes_disallowed_rate_is_refused():
    found = errors_of(body(lines=[line(tax_rate="0.13")]))
    assert "6%" in found["lines[0].tax_rate"].message_zh and SOFTWARE in found["lines[0].tax_rate"].message_zh
    # Two rates listed (13 %、9 %): either is taken.
    for rate in ("0.13", "0.09"):
        parse(body(lines=[line(code="1010112140000000000", item="绿豆芽", tax_rate=rate)]))


def test_policies_force_their_rates_and_must_be_allowed_by_the_code():
    exempt = parse(body(lines=[line(code=CABBAGE, item="白菜", tax_rate="0", policy="03")])).lines[0]
    assert (exempt.tax_rate, exempt.policy, exempt.tax) == ("exempt", "03", Decimal("0.00"))
    assert invoice_to_body(parse(body(lines=[line(code=CABBAGE, item="白菜", tax_rate="免税")])))["lines"][0][
        "tax_rate"] == "0"
    found = errors_of(body(lines=[line(code=CABBAGE, item="白菜", tax_rate="0.09", policy="03"),
                                  line(policy="03", tax_rate="0"),
                                  line(code=LEASE, item="住房租金", tax_rate="0.05", policy="10"),
                                  line(policy="99")]))
    assert "税率应为0" in found["lines[0].tax_rate"].message_zh
    assert "不适用优惠政策03" in found["lines[1].policy"].message_zh
    assert "1.5%" in found["lines[2].tax_rate"].message_zh
    assert "01至18" in found["lines[3].policy"].message_zh
    lease = parse(body(lines=[line(code=LEASE, item="住房租金", tax_rate="0.015", policy="10")])).lines[0]
    assert (lease.tax_rate, lease.tax) == ("0.015", Decimal("15.00"))
    assert parse(body(lines=[line(code=LEASE, item="住房租金", tax_rate="0.05", policy="09")])).total_tax == 50


def test_not_taxed_and_reduced_lease_stand_alone():
    toll = line(code=TOLL, item="通行费", tax_rate="0", policy="04")
    assert parse(body(lines=[toll, line()])).lines[0].tax_rate == "not_taxed"  # no policy on the other line
    found = errors_of(body(lines=[toll, line(code=TOLL, item="通行费", tax_rate="0.03", policy="08")]))
    assert "不能与其他优惠政策" in found["lines"].message_zh


def test_small_taxpayers_invoice_at_collection_rates():
    assert parse(body(lines=[line(tax_rate="0.03")]), taxpayer_type="small").total_tax == Decimal("30.00")
    assert parse(body(lines=[line(tax_rate="0.01")]), taxpayer_type="small").total_tax == Decimal("10.00")
    assert "小规模纳税人" in errors_of(body(), taxpayer_type="small")["lines[0].tax_rate"].message_zh


def test_a_special_invoice_needs_only_the_buyers_name_and_tax_id():
    assert "buyer.tax_id" in errors_of(body(kind="special", buyer={"name": "北京客户贸易有限公司"}))
    invoice = parse(body(kind="special", buyer=BUYER))
    assert invoice.buyer.address == "" and invoice.kind.value == "special"


def test_natural_person_and_the_short_name_prompt():
    person = parse(body(buyer={"name": "王小五", "natural_person": True, "id_type": "201",
                               "id_number": "110101199003071234"}))
    assert person.buyer.printed_name == "王小五（个人）" and person.buyer.tax_id == ""
    found = errors_of(body(buyer={"name": "王", "natural_person": True}))
    assert "多于1个字" in found["buyer.name"].message_zh
    short = errors_of(body(buyer={"name": "小王商店"}))["buyer.name"]
    assert short.overridable and "自然人" in short.message_zh
    assert parse(body(buyer={"name": "小王商店"}), confirmed_short_name=True).confirmed_short_name
    found = errors_of(body(buyer={"name": "王小五", "natural_person": True, "id_type": "201"}))
    assert "buyer.id_number" in found
    assert "buyer.id_type" in errors_of(body(buyer={"name": "王小五", "natural_person": True, "id_type": "999",
                                                    "id_number": "1"}))


def test_failed_check_character_needs_confirmation():
    draft = body(buyer={"name": "北京客户贸易有限公司", "tax_id": "91110000600037341A"})
    assert errors_of(draft)["buyer.tax_id"].overridable
    assert parse(draft, confirmed_tax_ids=["91110000600037341A"]).confirmed_tax_ids == {"91110000600037341A"}


def test_discounts_follow_their_line_and_take_its_code():
    invoice = parse(body(lines=[line(code=PRINTER, item="激光打印机", tax_rate="0.13"),
                                {"nature": "discount", "amount": "-100.00"}]))
    goods, discount = invoice.lines
    assert (goods.nature, discount.nature) == (LineNature.DISCOUNTED, LineNature.DISCOUNT)
    assert discount.name == goods.name and discount.tax == Decimal("-13.00")
    assert invoice.total_amount == Decimal("900.00")
    found = errors_of(body(lines=[{"nature": "discount", "tax_code": SOFTWARE, "item_name": "软件开发",
                                   "amount": "-1.00", "tax_rate": "0.06"}]))
    assert "lines[0].nature" in found
    found = errors_of(body(lines=[line(), {"nature": "discount", "amount": "-2000.00", "quantity": "1"}]))
    assert {"lines[1].quantity"} <= set(found)
    assert "lines[1].amount" in errors_of(body(lines=[line(), {"nature": "discount", "amount": "-2000.00"}]))


def test_figures_keep_the_tolerances():
    assert "lines[0].amount" in errors_of(body(lines=[line(quantity="2", unit_price="10", amount="20.02")]))
    assert "lines[0].tax" in errors_of(body(lines=[line(amount="1000.00", tax="60.07")]))
    assert parse(body(lines=[line(amount="1000.00", tax="60.06")])).total_tax == Decimal("60.06")
    # Each line within 0.06, the sum drifting past 1.27: the total tax is refused.
    drift = [line(quantity="", unit_price="", amount="0.50", tax="0.06") for _ in range(50)]
    assert "total_tax" in errors_of(body(lines=drift))
    assert "lines[0].amount_with_tax" in errors_of(body(lines=[line(amount_with_tax="1000.00")]))


def test_limits_of_the_protocol():
    assert "lines" in errors_of(body(lines=[line()] * 5001))
    assert "remarks" in errors_of(body(remarks="备" * 451))
    assert "lines[0].item_name" in errors_of(body(lines=[line(item="名" * 601)]))
    assert "remarks" in errors_of(body(remarks="\\u4e2d文"))
    assert "deduction" in errors_of(body(deduction={"type": "full", "amount": "1"}))
    assert "lines[0].quantity" in errors_of(body(lines=[line(quantity="1e400")]))
    assert "lines[0].unit_price" in errors_of(body(lines=[line(unit_price="9" * 30)]))


def test_red_invoices_are_negative_with_their_reason():
    red = parse(body(original_number="26112000000000000123", red_reason="01",
                     lines=[line(quantity="-1", original_line_no=1)]))
    assert red.is_red_letter and red.total_with_tax == Decimal("-1060.00") and red.red_reason == "01"
    assert invoice_to_body(red)["red"] is True and invoice_to_body(red)["lines"][0]["original_line_no"] == 1
    assert "red_reason" in errors_of(body(original_number="1", red_reason="05", lines=[line(quantity="-1")]))
    assert "red_reason" in errors_of(body(red_reason="01"))


def test_not_an_object():
    assert "invoice" in errors_of(["x"])
    assert "lines" in errors_of(body(lines=[]))
    assert "lines[0]" in errors_of(body(lines=["x"]))


# --- properties ------------------------------------------------------------------------------------

LEAVES = sorted((c for c in CODES.values() if c.allowed_on_a_line and c.line_rates), key=lambda c: c.code)


def _line_for(code, item, rate, quantity, price):
    return {"tax_code": code.code, "item_name": item, "quantity": quantity, "unit_price": price, "tax_rate": rate}


@st.composite
def lines_held_to_the_table(draw):
    code = draw(st.sampled_from(LEAVES))
    item = draw(st.text(alphabet="商品服务维修软件abc12", min_size=1, max_size=20))
    choices = [(rate, None) for rate in code.line_rates]
    choices += [(sorted(POLICY_BY_FLAG[p].rates or code.line_rates)[0], p) for p in code.policies
                if p not in ("04", "10")]  # the policies that stand alone get their own property below
    rate, policy = draw(st.sampled_from(choices))
    raw = _line_for(code, item, rate, draw(st.decimals("1", "9999", places=3).map(str)),
                    draw(st.decimals("0.01", "99999", places=6).map(str)))
    if policy:
        raw["policy"] = policy
        if policy == "03":
            raw["tax_rate"] = "0"
    return raw


@settings(max_examples=200, deadline=None)
@given(st.lists(lines_held_to_the_table(), min_size=1, max_size=15), st.booleans())
def test_every_name_is_assembled_and_every_tolerance_holds(lines, gross):
    invoice = parse(body(lines=lines, prices_include_tax=gross))
    for given_line, line_ in zip(lines, invoice.lines, strict=True):
        code = CODES[given_line["tax_code"]]
        assert line_.name == f"*{code.short_name}*{given_line['item_name'].strip()}"
        assert line_.amount + line_.tax == line_.amount_with_tax
        rate = Decimal(0) if line_.tax_rate in ("exempt", "not_taxed") else Decimal(line_.tax_rate)
        assert abs(to_money(line_.amount * rate) - line_.tax) <= LINE_TAX_TOLERANCE
        if line_.quantity is not None and line_.unit_price is not None:
            assert abs(line_.quantity * line_.unit_price - line_.amount) <= Decimal("0.01")
    unrounded = sum(line_.amount * (Decimal(0) if line_.tax_rate in ("exempt", "not_taxed")
                                    else Decimal(line_.tax_rate)) for line_ in invoice.lines)
    assert abs(unrounded - invoice.total_tax) <= TOTAL_TAX_TOLERANCE
    assert invoice.total_amount + invoice.total_tax == invoice.total_with_tax
    # The computed body, every amount given, is taken as it stands (what the platform checks) and
    # writes the same body again.
    written = invoice_to_body(invoice)
    again = parse(written)
    assert again.lines == tuple(
        line_.__class__(**{**line_.__dict__, "item_id": None}) for line_ in invoice.lines)
    assert invoice_to_body(again) == written


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(["0.03", "0.05", "0.01"]), st.decimals("0.01", "99999", places=2).map(str))
def test_small_taxpayer_rates_hold_for_any_code(rate, price):
    code = LEAVES[hash(price) % len(LEAVES)]
    invoice = parse(body(lines=[_line_for(code, "项目", rate, "1", price)]), taxpayer_type="small")
    assert invoice.total_tax == to_money(Decimal(price) * Decimal(rate))

"""The rules checked by the desk before anything is recorded or sent: each reason's rule, the lines quoting the
blue invoice, discounts spread onto their lines, and never more than what is left of the blue invoice after
every red invoice and every open form; two forms racing for the same remainder: one refused."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from app.core.errors import ValidationFailed
from app.services import red_forms
from app.services.issuing import issue_invoice
from app.store.models import RedLetterForm
from app.store.red_forms import list_forms
from tests.helpers.bodies import BUYER_TAX_ID, PRINTER, SOFTWARE, invoice_body
from tests.red_forms.support import accepted_blue, drain, two_lines


def refused(blue: str, reason: str, lines=None) -> tuple[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        red_forms.record_request(blue, reason, lines)
    error = caught.value.errors[0]
    return error.field, error.message_zh


def test_each_reasons_rule_is_refused_where_broken(online, client):
    blue = accepted_blue(online)  # line 1 a service (2 × 500), line 2 goods (10 × 100)
    before = RedLetterForm.select().count()
    # 02 销货退回: never on a service code; needs a quantity; keeps the unit price.
    assert refused(blue, "02", [{"original_line_no": 1, "quantity": "1"}])[1].count("服务编码") == 1
    assert refused(blue, "02", [{"original_line_no": 2, "amount": "100"}])[0] == "lines[0].quantity"
    assert refused(blue, "02", [{"original_line_no": 2, "quantity": "1", "amount": "150"}])[0] == "lines[0].amount"
    # 03 服务中止: never on a goods code; keeps the unit price.
    assert "货物编码" in refused(blue, "03", [{"original_line_no": 2, "amount": "100"}])[1]
    assert refused(blue, "03", [{"original_line_no": 1, "quantity": "1", "amount": "200"}])[0] == "lines[0].amount"
    # 04 销售折让: no quantity, no unit price.
    assert refused(blue, "04", [{"original_line_no": 1, "quantity": "1", "amount": "100"}])[0] == "lines[0].quantity"
    assert refused(blue, "04", [{"original_line_no": 1, "amount": "100", "unit_price": "100"}])[0] == \
        "lines[0].unit_price"
    # Any reason: a line of the blue invoice, once, not above it; a known reason.
    assert refused(blue, "01", [{"original_line_no": 3, "amount": "1"}])[0] == "lines[0].original_line_no"
    assert refused(blue, "01", [{"original_line_no": 1, "amount": "1"},
                                {"original_line_no": 1, "amount": "1"}])[0] == "lines[1].original_line_no"
    assert refused(blue, "01", [{"original_line_no": 1, "amount": "1000.01"}])[0] == "lines[0].amount"
    assert refused(blue, "05")[0] == "reason"
    assert RedLetterForm.select().count() == before  # nothing recorded

    # Each reason where it fits is taken (and sent: the platform agrees).
    for reason, lines in (("02", [{"original_line_no": 2, "quantity": "-2"}]),
                          ("03", [{"original_line_no": 1, "quantity": "1"}]),
                          ("04", [{"original_line_no": 1, "amount": "50"}]),
                          ("01", [{"original_line_no": 2, "amount": "10", "tax": "1.30"}])):
        outcome = red_forms.raise_form(blue, reason, lines, client=client)
        assert outcome.form.status == "01", (reason, outcome.message_en)
    figures = [(f.reason, f.total_amount, f.total_tax) for f in list_forms()]
    assert figures == [("02", Decimal("-200.00"), Decimal("-26.00")), ("03", Decimal("-500.00"), Decimal("-30.00")),
                       ("04", Decimal("-50.00"), Decimal("-3.00")), ("01", Decimal("-10.00"), Decimal("-1.30"))]


def test_a_red_invoice_of_a_special_is_special_and_a_discount_is_spread_onto_its_line(online, client):
    body = invoice_body(kind="special", buyer={"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID}, lines=[
        {"tax_code": SOFTWARE, "item_name": "软件开发", "unit": "项", "quantity": "2", "unit_price": "500",
         "tax_rate": "0.06", "nature": "discounted"},
        {"tax_code": SOFTWARE, "item_name": "软件开发", "amount": "-100", "tax_rate": "0.06", "nature": "discount"},
        {"tax_code": PRINTER, "item_name": "打印纸", "unit": "箱", "quantity": "1", "unit_price": "100",
         "tax_rate": "0.13"}])
    blue = accepted_blue(online, body)
    assert refused(blue, "01", [{"original_line_no": 2, "amount": "10"}])[0] == "lines[0].original_line_no"
    form = red_forms.raise_form(blue, "01", client=client).form
    assert [(line["original_line_no"], line["amount"], line["tax"]) for line in form.lines] == [
        (1, "-900.00", "-54.00"), (3, "-100.00", "-13.00")]
    red = red_forms.issue_red_invoice(_uuid(form), client=client)
    assert red.invoice.kind.value == "special"
    assert [line.original_line_no for line in red.invoice.lines] == [1, 3]


def test_goods_returned_from_a_discounted_line_keep_its_net_unit_price(online, client):
    """销货退回 on a goods line with a discount: the discount is spread onto the line, so the unit price a return
    keeps is the net one (900.00 over 10 boxes: 90), in full or in part, on the desk and on the platform."""
    from app.store.models import Invoice

    body = invoice_body(lines=[
        {"tax_code": PRINTER, "item_name": "打印纸", "unit": "箱", "quantity": "10", "unit_price": "100",
         "tax_rate": "0.13", "nature": "discounted"},
        {"tax_code": PRINTER, "item_name": "打印纸", "amount": "-100", "tax_rate": "0.13", "nature": "discount"}])
    blue = accepted_blue(online, body)
    assert refused(blue, "02", [{"original_line_no": 1, "quantity": "3", "amount": "300"}])[0] == "lines[0].amount"
    part = red_forms.raise_form(blue, "02", [{"original_line_no": 1, "quantity": "3"}], client=client).form
    assert part.status == "01", part.message
    assert [(line["quantity"], line["amount"], line["tax"]) for line in part.lines] == [("-3", "-270.00", "-35.10")]
    rest = red_forms.raise_form(blue, "02", [{"original_line_no": 1, "quantity": "7"}], client=client).form
    assert rest.status == "01" and rest.total_amount == Decimal("-630.00"), rest.message
    for form in (part, rest):
        red = red_forms.issue_red_invoice(_uuid(form), client=client)
        assert [(line.quantity, line.unit_price) for line in red.invoice.lines] == [
            (Decimal(form.lines[0]["quantity"]), Decimal("90"))]
    drain(online)
    reds = Invoice.select().where(Invoice.original_number == blue)
    assert [row.status for row in reds] == ["accepted", "accepted"]
    # And in full at once, on another such invoice.
    other = accepted_blue(online, body)
    full = red_forms.raise_form(other, "02", client=client).form
    assert full.status == "01" and [(line["quantity"], line["amount"]) for line in full.lines] == [("-10", "-900.00")]
    red_forms.issue_red_invoice(_uuid(full), client=client)
    drain(online)
    assert Invoice.get(Invoice.original_number == other).status == "accepted"


def test_never_more_than_what_remains_after_red_invoices_and_open_forms(online, client):
    blue = accepted_blue(online)  # 2,190.00 with tax
    first = red_forms.raise_form(blue, "01", [{"original_line_no": 1}], client=client).form  # 1,060.00
    red_forms.issue_red_invoice(_uuid(first), client=client)
    # The platform has not heard of that red invoice yet (still a pre-issue record): the desk counts it all the same.
    second = red_forms.raise_form(blue, "04", [{"original_line_no": 2, "amount": "900"}], client=client).form
    assert second.status == "01"  # 1,017.00 held by an open form; 113.00 left
    field, message = refused(blue, "04", [{"original_line_no": 2, "amount": "100.01"}])
    assert field == "lines" and "113.00" in message
    assert red_forms.raise_form(blue, "04", [{"original_line_no": 2, "amount": "100"}], client=client).form.status \
        == "01"
    assert refused(blue, "04", [{"original_line_no": 1, "amount": "0.01"}])[0] == "lines"
    # A revoked form gives back what it held.
    assert red_forms.decide(_uuid(second), "revoke", client=client).form.status == "08"
    assert red_forms.raise_form(blue, "04", [{"original_line_no": 2, "amount": "900"}], client=client).form.status \
        == "01"


def test_two_forms_racing_for_the_same_remainder_one_is_refused(online, client, store):
    blue = accepted_blue(online)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def clerk(name: str) -> None:
        barrier.wait()
        try:
            red_forms.record_request(blue, "01", [{"original_line_no": 1}, {"original_line_no": 2, "amount": "100"}],
                                     clerk=name)  # 1,173.00 each of 2,190.00
            results.append("recorded")
        except ValidationFailed as failed:
            results.append(failed.errors[0].field)
        finally:
            store.db.close()

    threads = [threading.Thread(target=clerk, args=(n,)) for n in ("甲", "乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["lines", "recorded"]
    assert RedLetterForm.select().count() == 1
    sent = red_forms.send_requests(client)
    assert [f.status for f in sent] == ["01"]


def test_only_an_accepted_blue_invoice_of_this_desk(online, client):
    pending = issue_invoice(two_lines()).number  # a pre-issue record, not an invoice yet
    assert refused(pending, "01")[0] == "original_number"
    assert refused("26110000000000009999", "01")[0] == "original_number"
    blue = accepted_blue(online)
    form = red_forms.raise_form(blue, "01", client=client).form
    red = red_forms.issue_red_invoice(_uuid(form), client=client)
    assert refused(red.number, "01")[0] == "original_number"


def _uuid(form) -> str:
    assert form.uuid is not None, form
    return str(form.uuid)

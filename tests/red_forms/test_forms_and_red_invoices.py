"""A red invoice only on a confirmation form, end to end over real HTTP: without the buyer's confirmation (01)
at once; once the buyer used the blue invoice the form waits (02) for the buyer, who agrees (04: red invoice)
or disagrees (05: none); unanswered for 72 hours it is void (07). Both channels issue the red invoice."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app.core import status
from app.core.errors import ValidationFailed
from app.printing.einvoice_xml import remark_text
from app.services import red_forms
from app.services.channel import set_channel
from app.services.issuing import issue_invoice
from app.store import audit
from app.store.models import AuditEntry, Invoice, RedLetterForm
from app.store.queries import get_invoice
from app.store.red_forms import KNOWN
from tests.platform_v2.support import set_clock
from tests.red_forms.support import accepted_blue, buyer, drain, two_lines


def actions() -> list[str]:
    return [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]


def test_a_form_without_confirmation_then_its_red_invoice_through_the_platform(online, client):
    blue = accepted_blue(online)
    outcome = red_forms.raise_form(blue, "01", clerk="李四", client=client)
    form = outcome.form
    assert outcome.sent and form.state == KNOWN and form.status == "01" and form.uuid
    assert form.total_amount == Decimal("-2000.00") and form.total_tax == Decimal("-190.00")
    assert len(form.form_number) == 20 and "无需购方确认" in outcome.message_zh

    red = red_forms.issue_red_invoice(_uuid(form), clerk="李四", client=client)
    row = Invoice.get_by_id(red.id)
    assert row.status == status.PRE_ISSUE and row.red_form_uuid == form.uuid and row.original_number == blue
    assert row.kind == "normal" and row.red_reason == "开票有误" and row.red_reason_code == "01"
    # The face and the XML lead with the reference (blue number and form number), written once.
    printed = get_invoice(red.number)
    assert printed is not None and row.remarks == "" and remark_text(printed) == (
        f"被红冲蓝字数电发票号码：{blue} 红字发票信息确认单编号：{form.form_number}")
    assert [line.original_line_no for line in row.lines] == [1, 2]
    assert [line.amount for line in row.lines] == [Decimal("-1000.00"), Decimal("-1000.00")]
    with pytest.raises(ValidationFailed) as caught:  # one red invoice a form
        red_forms.issue_red_invoice(_uuid(form), client=client)
    assert caught.value.errors[0].field == "form"

    drain(online)
    row = Invoice.get_by_id(red.id)
    assert row.status == status.ACCEPTED and row.official_number
    record = online.v2_store.all("SELECT body FROM v2_invoice WHERE number = ?", row.official_number)[0]
    sent = json.loads(record["body"])
    assert sent["red_form_uuid"] == form.uuid and sent["original_number"] == blue
    assert [line["original_line_no"] for line in sent["lines"]] == [1, 2]
    red_forms.refresh(client)
    stored = RedLetterForm.get(RedLetterForm.uuid == form.uuid)
    assert stored.red_number == row.official_number
    assert {"red_form_requested", "red_form_raised", "reversed"} <= set(actions())
    assert audit.verify_chain() is None


def test_the_buyer_used_it_so_the_form_waits_then_the_buyer_agrees(online, client):
    blue = accepted_blue(online)
    buyer(online, "use", number=blue)
    form = red_forms.raise_form(blue, "01", client=client).form
    assert form.status == "02" and form.expires_at
    with pytest.raises(ValidationFailed) as caught:
        red_forms.issue_red_invoice(_uuid(form), client=client)
    assert caught.value.errors[0].field == "form" and "02" in caught.value.errors[0].message_en
    buyer(online, "answer", uuid=form.uuid, decision="agree")
    changed = red_forms.refresh(client)
    assert [(f.uuid, f.status) for f in changed] == [(form.uuid, "04")]
    assert [m.uuid for m in red_forms.pending_messages()] == [form.uuid]  # the clerk is told
    red = red_forms.issue_red_invoice(_uuid(form), client=client)
    drain(online)
    assert Invoice.get_by_id(red.id).status == status.ACCEPTED


def test_the_buyer_disagrees_so_no_red_invoice(online, client):
    blue = accepted_blue(online)
    buyer(online, "use", number=blue)
    form = red_forms.raise_form(blue, "01", client=client).form
    buyer(online, "answer", uuid=form.uuid, decision="disagree")
    red_forms.refresh(client)
    assert RedLetterForm.get(RedLetterForm.uuid == form.uuid).status == "05"
    with pytest.raises(ValidationFailed):
        red_forms.issue_red_invoice(_uuid(form), client=client)
    assert Invoice.select().where(Invoice.original_number == blue).count() == 0
    # A refused form holds nothing: the whole blue invoice may be reversed again.
    assert red_forms.raise_form(blue, "01", client=client).form.status == "02"


def test_unanswered_for_72_hours_the_form_is_void(online, client):
    blue = accepted_blue(online)
    buyer(online, "use", number=blue)
    form = red_forms.raise_form(blue, "01", client=client).form
    set_clock(online, advance_hours=71)
    assert red_forms.refresh(client) == []
    set_clock(online, advance_hours=1.01)
    assert [(f.uuid, f.status) for f in red_forms.refresh(client)] == [(form.uuid, "07")]
    assert "red_form_status" in actions()
    with pytest.raises(ValidationFailed):
        red_forms.issue_red_invoice(_uuid(form), client=client)


def test_the_direct_channel_issues_the_red_invoice_from_its_block(online, client):
    from app.services import stock

    blue = accepted_blue(online)  # issued by the platform; the desk then turns to the direct channel
    set_channel("direct")
    stock.set_stock_settings(block_size=100, numbers_floor=10, quota_slice="10000.00", quota_floor="100.00")
    assert stock.top_up(client).complete
    form = red_forms.raise_form(blue, "02", [{"original_line_no": 2, "quantity": "3"}], client=client).form
    assert form.status == "01" and form.total_amount == Decimal("-300.00") and form.total_tax == Decimal("-39.00")
    red = red_forms.issue_red_invoice(_uuid(form), client=client)
    row = Invoice.get_by_id(red.id)
    assert row.channel == "direct" and row.status == status.PENDING_UPLOAD and len(row.provisional_number) == 20
    assert row.lines[0].quantity == Decimal("-3") and row.lines[0].unit_price == Decimal("100")
    # Its blue invoice was issued by the platform, not from this desk's quota: nothing comes back to it.
    assert row.quota_drawn == 0 and stock.stock_view().quota_left == Decimal("10000.00")
    drain(online)
    assert Invoice.get_by_id(red.id).status == status.ACCEPTED


def test_a_direct_red_invoice_of_a_direct_blue_one_of_its_month_gives_the_quota_back(direct, client):
    from app.services import stock

    issued = issue_invoice(two_lines())  # 2,000.00 excluding tax, drawn from the desk's quota
    assert stock.stock_view().quota_left == Decimal("298000.00")
    drain(direct)
    blue = Invoice.get_by_id(issued.id).official_number
    assert blue is not None
    form = red_forms.raise_form(blue, "01", [{"original_line_no": 2}], client=client).form
    red = red_forms.issue_red_invoice(_uuid(form), client=client)
    # Given back at once, as the platform will once it accepts the red one: the desk may issue it again now.
    assert Invoice.get_by_id(red.id).quota_drawn == Decimal("-1000.00")
    assert stock.stock_view().quota_left == Decimal("299000.00")
    drain(direct)
    assert Invoice.get_by_id(red.id).status == status.ACCEPTED
    assert client.quota().downloaded_unused == stock.stock_view().quota_left == Decimal("299000.00")


def test_a_red_pre_issue_record_withdrawn_gives_its_form_back(online, client):
    from app.services.lifecycle import cancel_invoice

    blue = accepted_blue(online)
    form = red_forms.raise_form(blue, "01", client=client).form
    first = red_forms.issue_red_invoice(_uuid(form), client=client)
    assert red_forms.forms_open_for(blue) == []
    assert cancel_invoice(first.number, "开错了").cancelled  # never sent: withdrawn, kept, marked
    assert [f.uuid for f in red_forms.forms_open_for(blue)] == [form.uuid]
    second = red_forms.issue_red_invoice(_uuid(form), client=client)
    drain(online)
    assert Invoice.get_by_id(second.id).status == status.ACCEPTED
    assert Invoice.get_by_id(first.id).status == status.CANCELLED


def _uuid(form) -> str:
    assert form.uuid is not None, form
    return str(form.uuid)

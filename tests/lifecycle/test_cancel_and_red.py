"""Cancellation under 数电 rules and the withdrawal of pre-issue records, enforced by the services on the real
store; red-letter invoices need a confirmation form (tests/red_forms)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest

from app.core import status
from app.core.clock import BEIJING, shifted
from app.core.errors import ValidationFailed
from app.services.issuing import issue_invoice
from app.services.lifecycle import cancel_invoice, resolve_cancellations
from app.services.queue import Outcome, look_up_entry, record_outcomes
from app.store import audit
from app.store.models import AuditEntry, CancellationRequest, Invoice, UploadQueueEntry
from app.store.queries import reversal_room
from tests.helpers.bodies import PRINTER, SOFTWARE, invoice_body
from tests.helpers.cli import run_cli
from tests.helpers.platform import SYNC_TOKEN, body_of, key_of


def accept(number: str, official: str) -> None:
    """The platform's answer (its number for a pre-issue record) recorded as the upload worker records it."""
    entry = UploadQueueEntry.get(UploadQueueEntry.invoice == Invoice.get(Invoice.provisional_number == number))
    record_outcomes([Outcome(entry.id, True, official, accepted_at="2026-11-29T10:00:00+08:00")])


def actions(number: str) -> list[str]:
    row = Invoice.get(Invoice.provisional_number == number)
    return [e.action for e in AuditEntry.select().where(AuditEntry.invoice == row).order_by(AuditEntry.id)]


def two_lines():
    return invoice_body(lines=[
        {"tax_code": SOFTWARE, "item_name": "软件开发", "unit": "项",
         "quantity": "2", "unit_price": "500", "tax_rate": "0.06"},
        {"tax_code": PRINTER, "item_name": "打印纸", "unit": "箱",
         "quantity": "10", "unit_price": "100", "tax_rate": "0.13"}])


# --- cancellation ------------------------------------------------------------------------------

def test_cancel_unsent_invoice_withdraws_its_upload(seller):
    number = issue_invoice(invoice_body()).number
    outcome = cancel_invoice(number, "金额开错", clerk="李四")
    assert outcome.cancelled
    row = Invoice.get(Invoice.provisional_number == number)
    assert row.status == status.CANCELLED and row.cancel_reason == "金额开错" and row.cancelled_at
    assert UploadQueueEntry.get(UploadQueueEntry.invoice == row).state == status.Q_WITHDRAWN
    entry = AuditEntry.select().where(AuditEntry.invoice == row).order_by(AuditEntry.id.desc()).first()
    assert entry.action == "cancelled" and entry.clerk == "李四" and json.loads(entry.detail)["reason"] == "金额开错"
    assert audit.verify_chain() is None
    with pytest.raises(ValidationFailed, match="已作废"):
        cancel_invoice(number, "again")


def test_cancel_after_a_failed_send_that_never_reached_the_platform_is_immediate(seller):
    number = issue_invoice(invoice_body()).number
    _in_doubt(number, status.Q_RETRY_WAIT)  # a 503: the platform did not act
    assert cancel_invoice(number, "客户取消").cancelled
    row = Invoice.get(Invoice.provisional_number == number)
    assert UploadQueueEntry.get(UploadQueueEntry.invoice == row).state == status.Q_WITHDRAWN


def test_cancel_needs_a_reason_and_an_existing_invoice(seller):
    number = issue_invoice(invoice_body()).number
    for reason in ("", "   "):
        with pytest.raises(ValidationFailed) as caught:
            cancel_invoice(number, reason)
        assert caught.value.errors[0].field == "cancel_reason"
    with pytest.raises(ValidationFailed) as caught:
        cancel_invoice("LX-9999999", "x")
    assert caught.value.errors[0].field == "number"
    assert Invoice.get(Invoice.provisional_number == number).status == status.PRE_ISSUE


def test_a_pre_issue_record_is_withdrawn_whatever_its_month_and_kept_marked(seller):
    # Not an invoice until the platform issues it: the month rule of paper invoices does not apply.
    with shifted(datetime(2026, 10, 31, 23, 30, tzinfo=BEIJING)):
        number = issue_invoice(invoice_body()).number
    outcome = cancel_invoice(number, "不开了", at=datetime(2026, 12, 1, 0, 0, 5, tzinfo=BEIJING))
    assert outcome.cancelled and "预开单" in outcome.message_zh and "撤回" in outcome.message_zh
    row = Invoice.get(Invoice.provisional_number == number)
    assert row.status == status.CANCELLED and row.official_number is None
    entry = AuditEntry.select().where(AuditEntry.invoice == row).order_by(AuditEntry.id.desc()).first()
    assert json.loads(entry.detail)["pre_issue_withdrawn"] is True


def test_cancel_refused_for_an_accepted_electronic_invoice(seller):
    number = issue_invoice(invoice_body()).number
    accept(number, "26110000000000000001")
    with pytest.raises(ValidationFailed) as caught:
        cancel_invoice(number, "想作废")
    error = caught.value.errors[0]
    assert error.field == "cancel" and "电子发票不能作废" in error.message_zh and "red-form raise" in error.message_en
    assert Invoice.get(Invoice.provisional_number == number).status == status.ACCEPTED


def _in_doubt(number: str, state: str = status.Q_UNKNOWN) -> UploadQueueEntry:
    row = Invoice.get(Invoice.provisional_number == number)
    UploadQueueEntry.update(state=state, attempts=1).where(UploadQueueEntry.invoice == row).execute()
    return UploadQueueEntry.get(UploadQueueEntry.invoice == row)


def test_cancel_in_doubt_waits_and_is_refused_if_platform_accepted(seller, v2):
    """Two pre-issue records in doubt; the platform did issue the first (its answer was lost). The look-up
    (app/services/queue.look_up_entry: by key among the day's records) finds it: the cancellation is
    refused, pointing to a red-letter invoice, and the platform's number is recorded; the second, never
    recorded there, is cancelled once the worker knows it was not sent."""
    from app.core.codec import pre_issue_body
    from app.platform.http_client import HttpPlatformClient
    from tests.platform_v2.support import set_clock

    set_clock(v2, reset=True)
    first = issue_invoice(invoice_body()).number
    second = issue_invoice(invoice_body()).number
    client = HttpPlatformClient(v2.url, SYNC_TOKEN)
    try:
        issued = client.issue(key_of(first), pre_issue_body(body_of(first)))  # the answer the desk never heard
        _in_doubt(first)
        _in_doubt(second, status.Q_SENDING)
        assert not cancel_invoice(first, "重复开具").cancelled
        assert not cancel_invoice(second, "重复开具").cancelled
        with pytest.raises(ValidationFailed, match="等待"):
            cancel_invoice(first, "again")
        assert Invoice.get(Invoice.provisional_number == first).status == status.PRE_ISSUE
        asked = []

        def lookup(entry):
            asked.append(entry.idempotency_key)
            return look_up_entry(client, entry)

        decided = resolve_cancellations(lookup)
        # The first was issued meanwhile: refused, pointing to a red-letter invoice; the second is
        # still being sent, so it is neither asked about nor decided.
        assert [(d.number, d.cancelled) for d in decided] == [(first, False)]
        assert "红字" in decided[0].message_zh
        assert asked == [key_of(first)]
        assert Invoice.get(Invoice.provisional_number == first).status == status.ACCEPTED
        assert actions(first)[-2:] == ["accepted", "cancel_refused"]
        # The worker then learns the second was never recorded and puts it back to wait for a retry.
        UploadQueueEntry.update(state=status.Q_RETRY_WAIT).where(
            UploadQueueEntry.invoice == Invoice.get(Invoice.provisional_number == second)).execute()
        decided = resolve_cancellations(lookup)
        assert [(d.number, d.cancelled) for d in decided] == [(second, True)]
        row = Invoice.get(Invoice.provisional_number == second)
        assert row.status == status.CANCELLED
        assert UploadQueueEntry.get(UploadQueueEntry.invoice == row).state == status.Q_WITHDRAWN
        assert CancellationRequest.select().where(CancellationRequest.state == "waiting").count() == 0
        assert audit.verify_chain() is None
        # What was found is the platform's invoice: the desk holds the platform's number for it.
        assert Invoice.get(Invoice.provisional_number == first).official_number == issued["number"]
    finally:
        client.close()


def test_cancel_in_doubt_of_a_pre_issue_record_the_platform_never_issued(seller, v2):
    """Looked up by key and not found among the day's records: the platform never issued it; cancelled."""
    from app.platform.http_client import HttpPlatformClient
    from tests.platform_v2.support import set_clock

    set_clock(v2, reset=True)
    number = issue_invoice(invoice_body()).number
    other = issue_invoice(invoice_body(remarks="issued")).number
    client = HttpPlatformClient(v2.url, SYNC_TOKEN)
    try:
        from app.core.codec import pre_issue_body

        client.issue(key_of(other), pre_issue_body(body_of(other)))  # the day holds another record, not this
        _in_doubt(number)
        assert not cancel_invoice(number, "客户取消").cancelled
        decided = resolve_cancellations(lambda entry: look_up_entry(client, entry))
        assert [(d.number, d.cancelled) for d in decided] == [(number, True)]
        assert Invoice.get(Invoice.provisional_number == number).status == status.CANCELLED
    finally:
        client.close()


def test_queued_cancellation_waits_while_lookup_fails(seller):
    number = issue_invoice(invoice_body()).number
    _in_doubt(number, status.Q_UNKNOWN)
    cancel_invoice(number, "客户取消")

    def down(entry):
        raise ConnectionError("platform down")

    assert resolve_cancellations(down) == []
    assert resolve_cancellations(None) == []
    assert Invoice.get(Invoice.provisional_number == number).status == status.PRE_ISSUE
    # The worker records a rejection: the platform never accepted it, so the cancellation goes through.
    UploadQueueEntry.update(state=status.Q_REJECTED).where(
        UploadQueueEntry.invoice == Invoice.get(Invoice.provisional_number == number)).execute()
    Invoice.update(status=status.REJECTED).where(Invoice.provisional_number == number).execute()
    assert [d.cancelled for d in resolve_cancellations(None)] == [True]
    assert Invoice.get(Invoice.provisional_number == number).status == status.CANCELLED


# --- the CLI ----------------------------------------------------------------------------------

def test_cli_cancel_withdraws_a_pre_issue_record_and_red_needs_a_form(seller, data_dir, store):
    number = issue_invoice(two_lines()).number
    other = issue_invoice(invoice_body()).number
    accept(number, "26110000000000000021")
    store.close()
    done = run_cli(data_dir, "cancel", other, "--reason", "客户取消")
    assert done.returncode == 0, done.stderr
    assert "已撤回" in done.stdout
    bad = run_cli(data_dir, "cancel", number)
    assert bad.returncode == 2 and "cancel_reason" in bad.stderr
    electronic = run_cli(data_dir, "cancel", number, "--reason", "想作废")
    assert electronic.returncode == 2 and "red-form raise" in electronic.stderr
    # The old direct red-letter path is gone: a red invoice needs a confirmation form.
    no_form = run_cli(data_dir, "red", number)
    assert no_form.returncode == 2 and "form" in no_form.stderr
    old = run_cli(data_dir, "red", number, "--reason", "销货退回", "--full")
    assert old.returncode == 2  # argparse: those options are no more
    unknown = run_cli(data_dir, "red", number, "--form", "no-such-form", "--offline")
    assert unknown.returncode == 2 and "红字确认单" in unknown.stderr


def test_a_red_body_is_refused_by_the_issue_service_and_writes_nothing(seller, data_dir, store):
    number = issue_invoice(two_lines()).number
    accept(number, "26110000000000000031")
    red_body = invoice_body(original_number="26110000000000000031", red_reason="04", lines=[
        {"tax_code": PRINTER, "item_name": "打印纸", "amount": "-100", "tax_rate": "0.13"}])
    before = (Invoice.select().count(), AuditEntry.select().count(), UploadQueueEntry.select().count())
    with pytest.raises(ValidationFailed) as caught:
        issue_invoice(red_body)
    error = caught.value.errors[0]
    assert error.field == "red" and "红字确认单" in error.message_zh and "red-form raise" in error.message_en
    # The command line's issue takes the same path.
    path = data_dir / "red.json"
    path.write_text(json.dumps(red_body, ensure_ascii=False), encoding="utf-8")
    refused = run_cli(data_dir, "issue", str(path))
    assert refused.returncode == 2 and "red-form raise" in refused.stderr, refused.stderr
    assert (Invoice.select().count(), AuditEntry.select().count(), UploadQueueEntry.select().count()) == before


def test_records_reversed_without_a_form_before_stay_as_they_were(seller):
    """A red invoice the old path issued (no form) still counts against its blue invoice, and keeps its reason."""
    from app.services.issuing import prepare_invoice, write_issued
    from app.services.seller import get_seller
    from app.store.models import database

    number = issue_invoice(two_lines()).number
    accept(number, "26110000000000000031")
    profile = get_seller()
    assert profile is not None
    old = prepare_invoice(invoice_body(original_number="26110000000000000031", red_reason="04", lines=[
        {"tax_code": PRINTER, "item_name": "打印纸", "amount": "-100", "tax_rate": "0.13"}]), profile)
    with database.atomic("IMMEDIATE"):
        red = write_issued(old, "")  # what the removed path wrote: a red invoice on no form
    Invoice.update(red_reason="销售折让").where(Invoice.id == red.id).execute()
    room = reversal_room(Invoice.get(Invoice.provisional_number == number))
    assert room.reversed_so_far == Decimal("113.00") and room.remaining == Decimal("2077.00")
    assert Invoice.get_by_id(red.id).red_form_uuid is None and Invoice.get_by_id(red.id).red_reason == "销售折让"


def test_the_paper_of_a_cancelled_invoice_says_cancelled(seller):
    import io

    from pypdf import PdfReader

    from app.printing.document import render_invoices
    from app.services.printing_log import load_print_views

    number = issue_invoice(invoice_body()).number
    other = issue_invoice(invoice_body()).number
    cancel_invoice(number, "金额开错")
    texts = {}
    for n in (number, other):
        pdf = render_invoices(load_print_views([n]))
        texts[n] = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "作废" in texts[number] and "作废" not in texts[other]

"""Cancellation and red-letter rules, enforced by the services on the real store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.core import status
from app.core.clock import BEIJING
from app.core.errors import ValidationFailed
from app.services.issuing import issue_invoice
from app.services.lifecycle import (
    cancel_invoice,
    issue_red_letter,
    resolve_cancellations,
)
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


def test_cancel_only_within_the_month_in_beijing_time(seller):
    # 23:30 on 31 Oct in Beijing is 15:30 UTC: the month ends at Beijing midnight, not UTC's.
    number = issue_invoice(invoice_body(issued_at="2026-10-31T23:30:00+08:00")).number
    with pytest.raises(ValidationFailed) as caught:
        cancel_invoice(number, "跨月", at=datetime(2026, 11, 1, 0, 0, 5, tzinfo=BEIJING))
    assert caught.value.errors[0].field == "cancel" and "红字" in caught.value.errors[0].message_zh
    # Also refused when "now" is given in UTC (16:00:05 UTC is already November in Beijing).
    with pytest.raises(ValidationFailed):
        cancel_invoice(number, "跨月", at=datetime(2026, 10, 31, 16, 0, 5, tzinfo=UTC))
    assert Invoice.get(Invoice.provisional_number == number).status == status.PRE_ISSUE
    assert cancel_invoice(number, "当月", at=datetime(2026, 10, 31, 15, 59, 55, tzinfo=UTC)).cancelled


def test_cancel_refused_for_an_accepted_invoice(seller):
    number = issue_invoice(invoice_body()).number
    accept(number, "26110000000000000001")
    with pytest.raises(ValidationFailed) as caught:
        cancel_invoice(number, "想作废")
    assert caught.value.errors[0].field == "cancel" and "红字发票" in caught.value.errors[0].message_zh
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


# --- red-letter --------------------------------------------------------------------------------

def test_full_red_letter_reverses_every_line(seller):
    number = issue_invoice(two_lines()).number
    accept(number, "26110000000000000011")
    red = issue_red_letter(number, "销货退回", clerk="李四")
    row = Invoice.get(Invoice.provisional_number == red.number)
    assert row.original_number == "26110000000000000011" and row.red_reason == "销货退回"
    assert row.total_with_tax == Decimal("-2190.00") and row.status == status.PRE_ISSUE
    assert [line.quantity for line in red.invoice.lines] == [Decimal("-2"), Decimal("-10")]
    assert actions(number)[-1] == "reversed"
    reversed_entry = AuditEntry.select().where(AuditEntry.action == "reversed").get()
    assert json.loads(reversed_entry.detail)["red_number"] == red.number
    assert UploadQueueEntry.get(UploadQueueEntry.invoice == row).state == status.Q_PENDING
    # Nothing left: a second reversal, even of a fen, is refused.
    with pytest.raises(ValidationFailed) as caught:
        issue_red_letter(number, "开票有误",
                         lines=[{"tax_code": PRINTER, "item_name": "打印纸", "amount": "-0.01", "tax_rate": "0.13"}])
    assert caught.value.errors[0].field == "total_with_tax" and "超过" in caught.value.errors[0].message_zh


def test_partial_red_letters_never_exceed_what_remains(seller):
    number = issue_invoice(two_lines()).number  # 1060.00 + 1130.00 = 2190.00
    accept(number, "26110000000000000012")
    part = [{"tax_code": PRINTER, "item_name": "打印纸", "unit": "箱",
             "quantity": "-4", "unit_price": "100", "tax_rate": "0.13"}]
    first = issue_red_letter(number, "return", lines=part)  # alias of 销货退回
    assert first.invoice.total_with_tax == Decimal("-452.00")
    assert Invoice.get(Invoice.provisional_number == first.number).red_reason == "销货退回"
    room = reversal_room(Invoice.get(Invoice.provisional_number == number))
    assert room.remaining == Decimal("1738.00")
    too_much = [{"tax_code": SOFTWARE, "item_name": "软件开发",
                 "quantity": "-2", "unit_price": "500", "tax_rate": "0.06"},
                {"tax_code": PRINTER, "item_name": "打印纸", "quantity": "-7", "unit_price": "100", "tax_rate": "0.13"}]
    before = Invoice.select().count()
    with pytest.raises(ValidationFailed, match=r"1738\.00"):
        issue_red_letter(number, "销售折让", lines=too_much)
    assert Invoice.select().count() == before
    # A cancelled red-letter invoice gives its room back.
    cancel_invoice(first.number, "冲错了")
    assert reversal_room(Invoice.get(Invoice.provisional_number == number)).remaining == Decimal("2190.00")
    assert issue_red_letter(number, "开票有误").invoice.total_with_tax == Decimal("-2190.00")


def test_red_letter_rules(seller):
    pending = issue_invoice(invoice_body()).number
    with pytest.raises(ValidationFailed) as caught:
        issue_red_letter(pending, "销货退回")
    assert caught.value.errors[0].field == "original_number" and "作废" in caught.value.errors[0].message_zh
    accepted = issue_invoice(invoice_body()).number
    accept(accepted, "26110000000000000013")
    for reason in ("", "不想要了"):
        with pytest.raises(ValidationFailed) as caught:
            issue_red_letter(accepted, reason)
        assert caught.value.errors[0].field == "red_reason"
    with pytest.raises(ValidationFailed) as caught:  # positive amounts on a red invoice
        issue_red_letter(accepted, "销售折让",
                         lines=[{"tax_code": SOFTWARE, "item_name": "软件开发", "quantity": "1",
                                 "unit_price": "10", "tax_rate": "0.06"}])
    assert caught.value.errors[0].field == "lines[0].quantity"
    with pytest.raises(ValidationFailed) as caught:  # an item the original does not have
        issue_red_letter(accepted, "销售折让", lines=[{"tax_code": SOFTWARE, "item_name": "别的",
                                                   "amount": "-10", "tax_rate": "0.06"}])
    assert caught.value.errors[0].field == "lines[0].item_name"
    red = issue_red_letter("26110000000000000013", "服务中止",
                           lines=[{"tax_code": SOFTWARE, "item_name": "软件开发",
                                   "amount": "-100", "tax_rate": "0.06"}])
    accept(red.number, "26110000000000000014")
    with pytest.raises(ValidationFailed) as caught:  # a red-letter invoice is not reversed again
        issue_red_letter(red.number, "开票有误")
    assert caught.value.errors[0].field == "original_number"
    with pytest.raises(ValidationFailed):
        issue_red_letter("LX-7777777", "开票有误")


def test_cli_cancel_and_red(seller, data_dir, store):
    number = issue_invoice(two_lines()).number
    other = issue_invoice(invoice_body()).number
    store.close()
    done = run_cli(data_dir, "cancel", other, "--reason", "客户取消")
    assert done.returncode == 0, done.stderr
    assert "已作废" in done.stdout
    bad = run_cli(data_dir, "cancel", number)
    assert bad.returncode == 2
    refused = run_cli(data_dir, "red", number, "--reason", "销货退回", "--full")
    assert refused.returncode == 2 and "original_number" in refused.stderr
    from app.services.store_access import open_store
    reopened = open_store(data_dir)
    accept(number, "26110000000000000021")
    reopened.close()
    wrong = run_cli(data_dir, "red", number, "--reason", "随便", "--full")
    assert wrong.returncode == 2 and "red_reason" in wrong.stderr
    lines = json.dumps([{"tax_code": PRINTER, "item_name": "打印纸",
                         "quantity": "-1", "unit_price": "100", "tax_rate": "0.13"}],
                       ensure_ascii=False)
    part = run_cli(data_dir, "red", number, "--reason", "allowance", "--lines", lines)
    assert part.returncode == 0, part.stderr
    red_number = part.stdout.split()[0]
    shown = run_cli(data_dir, "show", red_number, "--json")
    body = json.loads(shown.stdout)
    assert body["original_number"] == "26110000000000000021" and body["total_with_tax"] == "-113.00"
    over = run_cli(data_dir, "red", "26110000000000000021", "--reason", "开票有误", "--full")
    assert over.returncode == 2 and "total_with_tax" in over.stderr
    lines_file = data_dir / "red-lines.json"
    lines_file.write_text(json.dumps([{"tax_code": SOFTWARE, "item_name": "软件开发",
                                       "amount": "-100", "tax_rate": "0.06"}],
                                     ensure_ascii=False), encoding="utf-8")
    from_file = run_cli(data_dir, "red", number, "--reason", "销售折让", "--lines", f"@{lines_file}")
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout.split()[1] == "-106.00"
    both = run_cli(data_dir, "red", number, "--reason", "销售折让", "--full", "--lines", "[]")
    assert both.returncode == 2 and "lines" in both.stderr


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

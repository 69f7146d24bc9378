"""Deadlines on the platform's clock: an invoice uploaded 48 hours or more after issue is rejected for ever,
marked too late and offered for issue again under a new number; results gone after 12 hours are found by
number; a month closed with an invoice missing closes it out."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from app.core import clock, status
from app.core.deadlines import month_close, period_of
from app.core.errors import ValidationFailed
from app.services import months, queue, stock
from app.services.issuing import issue_invoice
from app.services.reissue import reissue
from app.store.models import AuditEntry, Invoice, UploadBatch, UploadQueueEntry
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import make_worker
from tests.platform_v2.support import set_clock


def _row(number: str) -> Invoice:
    return Invoice.get(Invoice.provisional_number == number)


def test_an_invoice_past_48_hours_is_too_late_and_is_issued_again(direct, client):
    first = issue_invoice(invoice_body(remarks="the one that waited"))
    set_clock(direct, advance_hours=49)  # the platform was unreachable for two days
    report = make_worker(direct).run_once()
    assert report.rejected == 1 and report.accepted == 0
    row = _row(first.number)
    assert row.status == status.UPLOAD_TOO_LATE
    entry = UploadQueueEntry.get(UploadQueueEntry.invoice == row)
    assert entry.state == status.Q_TOO_LATE and "upload_too_late" in entry.last_error + json.dumps(
        [json.loads(a.detail) for a in AuditEntry.select().where(AuditEntry.action == "upload_too_late")])
    assert stock.stock_view().quota_drawn == Decimal("0.00")  # its quota came back: the platform never took it

    set_clock(direct, reset=True)  # the platform's clock back with the desk's, for the new invoice
    again = reissue(first.number, clerk="王五")
    assert again.number != first.number and _row(again.number).reissue_of == first.number
    reissued = AuditEntry.get((AuditEntry.action == "reissued") & (AuditEntry.invoice == row))
    assert json.loads(reissued.detail)["as"] == again.number
    assert again.invoice.total_with_tax == first.invoice.total_with_tax
    assert again.invoice.remarks == "the one that waited"
    with pytest.raises(ValidationFailed) as twice:
        reissue(first.number)
    assert again.number in twice.value.errors[0].message_zh
    with pytest.raises(ValidationFailed):
        reissue(again.number)  # not too late: nothing to issue again
    assert make_worker(direct).run_once().accepted == 1
    assert _row(again.number).status == status.ACCEPTED


def test_results_expired_after_12_hours_are_found_by_number(direct, client):
    issued = [issue_invoice(invoice_body(remarks=f"#{i}")) for i in range(3)]
    poster = make_worker(direct, result_wait=3600, pass_wait=0)  # posts, and leaves the results for later
    report = poster.run_once()
    assert report.sent == 3 and report.accepted == 0
    batch = UploadBatch.get()
    assert batch.state == status.B_AWAITING and batch.acceptance_id
    set_clock(direct, advance_hours=13)
    queue.make_due_now()
    report = make_worker(direct).run_once()
    assert report.accepted == 3 and report.looked_up == 3
    assert UploadBatch.get().state == status.B_EXPIRED
    assert {_row(i.number).status for i in issued} == {status.ACCEPTED}
    found = [json.loads(a.detail)["found_by"] for a in AuditEntry.select().where(AuditEntry.action == "accepted")]
    assert found == ["lookup"] * 3


def test_an_expired_upload_the_platform_never_held_is_uploaded_again(direct, client):
    issued = issue_invoice(invoice_body())
    make_worker(direct, result_wait=3600, pass_wait=0).run_once()
    # The platform lost what that upload carried before checking it: looking the number up finds nothing.
    direct.v2_store.run("DELETE FROM v2_upload_item")
    set_clock(direct, advance_hours=13)
    queue.make_due_now()
    report = make_worker(direct).run_once()
    assert report.looked_up == 1 and report.accepted == 1  # not held: uploaded again (13 h < 48 h), accepted
    assert _row(issued.number).status == status.ACCEPTED
    assert UploadBatch.select().count() == 2
    assert [r["number"] for r in direct.v2_store.all("SELECT number FROM v2_invoice")] == [issued.number]


def test_a_month_closed_with_an_invoice_missing(direct, client):
    issued = issue_invoice(invoice_body())
    period = period_of(clock.now())
    closed_at = month_close(period)
    set_clock(direct, now=(closed_at + timedelta(minutes=5)).isoformat())  # the desk was off until the 13th
    report = make_worker(direct).run_once()
    assert report.rejected == 1
    row = _row(issued.number)
    assert row.status == status.UPLOAD_TOO_LATE
    detail = json.loads(AuditEntry.get(AuditEntry.action == "upload_too_late").detail)
    assert detail["error"] == "month_closed"
    result = months.confirm(client, period, at=closed_at + timedelta(minutes=5))
    assert result.state == months.CLOSED and (months.summary(period) or _none()).state == months.CLOSED


def test_the_outage_log_counts_what_was_too_late(direct, client):
    from app.services import outages

    outages.record_failure("connection refused")
    issue_invoice(invoice_body())
    issue_invoice(invoice_body())
    set_clock(direct, advance_hours=49)
    outages.record_recovery()
    make_worker(direct).run_once()
    described = outages.describe_all()[0]
    assert len(described["invoices"]) == 2 and described["too_late"] == 2
    from app.reports.fault_report import fault_report_lines

    lines = [line for _, body in fault_report_lines(outages.fault_report(described["id"])) for line in body]
    assert any("超期未上传" in line and "2" in line for line in lines)


def _none():
    raise AssertionError("no summary recorded")

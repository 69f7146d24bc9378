"""The platform down while the clerk issues; back up; every invoice reaches it exactly once, on both
channels; an answer lost after the platform acted never makes a second invoice."""

from __future__ import annotations

from collections import Counter

from tests.helpers.platform import issue_many, make_worker, platform_numbers
from tests.sync.support import assert_issued_once_each


def test_outage_then_sync_uploads_each_invoice_once(store, seller, platform):
    """The platform channel: pre-issue records wait out the outage; the first sent fails and the pass stops
    there (the others not sent); once it is back, each is issued once and gets the platform's number."""
    from app.core import status
    from app.store.audit import verify_chain
    from app.store.models import Invoice, UploadQueueEntry

    platform.set_faults(mode="down")
    issued = issue_many(50)
    worker = make_worker(platform)
    report = worker.run_once()
    assert report.transient_failures == 1 and report.accepted == 0
    assert "503" in report.last_error
    # The first failed; the others, not sent, wait as long (the platform asked for Retry-After).
    entries = list(UploadQueueEntry.select())
    assert {e.state for e in entries} == {status.Q_RETRY_WAIT} and len({e.next_try_at for e in entries}) <= 2
    assert sum(e.attempts for e in entries) == 1
    assert platform_numbers(platform) == []

    platform.set_faults(mode="ok")
    from app.services.queue import make_due_now

    make_due_now()  # Retry-After would otherwise hold them a second
    report = worker.run_once()
    assert report.accepted == 50 and report.rejected == 0
    assert len(platform_numbers(platform)) == 50
    assert_issued_once_each(platform, [i.number for i in issued])
    rows = list(Invoice.select())
    assert {r.status for r in rows} == {status.ACCEPTED}
    assert all(r.official_number is not None and len(r.official_number) == 20 for r in rows)
    assert all(r.accepted_at for r in rows)
    assert {e.state for e in UploadQueueEntry.select()} == {status.Q_ACCEPTED}
    assert verify_chain() is None


def test_outage_then_sync_uploads_each_direct_invoice_once(direct):
    """The direct channel: invoices issued offline from the held block go up in batches once it is back."""
    from app.core import status
    from app.services.queue import make_due_now
    from app.store.audit import verify_chain
    from app.store.models import Invoice, UploadBatch, UploadQueueEntry

    direct.set_faults(mode="down")
    issued = issue_many(50)
    worker = make_worker(direct, batch_size=20)
    report = worker.run_once()
    assert report.transient_failures == 1 and report.accepted == 0 and "503" in report.last_error
    # Committed, to be sent as they are: the first failed, the one opened meanwhile was not sent.
    assert {b.state for b in UploadBatch.select()} == {status.B_POSTING}
    assert [b.attempts for b in UploadBatch.select().order_by(UploadBatch.id)][:1] == [1]
    assert direct.v2_store.all("SELECT count(*) AS n FROM v2_upload")[0]["n"] == 0
    direct.set_faults(mode="ok")
    make_due_now()
    report = worker.run_once()
    assert report.accepted == 50 and report.sent == 50
    held = [r["number"] for r in direct.v2_store.all("SELECT number FROM v2_invoice")]
    assert Counter(held) == Counter(i.number for i in issued)
    assert {r.status for r in Invoice.select()} == {status.ACCEPTED}
    assert {e.state for e in UploadQueueEntry.select()} == {status.Q_ACCEPTED}
    assert verify_chain() is None


def test_lost_answer_is_sent_again_under_its_key_and_issued_once(store, seller, platform):
    """The platform acts but its answer comes too late: the outcome is unknown, and the record is sent
    again under the same key, which the platform answers with its first answer: never issued twice."""
    import json

    from app.core import status
    from app.services.queue import make_due_now
    from app.store.models import AuditEntry, Invoice, UploadQueueEntry

    issued = issue_many(7)
    platform.set_faults(mode="slow", delay_ms=600)
    worker = make_worker(platform, timeout=0.2)
    report = worker.run_once()
    assert report.transient_failures == 1 and "timeout" in report.last_error
    first = Invoice.get(Invoice.provisional_number == issued[0].number)
    assert UploadQueueEntry.get(UploadQueueEntry.invoice == first).state == status.Q_UNKNOWN
    assert len(platform_numbers(platform)) == 1  # it did issue the first
    platform.set_faults(mode="ok")
    make_due_now()
    report = worker.run_once()
    assert report.accepted == 7
    assert_issued_once_each(platform, [i.number for i in issued])
    sent = Counter(json.loads(a.detail).get("attempt") for a in AuditEntry.select().where(
        (AuditEntry.action == "sent") & (AuditEntry.invoice == first)))
    assert sent == {1: 1, 2: 1}  # sent twice under one key, issued once
    assert {r.status for r in Invoice.select()} == {status.ACCEPTED}


def test_lost_upload_answer_is_sent_again_under_its_request_id(direct):
    """The direct channel: the answer to POST /v2/uploads is lost; the batch is sent again as it is (same
    request id, same invoices) and the platform answers with the same acceptance id."""
    from app.core import status
    from app.services.queue import make_due_now
    from app.store.models import Invoice, UploadBatch

    issued = issue_many(7)
    direct.set_faults(mode="slow", delay_ms=600)
    worker = make_worker(direct, timeout=0.2)
    report = worker.run_once()
    assert report.transient_failures == 1 and "timeout" in report.last_error
    batch = UploadBatch.get()
    assert batch.state == status.B_POSTING and batch.acceptance_id is None
    kept = direct.v2_store.all("SELECT request_id, acceptance_id FROM v2_upload")
    assert [r["request_id"] for r in kept] == [batch.request_id]  # the platform kept it
    direct.set_faults(mode="ok")
    make_due_now()
    report = worker.run_once()
    assert report.accepted == 7
    assert UploadBatch.get_by_id(batch.id).acceptance_id == kept[0]["acceptance_id"]
    assert len(direct.v2_store.all("SELECT * FROM v2_upload")) == 1  # one upload, not two
    held = [r["number"] for r in direct.v2_store.all("SELECT number FROM v2_invoice")]
    assert Counter(held) == Counter(i.number for i in issued)
    assert {r.status for r in Invoice.select()} == {status.ACCEPTED}


def test_retry_after_as_an_http_date():
    import time
    from email.utils import formatdate

    from app.platform.transport import parse_retry_after

    assert parse_retry_after("7") == 7.0
    in_ten = parse_retry_after(formatdate(time.time() + 10, usegmt=True))
    assert in_ten is not None and 8 <= in_ten <= 10
    assert parse_retry_after(formatdate(time.time() - 100, usegmt=True)) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None

"""The platform down while the clerk issues; back up; every invoice reaches it exactly once."""

from __future__ import annotations

from collections import Counter

from tests.sync.conftest import issue_many, make_worker, platform_numbers


def test_outage_then_sync_uploads_each_invoice_once(store, seller, platform):
    from app.store import status
    from app.store.audit import verify_chain
    from app.store.models import Invoice, UploadQueueEntry

    platform.set_faults(mode="down")
    issued = issue_many(50)
    worker = make_worker(platform)
    report = worker.run_once()
    assert report.transient_failures == 1 and report.accepted == 0
    assert "503" in report.last_error
    assert Counter(e.state for e in UploadQueueEntry.select()) == {status.Q_RETRY_WAIT: 50}
    assert platform_numbers(platform) == []

    platform.set_faults(mode="ok")
    from app.store.queue import make_due_now

    make_due_now()  # Retry-After would otherwise hold them a second
    report = worker.run_once()
    assert report.accepted == 50 and report.rejected == 0
    numbers = platform_numbers(platform)
    assert Counter(numbers) == Counter(i.number for i in issued)
    assert len(numbers) == 50
    rows = list(Invoice.select())
    assert {r.status for r in rows} == {status.ACCEPTED}
    assert all(len(r.official_number) == 20 and r.official_number[2:4] == "11" for r in rows)
    assert all(r.platform_id and r.accepted_at for r in rows)
    assert {e.state for e in UploadQueueEntry.select()} == {status.Q_ACCEPTED}
    assert verify_chain() is None

"""The platform down while the clerk issues; back up; every invoice reaches it exactly once."""

from __future__ import annotations

from collections import Counter

from tests.helpers.platform import issue_many, make_worker, platform_numbers


def test_outage_then_sync_uploads_each_invoice_once(store, seller, platform):
    from app.core import status
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
    from app.services.queue import make_due_now

    make_due_now()  # Retry-After would otherwise hold them a second
    report = worker.run_once()
    assert report.accepted == 50 and report.rejected == 0
    numbers = platform_numbers(platform)
    assert Counter(numbers) == Counter(i.number for i in issued)
    assert len(numbers) == 50
    rows = list(Invoice.select())
    assert {r.status for r in rows} == {status.ACCEPTED}
    assert all(r.official_number is not None and len(r.official_number) == 20 and r.official_number[2:4] == "11"
               for r in rows)
    assert all(r.platform_id and r.accepted_at for r in rows)
    assert {e.state for e in UploadQueueEntry.select()} == {status.Q_ACCEPTED}
    assert verify_chain() is None


def test_lost_answer_is_looked_up_before_any_resend(store, seller, platform):
    """The platform acts but its answer comes too late: the outcome is unknown, and the worker asks
    by key (finding them accepted) instead of sending again."""
    import json

    from app.core import status
    from app.services.queue import make_due_now
    from app.store.models import AuditEntry, Invoice, UploadQueueEntry

    issued = issue_many(7)
    platform.set_faults(mode="slow", delay_ms=600)
    worker = make_worker(platform, timeout=0.2)
    report = worker.run_once()
    assert report.transient_failures == 1 and "timeout" in report.last_error
    assert {e.state for e in UploadQueueEntry.select()} == {status.Q_UNKNOWN}
    assert len(platform_numbers(platform)) == 7  # it did keep them
    platform.set_faults(mode="ok")
    make_due_now()
    report = worker.run_once()
    assert report.looked_up == 7 and report.accepted == 7
    found = [json.loads(a.detail)["found_by"] for a in AuditEntry.select().where(AuditEntry.action == "accepted")]
    assert found == ["lookup"] * 7
    assert sent_count() == 7  # one "sent" per invoice: nothing was sent twice
    assert {r.status for r in Invoice.select()} == {status.ACCEPTED}
    assert Counter(platform_numbers(platform)) == Counter(i.number for i in issued)


def sent_count() -> int:
    from app.store.models import AuditEntry

    return AuditEntry.select().where(AuditEntry.action == "sent").count()


def test_retry_after_as_an_http_date():
    import time
    from email.utils import formatdate

    from app.platform.http_client import parse_retry_after

    assert parse_retry_after("7") == 7.0
    in_ten = parse_retry_after(formatdate(time.time() + 10, usegmt=True))
    assert in_ten is not None and 8 <= in_ten <= 10
    assert parse_retry_after(formatdate(time.time() - 100, usegmt=True)) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None

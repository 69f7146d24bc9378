"""The outage log fed by the real connectivity monitor polling the reference platform over HTTP,
and cancellations requested while the platform was down carried out when it answers again."""

from __future__ import annotations

import pytest

from app.core import status
from app.core.codec import invoice_to_body, pre_issue_body
from app.services import outages, queue
from app.services.issuing import issue_invoice
from app.services.lifecycle import cancel_invoice
from app.store import queries
from app.store.models import AuditEntry, CancellationRequest, Invoice, UploadQueueEntry
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import PLATFORM_TOKEN as TOKEN
from tests.helpers.platform import key_of, platform_numbers


@pytest.fixture
def feed(platform, store):
    from app.platform.http_client import HttpPlatformClient
    from app.sync.monitor import ConnectivityMonitor
    from app.sync.outage_feed import OutageFeed

    factory = lambda: HttpPlatformClient(platform.url, TOKEN, timeout=2.0)  # noqa: E731
    monitor = ConnectivityMonitor(factory)
    made = OutageFeed(monitor, factory)
    yield made
    monitor.stop()


def answer_lost(number: str, reached_platform: bool, platform=None) -> None:
    """The pre-issue record `number` claimed by the queue, sent to POST /v2/issue (or not) and its answer lost
    (a timeout), as the worker records it."""
    items = queue.claim_batch(None, 1)
    assert [i.number for i in items] == [number]
    if reached_platform:
        from app.platform.http_client import HttpPlatformClient

        with_client = HttpPlatformClient(platform.url, TOKEN)
        invoice = queries.get_invoice(number)
        assert invoice is not None
        with_client.issue(items[0].key, pre_issue_body(invoice_to_body(invoice)))
        with_client.close()
    queue.record_failure([items[0].entry_id], "timed out after 5 s", outcome_unknown=True, delay_for=lambda a: 3600)


def test_outage_recorded_from_down_to_up_with_invoices_issued_meanwhile(feed, platform, seller):
    monitor = feed.monitor
    assert monitor.check().ok and queries.list_outages() == []
    before = issue_invoice(invoice_body()).number
    platform.set_faults(mode="down")
    for _ in range(3):
        assert not monitor.check().ok
    during = [issue_invoice(invoice_body()).number for _ in range(2)]
    feed.upload_failed("POST /v2/issue: HTTP 503")
    open_one = outages.open_outage()
    assert open_one is not None and open_one.ended_at is None
    platform.set_faults(mode="ok")
    assert monitor.check().ok
    [outage] = queries.list_outages()
    data = outages.describe(outage.id)
    assert data["ended_at"] is not None and data["ended_at"] > data["started_at"]
    assert data["failed_checks"] == 3 and data["upload_attempts"] == 1
    assert [(e["message"], e["count"]) for e in data["errors"]] == [
        ("平台暂时不可用（HTTP 503） (HTTP 503 from the platform)", 3), ("POST /v2/issue: HTTP 503", 1)]
    assert [i["number"] for i in data["invoices"]] == during and before not in during
    # A failed upload while the platform answers health does not open an outage by itself.
    feed.upload_failed("HTTP 500")
    assert outages.open_outage() is None and len(queries.list_outages()) == 1


def test_cancellations_requested_offline_are_carried_out_in_order_when_it_answers(feed, platform, seller):
    monitor = feed.monitor
    kept = issue_invoice(invoice_body()).number  # the platform got it, the desk never heard
    answer_lost(kept, reached_platform=True, platform=platform)
    dropped = issue_invoice(invoice_body()).number  # the request never arrived
    answer_lost(dropped, reached_platform=False)
    unsent = issue_invoice(invoice_body()).number  # still pending in the queue
    platform.set_faults(mode="down")
    assert not monitor.check().ok
    assert not cancel_invoice(kept, "客户取消").cancelled
    assert not cancel_invoice(dropped, "客户取消").cancelled
    assert cancel_invoice(unsent, "客户取消").cancelled  # known never sent: at once, even offline
    assert feed.resolve_waiting_cancellations() == []  # the platform does not answer: they wait
    assert CancellationRequest.select().where(CancellationRequest.state == "waiting").count() == 2
    platform.set_faults(mode="ok")
    assert monitor.check().ok  # offline -> online: the feed decides the waiting ones, oldest first
    assert [(d.number, d.cancelled) for d in feed.decided] == [(kept, False), (dropped, True)]
    assert "红字" in feed.decided[0].message_zh
    kept_row = Invoice.get(Invoice.provisional_number == kept)
    assert kept_row.status == status.ACCEPTED and kept_row.official_number
    assert [e.action for e in AuditEntry.select().where(AuditEntry.invoice == kept_row)][-1] == "cancel_refused"
    assert Invoice.get(Invoice.provisional_number == dropped).status == status.CANCELLED
    # The worker then sends nothing that was cancelled.
    from app.platform.http_client import HttpPlatformClient
    from app.sync.worker import QueueWorker

    worker = QueueWorker(lambda: HttpPlatformClient(platform.url, TOKEN))
    worker.run_once()
    worker.close()
    assert len(platform_numbers(platform)) == 1  # only the one it had issued: nothing cancelled went up
    issued = platform.v2_store.all("SELECT key, number FROM v2_invoice")
    assert [(r["key"], r["number"]) for r in issued] == [(key_of(kept), kept_row.official_number)]
    assert {e.state for e in UploadQueueEntry.select()} == {status.Q_ACCEPTED, status.Q_WITHDRAWN}

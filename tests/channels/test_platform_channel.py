"""The platform channel: offline the desk records pre-issue records (预开单), which are not invoices; when
the platform is back each is issued by it once under its key, even when the platform is flaky (answers
lost after it acted), and the clerk sees which record became which invoice."""

from __future__ import annotations

import json

from app.core import status
from app.core.official_numbers import CHANNEL_PLATFORM, parse_number
from app.services.issuing import issue_invoices
from app.store.audit import verify_chain
from app.store.models import AuditEntry, Invoice, UploadQueueEntry
from app.store.queries import find_invoice
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import make_worker


def test_pre_issue_records_are_not_invoices_until_the_platform_issues_them(online):
    online.set_faults(mode="down")
    recorded = issue_invoices([invoice_body(remarks=f"#{i}") for i in range(5)])
    assert [r.number for r in recorded] == [f"LX-{i:07d}" for i in range(1, 6)]
    rows = list(Invoice.select())
    assert {r.status for r in rows} == {status.PRE_ISSUE} and {r.official_number for r in rows} == {None}
    assert status.status_label(status.PRE_ISSUE).startswith("预开单（非发票）")
    assert all(json.loads(a.detail)["pre_issue"] for a in AuditEntry.select().where(AuditEntry.action == "issued"))
    assert make_worker(online).run_once().accepted == 0

    online.set_faults(mode="ok")
    report = make_worker(online).run_once()
    assert report.accepted == 5
    for record in recorded:
        found = find_invoice(record.number)
        assert found is not None and found.status == status.ACCEPTED
        parts = parse_number(found.official_number or "")
        assert parts is not None and parts.channel == CHANNEL_PLATFORM
        # The official number finds the same row: the clerk sees which record became which invoice.
        again = find_invoice(found.official_number or "")
        assert again is not None and again.provisional_number == record.number
    held = online.v2_store.all("SELECT number FROM v2_invoice")
    assert len(held) == 5


def test_a_flaky_platform_issues_each_record_once(online):
    recorded = issue_invoices([invoice_body(remarks=f"#{i}") for i in range(40)])
    online.set_faults(mode="flaky", fail_rate=0.4, hang_ms=300)
    worker = make_worker(online, timeout=0.25)
    for _ in range(200):
        worker.run_once()
        if not UploadQueueEntry.select().where(UploadQueueEntry.state != status.Q_ACCEPTED).exists():
            break
    online.set_faults(mode="ok")
    make_worker(online).run_once()
    assert {e.state for e in UploadQueueEntry.select()} == {status.Q_ACCEPTED}
    keys = [r["key"] for r in online.v2_store.all("SELECT key FROM v2_invoice")]
    assert len(keys) == 40 == len(set(keys))  # never twice
    numbers = {Invoice.get(Invoice.provisional_number == r.number).official_number for r in recorded}
    assert len(numbers) == 40 and None not in numbers
    assert verify_chain() is None


def test_a_record_the_platform_refuses_is_rejected_with_its_reasons(online):
    # A seller name the platform does not know: its rule (wrong_seller) refuses it, with details.
    from app.services.seller import get_seller, set_seller

    seller = get_seller()
    assert seller is not None
    set_seller(name="北京另一家公司", tax_id=seller.party.tax_id, drawer="张三")
    issue_invoices([invoice_body()])
    report = make_worker(online).run_once()
    assert report.rejected == 1
    row = Invoice.get()
    assert row.status == status.REJECTED and row.official_number is None
    assert "seller" in UploadQueueEntry.get().last_error

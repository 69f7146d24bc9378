"""A rejected invoice does not stop the others; a refused token stops sending and loses nothing."""

from __future__ import annotations

from tests.helpers.platform import SYNC_TOKEN as TOKEN
from tests.helpers.platform import break_line_amount, issue_many, make_worker, platform_numbers


def test_a_rejected_invoice_does_not_stop_the_others(store, seller, platform):
    from app.core import status
    from app.services.queue import attempt_history, counts, queue_rows, rejection_reasons
    from app.store.models import Invoice, UploadQueueEntry

    issued = issue_many(30)
    bad = issued[7].number
    break_line_amount(bad)
    report = make_worker(platform, batch_size=10).run_once()
    assert (report.accepted, report.rejected) == (29, 1)
    assert sorted(platform_numbers(platform)) == sorted(i.number for i in issued if i.number != bad)
    row = Invoice.get(Invoice.provisional_number == bad)
    assert row.status == status.REJECTED and row.official_number is None
    entry = UploadQueueEntry.get(UploadQueueEntry.invoice == row)
    reasons = rejection_reasons(entry.last_error)
    assert [r["field"] for r in reasons] == ["lines[0].amount"]  # the platform names the field
    assert "1000.00" in reasons[0]["message"]
    assert [r.number for r in queue_rows(["rejected"])] == [bad]
    assert counts().rejected == 1 and counts().waiting == 0
    assert [a.action for a in attempt_history(row.id)] == ["sent", "rejected"]


def test_rejected_invoice_cancelled_and_reissued_goes_up(store, seller, platform):
    from app.core import status
    from app.services.lifecycle import cancel_and_reissue
    from app.services.queue import counts
    from app.store.models import Invoice
    from tests.helpers.bodies import invoice_body

    issued = issue_many(3)
    break_line_amount(issued[1].number)
    make_worker(platform).run_once()
    assert counts().rejected == 1
    new = cancel_and_reissue(issued[1].number, invoice_body(remarks="corrected"), reason="平台拒绝，更正后重开")
    assert Invoice.get(Invoice.provisional_number == issued[1].number).status == status.CANCELLED
    assert counts().rejected == 0 and counts().waiting == 1
    make_worker(platform).run_once()
    assert Invoice.get(Invoice.provisional_number == new.number).status == status.ACCEPTED
    assert sorted(platform_numbers(platform)) == sorted([issued[0].number, issued[2].number, new.number])


def test_requeue_sends_a_rejected_invoice_again_under_its_key(store, seller, platform):
    from app.core import status
    from app.services.queue import requeue
    from app.store.models import Invoice, InvoiceLine, UploadQueueEntry

    issued = issue_many(2)
    row = Invoice.get(Invoice.provisional_number == issued[0].number)
    break_line_amount(issued[0].number)
    make_worker(platform).run_once()
    key = UploadQueueEntry.get(UploadQueueEntry.invoice == row).idempotency_key
    InvoiceLine.update(amount=InvoiceLine.amount - 1).where(InvoiceLine.invoice == row).execute()  # platform rule fixed
    requeue(issued[0].number, why="platform fixed its rule")
    assert Invoice.get_by_id(row.id).status == status.PENDING_UPLOAD
    make_worker(platform).run_once()
    assert Invoice.get_by_id(row.id).status == status.ACCEPTED
    assert platform.records.find(key)["number"] == issued[0].number  # same key as at issue


def test_expired_token_stops_sending_and_loses_nothing(store, seller, platform):
    from app.core import status
    from app.services.queue import counts
    from app.store.models import UploadQueueEntry

    issue_many(20)
    worker = make_worker(platform, token="expired-token-xyz", batch_size=5)
    report = worker.run_once()
    assert report.unauthorized and "401" in report.unauthorized
    assert "expired-token-xyz" not in report.unauthorized  # the token is masked
    assert report.accepted == 0 and platform_numbers(platform) == []
    entries = list(UploadQueueEntry.select())
    assert {e.state for e in entries} == {status.Q_PENDING}
    assert {e.attempts for e in entries} == {0}
    assert all("401" in e.last_error for e in entries if e.last_error)
    assert counts().waiting == 20

    report = make_worker(platform, token=TOKEN).run_once()
    assert report.accepted == 20 and counts().waiting == 0

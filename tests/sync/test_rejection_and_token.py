"""A rejected invoice does not stop the others; a refused token stops sending and loses nothing."""

from __future__ import annotations

from tests.helpers.platform import SYNC_TOKEN as TOKEN
from tests.helpers.platform import break_line_amount, issue_many, make_worker
from tests.sync.support import assert_issued_once_each, issued_by_key


def test_a_rejected_invoice_does_not_stop_the_others(store, seller, platform):
    from app.core import status
    from app.services.queue import attempt_history, counts, queue_rows, rejection_reasons
    from app.store.models import Invoice, UploadQueueEntry

    issued = issue_many(30)
    bad = issued[7].number
    break_line_amount(bad)
    report = make_worker(platform, batch_size=10).run_once()
    assert (report.accepted, report.rejected) == (29, 1)
    assert_issued_once_each(platform, [i.number for i in issued if i.number != bad])
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
    assert_issued_once_each(platform, [issued[0].number, issued[2].number, new.number])


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
    assert Invoice.get_by_id(row.id).status == status.PRE_ISSUE  # a pre-issue record again, not an invoice
    make_worker(platform).run_once()
    accepted = Invoice.get_by_id(row.id)
    assert accepted.status == status.ACCEPTED
    assert issued_by_key(platform)[key] == accepted.official_number  # same key as at issue


def test_requeue_uploads_a_rejected_direct_invoice_again_under_its_number(direct):
    from decimal import Decimal

    from app.core import status
    from app.services import stock
    from app.services.queue import requeue
    from app.store.models import Invoice, InvoiceLine

    issued = issue_many(2)
    left = stock.stock_view().quota_left
    row = Invoice.get(Invoice.provisional_number == issued[0].number)
    break_line_amount(issued[0].number)
    make_worker(direct).run_once()
    assert Invoice.get_by_id(row.id).status == status.REJECTED
    assert stock.stock_view().quota_left == left + row.total_amount  # the platform never took it: quota back
    InvoiceLine.update(amount=InvoiceLine.amount - 1).where(InvoiceLine.invoice == row).execute()  # rule fixed
    requeue(issued[0].number, why="platform fixed its rule")
    assert Invoice.get_by_id(row.id).status == status.PENDING_UPLOAD
    make_worker(direct).run_once()
    assert Invoice.get_by_id(row.id).status == status.ACCEPTED
    held = [r["number"] for r in direct.v2_store.all("SELECT number FROM v2_invoice")]
    assert sorted(held) == sorted(i.number for i in issued)  # under its own number, once
    assert stock.stock_view().quota_left == left  # an invoice the platform holds draws its quota again
    assert isinstance(left, Decimal)


def test_expired_token_stops_sending_and_loses_nothing(store, seller, platform):
    from app.core import status
    from app.services.queue import counts
    from app.store.models import UploadQueueEntry

    issue_many(20)
    worker = make_worker(platform, token="expired-token-xyz", batch_size=5)
    report = worker.run_once()
    assert report.unauthorized and "401" in report.unauthorized
    assert "expired-token-xyz" not in report.unauthorized  # the token is masked
    assert report.accepted == 0 and issued_by_key(platform) == {}
    entries = list(UploadQueueEntry.select())
    assert {e.state for e in entries} == {status.Q_PENDING}
    assert {e.attempts for e in entries} == {0}
    assert all("401" in e.last_error for e in entries if e.last_error)
    assert counts().waiting == 20

    report = make_worker(platform, token=TOKEN).run_once()
    assert report.accepted == 20 and counts().waiting == 0

"""Direct-channel uploads (POST /v2/uploads) as the store keeps them: one UploadBatch per call of up to
100 invoices.

A batch is born `posting` in the transaction that marks its entries `sending`, with a request id chosen
then: whatever happens to the call (no answer, a lost answer, the sender killed), it is sent again as
it is, under the same request id with the same invoices, and the platform answers with the same
acceptance id; nothing is uploaded twice under two ids. Once the acceptance id is recorded the batch is
`awaiting` its results; each final result (accepted, duplicate, rejected, too late) is recorded with
its invoice; results still `processing` are read again later. After 12 hours the platform forgets the
results (410): the entries still open are looked up one by one by number (state `lookup`), and an
invoice the platform does not hold goes back to `pending`, to be uploaded again (the platform then
says whether it is too late).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from app.core import status
from app.core.clock import now_iso
from app.services.queue import MAX_ERROR, QueueItem, _audit_many, _check_lock, _due, _items, _with_numbers, iso_in
from app.store.models import Invoice as InvoiceRow
from app.store.models import UploadBatch, UploadQueueEntry, database

MAX_UPLOAD = 100  # invoices a call (shudian-rules.md section 5)
MAX_DELAY = 86400.0  # seconds: no wait asked of a batch or a look-up is ever longer (a day), whatever asked it


def _in(delay: float) -> str:
    """The moment `delay` seconds from now, the delay held to 0..MAX_DELAY (never days, never a crash on inf/nan)."""
    seconds = delay if isinstance(delay, (int, float)) and delay == delay else 0.0  # NaN is not equal to itself
    return iso_in(min(max(seconds, 0.0), MAX_DELAY))


@dataclass(frozen=True)
class Batch:
    id: int
    request_id: str
    acceptance_id: str | None
    state: str
    attempts: int
    items: tuple[QueueItem, ...]  # in the order sent

    @property
    def numbers(self) -> list[str]:
        return [item.number for item in self.items]


def _batch(row: UploadBatch) -> Batch:
    entries = _items(_with_numbers().where(UploadQueueEntry.batch == row.id).order_by(UploadQueueEntry.id))
    return Batch(row.id, row.request_id, row.acceptance_id, row.state, row.attempts, tuple(entries))


def open_batch(holder: str | None, limit: int = MAX_UPLOAD) -> Batch | None:
    """The next direct-channel entries due (oldest first), marked `sending` in a new batch; None when none is."""
    limit = max(1, min(limit, MAX_UPLOAD))
    stamp = now_iso()
    with database.atomic("IMMEDIATE"):
        _check_lock(holder)
        entries = (_due(InvoiceRow.channel == "direct", limit, (status.Q_PENDING, status.Q_RETRY_WAIT)))
        if not entries:
            return None
        row = UploadBatch.create(request_id=uuid.uuid4().hex, state=status.B_POSTING, size=len(entries),
                                 created_at=stamp, updated_at=stamp)
        UploadQueueEntry.update(state=status.Q_SENDING, batch=row.id, attempts=UploadQueueEntry.attempts + 1,
                                next_try_at=None, updated_at=stamp).where(
            UploadQueueEntry.id.in_([e.entry_id for e in entries])).execute()
        _audit_many([("sent", e.invoice_id, e.number, {"attempt": e.attempts + 1, "request_id": row.request_id})
                     for e in entries])
        sent = tuple(QueueItem(e.entry_id, e.invoice_id, e.number, e.key, e.attempts + 1) for e in entries)
        return Batch(row.id, row.request_id, None, status.B_POSTING, 0, sent)


def due_batches(state: str, limit: int = 20) -> list[Batch]:
    """Batches in a state whose next try is due, oldest first."""
    current = now_iso()
    rows = (UploadBatch.select().where((UploadBatch.state == state)
                                       & (UploadBatch.next_try_at.is_null() | (UploadBatch.next_try_at <= current)))
            .order_by(UploadBatch.id).limit(limit))
    return [_batch(row) for row in rows]


def open_count() -> int:
    """Batches posted or being posted whose results are not all in."""
    count: int = UploadBatch.select().where(UploadBatch.state.in_((status.B_POSTING, status.B_AWAITING))).count()
    return count


def next_batch_due_in() -> str | None:
    """The earliest next_try_at of a batch still open ("" when one is due now), None when none is open."""
    rows = UploadBatch.select(UploadBatch.next_try_at).where(
        UploadBatch.state.in_((status.B_POSTING, status.B_AWAITING)))
    times = [row.next_try_at or "" for row in rows]
    return min(times) if times else None


def record_answer(batch: Batch, acceptance_id: str, first_wait: float) -> None:
    """The platform took the call: its acceptance id (受理流水号); results are read from first_wait on."""
    stamp = now_iso()
    with database.atomic("IMMEDIATE"):
        changed = UploadBatch.update(state=status.B_AWAITING, acceptance_id=acceptance_id, answered_at=stamp,
                                     attempts=0, next_try_at=_in(first_wait), last_error="", updated_at=stamp).where(
            (UploadBatch.id == batch.id) & (UploadBatch.state == status.B_POSTING)).execute()
        if changed:
            _audit_many([("upload_received", e.invoice_id, e.number,
                          {"request_id": batch.request_id, "acceptance_id": acceptance_id}) for e in batch.items])


def record_batch_failure(batch_id: int, error: str, delay: float) -> None:
    """The call (or the reading of its results) failed for now: the batch is tried again after `delay`."""
    stamp = now_iso()
    with database.atomic("IMMEDIATE"):
        UploadBatch.update(attempts=UploadBatch.attempts + 1, next_try_at=_in(delay), last_error=error[:MAX_ERROR],
                           updated_at=stamp).where(UploadBatch.id == batch_id).execute()
        UploadQueueEntry.update(last_error=error[:MAX_ERROR], updated_at=stamp).where(
            UploadQueueEntry.batch == batch_id).execute()


def wait_again(batch_id: int, delay: float) -> None:
    """Some results are still `processing`: read again after `delay`."""
    UploadBatch.update(attempts=UploadBatch.attempts + 1, next_try_at=_in(delay), updated_at=now_iso()).where(
        UploadBatch.id == batch_id).execute()


def dissolve(batch_id: int, why: str) -> None:
    """The platform refused the call as a whole (a final 4xx): nothing of it was kept, so its entries go back
    to `pending` and are sent in a new batch under a new request id (the numbers stay theirs: a number
    uploaded twice is answered `duplicate`, never accepted twice)."""
    stamp = now_iso()
    with database.atomic("IMMEDIATE"):
        row = UploadBatch.get_by_id(batch_id)
        if row.state != status.B_POSTING:
            return
        entries = _items(_with_numbers().where((UploadQueueEntry.batch == batch_id)
                                               & (UploadQueueEntry.state == status.Q_SENDING)))
        UploadQueueEntry.update(state=status.Q_RETRY_WAIT, batch=None, next_try_at=iso_in(60.0),
                                last_error=why[:MAX_ERROR], updated_at=stamp).where(
            UploadQueueEntry.id.in_([e.entry_id for e in entries])).execute()
        UploadBatch.update(state=status.B_DONE, last_error=why[:MAX_ERROR], updated_at=stamp).where(
            UploadBatch.id == batch_id).execute()
        _audit_many([("send_failed", e.invoice_id, e.number, {"request_id": row.request_id, "error": why[:300],
                                                              "state": status.Q_RETRY_WAIT}) for e in entries])


def close_if_done(batch_id: int) -> bool:
    """Done once none of its entries is still `sending`."""
    with database.atomic("IMMEDIATE"):
        open_left = UploadQueueEntry.select().where((UploadQueueEntry.batch == batch_id)
                                                    & (UploadQueueEntry.state == status.Q_SENDING)).exists()
        if open_left:
            return False
        UploadBatch.update(state=status.B_DONE, next_try_at=None, updated_at=now_iso()).where(
            (UploadBatch.id == batch_id) & (UploadBatch.state != status.B_EXPIRED)).execute()
        return True


def expire(batch_id: int) -> int:
    """Results gone (410): the entries still open are looked up by number. Returns how many."""
    stamp = now_iso()
    with database.atomic("IMMEDIATE"):
        row = UploadBatch.get_by_id(batch_id)
        entries = _items(_with_numbers().where((UploadQueueEntry.batch == batch_id)
                                               & (UploadQueueEntry.state == status.Q_SENDING)))
        UploadQueueEntry.update(state=status.Q_LOOKUP, next_try_at=None, updated_at=stamp,
                                last_error="results expired: looked up by number").where(
            UploadQueueEntry.id.in_([e.entry_id for e in entries])).execute()
        UploadBatch.update(state=status.B_EXPIRED, next_try_at=None, updated_at=stamp).where(
            UploadBatch.id == batch_id).execute()
        _audit_many([("results_expired", e.invoice_id, e.number, {"acceptance_id": row.acceptance_id})
                     for e in entries])
        return len(entries)


def due_lookups(limit: int = 100) -> list[QueueItem]:
    return (_due(UploadQueueEntry.state == status.Q_LOOKUP, limit))


def record_lookup_failure(entry_id: int, error: str, delay: float) -> None:
    UploadQueueEntry.update(next_try_at=_in(delay), last_error=error[:MAX_ERROR], updated_at=now_iso()).where(
        UploadQueueEntry.id == entry_id).execute()


def record_not_held(entry_ids: Iterable[int]) -> None:
    """Looked up after the results expired: the platform does not hold them, so they are uploaded again."""
    ids = list(entry_ids)
    if not ids:
        return
    with database.atomic("IMMEDIATE"):
        entries = _items(_with_numbers().where(UploadQueueEntry.id.in_(ids)
                                               & (UploadQueueEntry.state == status.Q_LOOKUP)))
        UploadQueueEntry.update(state=status.Q_PENDING, batch=None, next_try_at=None, updated_at=now_iso()).where(
            UploadQueueEntry.id.in_([e.entry_id for e in entries])).execute()
        _audit_many([("queued", e.invoice_id, e.number, {"why": "not on the platform (looked up by number)"})
                     for e in entries])

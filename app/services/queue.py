"""The upload queue's services: every write the sync side makes goes through here.

States (app/store/status.py): pending -> sending -> accepted, or -> retry_wait (a transient
failure: tried again at next_try_at), -> unknown_outcome (the answer was lost: looked up by key
before any resend), -> rejected (the platform's reasons in last_error). Each change is one
transaction with its audit entries ("sent", "send_failed", "accepted", "rejected", "queued"),
so a crash at any point leaves a state the worker can resume from: a row found in `sending`
when a worker starts was in flight when its sender died, and counts as unknown_outcome.

The lock (SyncLock row "upload") makes sure one worker sends at a time; claim_batch checks it
in the same transaction that marks rows `sending`, so a worker that lost its lock sends nothing.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, TypedDict

import peewee

from app.core import clock, status
from app.core.clock import now_iso
from app.core.codec import invoice_to_body
from app.core.errors import DeskError, FieldError, ValidationFailed
from app.platform.client import TransientFailure
from app.services.settings import get_setting, set_setting
from app.store import audit
from app.store import stock as stock_store
from app.store.models import AuditEntry, InvoiceLine, Setting, SyncLock, UploadBatch, UploadQueueEntry, database
from app.store.models import Invoice as InvoiceRow
from app.store.queries import find_row
from app.store.records import invoice_from_row

UPLOAD_LOCK = "upload"
SYNC_CLERK = "sync"  # who the audit log names for what the worker does
MAX_ERROR = 2000


class LockLost(DeskError):
    """Another worker holds the upload lock (ours expired or was broken)."""


def iso_in(seconds: float) -> str:
    return clock.iso_in(seconds)


def _audit_many(entries: list[audit.ManyEntry]) -> None:
    audit.append_many(entries, clerk=SYNC_CLERK)


# --- the lock ------------------------------------------------------------------------------------

def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@dataclass(frozen=True)
class LockInfo:
    holder: str
    host: str
    pid: int
    heartbeat_at: float
    expires_at: float


def lock_info(name: str = UPLOAD_LOCK) -> LockInfo | None:
    row = SyncLock.get_or_none(SyncLock.name == name)
    return None if row is None else LockInfo(row.holder, row.host, row.pid, row.heartbeat_at, row.expires_at)


def acquire_lock(holder: str, ttl: float = 30.0, name: str = UPLOAD_LOCK) -> bool:
    """Take (or renew) the lock; breaks it when its holder died. True when `holder` holds it now."""
    stamp = time.time()
    host = socket.gethostname()
    with database.atomic("IMMEDIATE"):
        row = SyncLock.get_or_none(SyncLock.name == name)
        if row is not None and row.holder != holder:
            dead = row.expires_at < stamp or (row.host == host and not _pid_alive(row.pid))
            if not dead:
                return False
            audit.append("sync_lock_broken", clerk=SYNC_CLERK,
                         detail={"holder": row.holder, "host": row.host, "pid": row.pid,
                                 "why": "expired" if row.expires_at < stamp else "holder process gone"})
        SyncLock.insert(name=name, holder=holder, host=host, pid=os.getpid(), heartbeat_at=stamp,
                        expires_at=stamp + ttl).on_conflict_replace().execute()
        return True


def heartbeat(holder: str, ttl: float = 30.0, name: str = UPLOAD_LOCK) -> bool:
    """Renew our lock; False when it is no longer ours."""
    stamp = time.time()
    with database.atomic("IMMEDIATE"):
        changed: int = SyncLock.update(heartbeat_at=stamp, expires_at=stamp + ttl).where(
            (SyncLock.name == name) & (SyncLock.holder == holder)).execute()
        return changed == 1


def release_lock(holder: str, name: str = UPLOAD_LOCK) -> None:
    with database.atomic("IMMEDIATE"):
        SyncLock.delete().where((SyncLock.name == name) & (SyncLock.holder == holder)).execute()


def _check_lock(holder: str | None) -> None:
    if holder is None:
        return
    row = SyncLock.get_or_none(SyncLock.name == UPLOAD_LOCK)
    if row is None or row.holder != holder or row.expires_at < time.time():
        raise LockLost("上传锁已被另一个上传程序取得", "the upload lock is not ours (another worker took it)")


# --- reading ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueItem:
    entry_id: int
    invoice_id: int
    number: str
    key: str
    attempts: int


@dataclass(frozen=True)
class QueueCounts:
    waiting: int  # pending, sending, retry_wait, unknown_outcome
    rejected: int  # rejected, invoice not yet cancelled: needs the clerk
    accepted: int
    by_state: dict[str, int]


@dataclass(frozen=True)
class WaitingCounts:
    waiting: int  # pending, sending, retry_wait, unknown_outcome, lookup
    rejected: int  # rejected, invoice not yet cancelled: needs the clerk


def waiting_counts() -> WaitingCounts:
    """What the status bar shows after every pass: a count of each waiting state and of the rejected ones, each
    a range of the state index, so it costs what waits, never the accepted million (counts() reads them all)."""
    waiting = sum(UploadQueueEntry.select().where(UploadQueueEntry.state == state).count()
                  for state in status.QUEUE_WAITING_STATES)
    rejected = (UploadQueueEntry.select().join(InvoiceRow)
                .where((UploadQueueEntry.state == status.Q_REJECTED) & (InvoiceRow.status == status.REJECTED)).count())
    return WaitingCounts(waiting, rejected)


def accepted_count() -> int:
    """The entries the platform accepted: a range of the state index, as long as the desk's history."""
    return int(UploadQueueEntry.select().where(UploadQueueEntry.state == status.Q_ACCEPTED).count())


def counts() -> QueueCounts:
    # The stubs give a model query's rows as model instances even after tuples(); iterator() yields Any,
    # typed here as what the query selects.
    rows: Iterable[tuple[str, int]] = (
        UploadQueueEntry.select(UploadQueueEntry.state, peewee.fn.COUNT(UploadQueueEntry.id))
        .group_by(UploadQueueEntry.state).tuples().iterator())
    by_state = dict(rows)
    rejected = (UploadQueueEntry.select().join(InvoiceRow)
                .where((UploadQueueEntry.state == status.Q_REJECTED) & (InvoiceRow.status == status.REJECTED)).count())
    waiting = sum(by_state.get(s, 0) for s in status.QUEUE_WAITING_STATES)
    return QueueCounts(waiting, rejected, by_state.get(status.Q_ACCEPTED, 0), by_state)


def seconds_until(moment: str) -> float:
    """Seconds from now to an ISO time ("" or a past time: 0)."""
    if not moment:
        return 0.0
    return max(0.0, (datetime.fromisoformat(moment) - clock.now_exact()).total_seconds())


# The waiting entries of some states outside any batch, on the (state, id) index. Named: with no statistics (the
# desk never runs ANALYZE) SQLite took "batch_id IS NULL" for the better index and read every entry (0.24 s for
# the three at a million, every pass of the worker).
_UNBATCHED_SQL = ('SELECT {select} FROM "upload_queue_entry" INDEXED BY "upload_queue_entry_state_id" '
                  'WHERE "state" IN ({marks}) AND "batch_id" IS NULL{more}')


def _unbatched(select: str, states: tuple[str, ...], more: str = "") -> tuple[Any, ...] | None:
    sql = _UNBATCHED_SQL.format(select=select, marks=", ".join("?" * len(states)), more=more)
    row: tuple[Any, ...] | None = database.execute_sql(sql, states).fetchone()
    return row


def next_due_in() -> float | None:
    """Seconds until the earliest waiting entry or open upload batch is due (0 when one is due now), None when
    nothing waits. An entry inside a batch waits with its batch. Ranges of the (state, id) index and the batches' own,
    however many wait."""
    soonest: float | None = None
    if _unbatched("1", (status.Q_PENDING, status.Q_SENDING), " LIMIT 1") is not None:
        return 0.0
    later = (status.Q_RETRY_WAIT, status.Q_UNKNOWN, status.Q_LOOKUP)
    if _unbatched("1", later, ' AND "next_try_at" IS NULL LIMIT 1') is not None:
        return 0.0
    found = _unbatched('min("next_try_at")', later)
    first: str | None = found[0] if found is not None else None
    if first:
        soonest = seconds_until(first)
    from app.services.upload_batches import next_batch_due_in  # the batches build on this module

    batch_due = next_batch_due_in()
    if batch_due is not None:
        wait = seconds_until(batch_due)
        soonest = wait if soonest is None else min(soonest, wait)
    return soonest


def _with_numbers() -> peewee.ModelSelect[UploadQueueEntry]:
    """Entries with what the worker needs of them and their invoice's number (entry.invoice is loaded with its id
    and provisional number only)."""
    return UploadQueueEntry.select(UploadQueueEntry.id, UploadQueueEntry.invoice, UploadQueueEntry.idempotency_key,
                                   UploadQueueEntry.attempts, InvoiceRow.id,
                                   InvoiceRow.provisional_number).join(InvoiceRow)


def _items(query: peewee.ModelSelect[UploadQueueEntry]) -> list[QueueItem]:
    """A query of _with_numbers() as QueueItems, read as plain tuples (a batch of 100 in a millisecond)."""
    rows: Iterable[tuple[int, int, str, int, int, str]] = query.tuples().iterator()
    return [QueueItem(entry_id, invoice_id, number, key, attempts)
            for entry_id, invoice_id, key, attempts, _, number in rows]


def _due(state_clause: peewee.Expression, limit: int, states: Iterable[str] | None = None) -> list[QueueItem]:
    """Entries due now, oldest first. Given the states, each is read in id order on its (state, id) index and
    the runs merged: no sort of every waiting entry, however many wait."""
    current = now_iso()
    due_now = UploadQueueEntry.next_try_at.is_null() | (UploadQueueEntry.next_try_at <= current)
    if states is None:
        return _items(_with_numbers().where(state_clause & due_now).order_by(UploadQueueEntry.id).limit(limit))
    found: list[QueueItem] = []
    for state in states:
        found.extend(_items(_with_numbers().where((UploadQueueEntry.state == state) & state_clause & due_now)
                            .order_by(UploadQueueEntry.id).limit(limit)))
    return sorted(found, key=lambda item: item.entry_id)[:limit]


def invoice_bodies(invoice_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The protocol bodies of many invoices, read with two queries as plain rows (no model instances: a batch
    of 100 bodies in a few milliseconds)."""
    found: Iterable[dict[str, Any]] = InvoiceRow.select().where(InvoiceRow.id.in_(invoice_ids)).dicts().iterator()
    rows = {r["id"]: SimpleNamespace(**r) for r in found}
    lines: dict[int, list[Any]] = {i: [] for i in invoice_ids}
    query: Iterable[dict[str, Any]] = (InvoiceLine.select().where(InvoiceLine.invoice.in_(invoice_ids))
                                       .order_by(InvoiceLine.invoice, InvoiceLine.position).dicts().iterator())
    for line in query:
        lines[line["invoice"]].append(SimpleNamespace(**line, item_id=line["item"]))
    return {i: invoice_to_body(invoice_from_row(rows[i], lines[i])) for i in invoice_ids}  # type: ignore[arg-type]


# --- the worker's transitions ------------------------------------------------------------------------

def recover_in_flight(holder: str | None = None) -> int:
    """Rows left `sending` by a sender that died: their outcome is unknown. Call after taking the lock."""
    with database.atomic("IMMEDIATE"):
        _check_lock(holder)
        # A direct-channel entry in `sending` belongs to a batch, which is asked again as it is.
        entries = _items(_with_numbers().where((UploadQueueEntry.state == status.Q_SENDING)
                                               & UploadQueueEntry.batch.is_null())
                         .order_by(UploadQueueEntry.id))
        if not entries:
            return 0
        UploadQueueEntry.update(state=status.Q_UNKNOWN, next_try_at=None, updated_at=now_iso(),
                                last_error="sender stopped before the answer arrived").where(
            UploadQueueEntry.id.in_([e.entry_id for e in entries])).execute()
        _audit_many([("send_outcome_unknown", e.invoice_id, e.number, {"why": "sender stopped mid-send"})
                     for e in entries])
        return len(entries)


def claim_batch(holder: str | None, limit: int = 100, channel: str = "platform") -> list[QueueItem]:
    """The next entries of a channel to send, oldest first (pending, and retry_wait that is due; on the platform
    channel also unknown_outcome, sent again under the same key), marked `sending`."""
    states = [status.Q_PENDING, status.Q_RETRY_WAIT] + ([status.Q_UNKNOWN] if channel == "platform" else [])
    with database.atomic("IMMEDIATE"):
        _check_lock(holder)
        entries = (_due(InvoiceRow.channel == channel, limit, states))
        if not entries:
            return []
        UploadQueueEntry.update(state=status.Q_SENDING, attempts=UploadQueueEntry.attempts + 1,
                                updated_at=now_iso()).where(
            UploadQueueEntry.id.in_([e.entry_id for e in entries])).execute()
        _audit_many([("sent", e.invoice_id, e.number, {"attempt": e.attempts + 1}) for e in entries])
        return [QueueItem(e.entry_id, e.invoice_id, e.number, e.key, e.attempts + 1) for e in entries]


@dataclass(frozen=True)
class Outcome:
    """What the platform said about one entry: accepted (or issued), rejected, or too late for ever."""

    entry_id: int
    accepted: bool
    official_number: str | None = None
    platform_id: str | None = None
    accepted_at: str | None = None
    details: list[dict[str, Any]] | None = None  # why rejected
    found_by: str = "send"  # send / results / lookup
    too_late: bool = False  # rejected as upload_too_late or month_closed: the sale must be invoiced again
    error: str = ""  # the platform's code of the rule broken, when it gave one


def record_outcomes(outcomes: Iterable[Outcome]) -> tuple[int, int]:
    """Accepted and rejected entries, each with its invoice row and audit entry. Returns (accepted, rejected).

    A rejected or too-late direct-channel invoice gives back the quota it drew (the platform never took it)."""
    outcomes = list(outcomes)
    if not outcomes:
        return 0, 0
    stamp = now_iso()
    audit_rows: list[audit.ManyEntry] = []
    entry_updates: list[tuple[str, str, int]] = []
    invoice_updates: list[tuple[str, str | None, str | None, str | None, int]] = []
    rejected_entries: list[tuple[str, str, str, int]] = []
    rejected_invoices: list[tuple[str, int]] = []
    given_back: dict[str, Decimal] = {}
    with database.atomic("IMMEDIATE"):
        # Plain tuples and executemany: a batch of 500 is recorded in milliseconds, not a second.
        found: Iterable[tuple[int, str, int, str, str, str | None, Decimal]] = (
            UploadQueueEntry.select(UploadQueueEntry.id, UploadQueueEntry.state, InvoiceRow.id, InvoiceRow.status,
                                    InvoiceRow.provisional_number, InvoiceRow.quota_period, InvoiceRow.quota_drawn)
            .join(InvoiceRow).where(UploadQueueEntry.id.in_([o.entry_id for o in outcomes])).tuples().iterator())
        entries = {row[0]: row[1:] for row in found}
        for outcome in outcomes:
            state, invoice_id, invoice_status, number, quota_period, quota_drawn = entries[outcome.entry_id]
            if state in (status.Q_ACCEPTED, status.Q_TOO_LATE):
                continue  # recorded already (e.g. by a cancellation's look-up)
            if outcome.accepted:
                entry_updates.append((status.Q_ACCEPTED, stamp, outcome.entry_id))
                new_status = status.ACCEPTED if invoice_status != status.CANCELLED else invoice_status
                invoice_updates.append((new_status, outcome.official_number, outcome.platform_id, outcome.accepted_at,
                                        invoice_id))
                audit_rows.append(("accepted", invoice_id, number,
                                   {"official_number": outcome.official_number, "platform_id": outcome.platform_id,
                                    "accepted_at": outcome.accepted_at, "found_by": outcome.found_by}))
                continue
            details = outcome.details or []
            entry_state = status.Q_TOO_LATE if outcome.too_late else status.Q_REJECTED
            rejected_entries.append((entry_state, stamp, json.dumps(details, ensure_ascii=False)[:MAX_ERROR],
                                     outcome.entry_id))
            if invoice_status in status.WAITING_STATUSES:
                rejected_invoices.append((status.UPLOAD_TOO_LATE if outcome.too_late else status.REJECTED,
                                          invoice_id))
                if quota_period and quota_drawn:
                    given_back[quota_period] = given_back.get(quota_period, Decimal(0)) + quota_drawn
            audit_rows.append(("upload_too_late" if outcome.too_late else "rejected", invoice_id, number,
                               {"details": details, "error": outcome.error, "found_by": outcome.found_by}))
        conn = database.connection()
        queue_table, invoice_table = UploadQueueEntry._meta.table_name, InvoiceRow._meta.table_name
        conn.executemany(f'UPDATE "{queue_table}" SET state = ?, last_error = \'\', next_try_at = NULL, updated_at = ? '
                         "WHERE id = ?", entry_updates)
        conn.executemany(f'UPDATE "{invoice_table}" SET status = ?, official_number = COALESCE(?, official_number), '
                         "platform_id = ?, accepted_at = ? WHERE id = ?", invoice_updates)
        conn.executemany(f'UPDATE "{queue_table}" SET state = ?, next_try_at = NULL, '
                         "updated_at = ?, last_error = ? WHERE id = ?", rejected_entries)
        conn.executemany(f'UPDATE "{invoice_table}" SET status = ? WHERE id = ?', rejected_invoices)
        for period, amount in given_back.items():
            stock_store.change_drawn(period, -amount)
        _audit_many(audit_rows)
    accepted, rejected = len(invoice_updates), len(rejected_entries)
    return accepted, rejected


def record_failure(entry_ids: list[int], error: str, *, outcome_unknown: bool,
                   delay_for: Callable[[int], float]) -> None:
    """A transient failure: retry_wait (or unknown_outcome) with next_try_at = now + delay_for(attempts)."""
    if not entry_ids:
        return
    stamp = now_iso()
    new_state = status.Q_UNKNOWN if outcome_unknown else status.Q_RETRY_WAIT
    with database.atomic("IMMEDIATE"):
        rows = list(_with_numbers().where(UploadQueueEntry.id.in_(entry_ids)
                                          & UploadQueueEntry.state.in_((status.Q_SENDING, status.Q_UNKNOWN))))
        for entry in rows:
            UploadQueueEntry.update(state=new_state, last_error=error[:MAX_ERROR], updated_at=stamp,
                                    next_try_at=iso_in(delay_for(entry.attempts))).where(
                UploadQueueEntry.id == entry.id).execute()
        _audit_many([("send_failed", e.invoice_id, e.invoice.provisional_number,
                      {"error": error[:300], "state": new_state, "attempt": e.attempts}) for e in rows])


def send_again(entry_ids: list[int], why: str) -> None:
    """Entries of a batch the platform did not judge yet (its month was confirmed): pending again, out of the batch."""
    if not entry_ids:
        return
    with database.atomic("IMMEDIATE"):
        rows = _items(_with_numbers().where(UploadQueueEntry.id.in_(entry_ids)
                                            & (UploadQueueEntry.state == status.Q_SENDING)))
        UploadQueueEntry.update(state=status.Q_PENDING, batch=None, next_try_at=None, last_error=why[:MAX_ERROR],
                                updated_at=now_iso()).where(
            UploadQueueEntry.id.in_([e.entry_id for e in rows])).execute()
        _audit_many([("queued", e.invoice_id, e.number, {"why": why[:300]}) for e in rows])


def record_mismatch(invoice_id: int, record: dict[str, Any]) -> str:
    """Why a platform record found under this invoice's number is not this invoice ("" when it is)."""
    body = invoice_bodies([invoice_id])[invoice_id]
    for key in ("number", "total_amount", "total_tax", "total_with_tax", "issued_at"):
        if record.get(key) != body.get(key):
            return f"the platform holds {body.get('number')} with another {key}: {record.get(key)!r}"
    seller = record.get("seller")
    if not isinstance(seller, dict) or seller.get("tax_id") != body["seller"]["tax_id"]:
        return f"the platform holds {body.get('number')} for another seller"
    return ""


def look_up_entry(client: Any, entry: UploadQueueEntry) -> dict[str, Any] | None:
    """The platform's record of an entry's invoice, or None when it holds none: by number on the direct channel;
    on the platform channel by its key, among the records of its day (the platform numbers them itself)."""
    row = InvoiceRow.get_by_id(entry.invoice_id)
    record: dict[str, Any] | None = None
    if row.channel == "direct":
        record = client.invoice_by_number(row.provisional_number)
    else:
        day = row.issued_date
        record = next((dict(found) for found in client.iter_invoices(row.seller_tax_id, day, day)
                       if found.get("key") == entry.idempotency_key), None)
    if record is not None:
        # Believed only when it is this invoice (on the platform channel the number is the platform's own).
        compared = record if row.channel == "direct" else {**record, "number": row.provisional_number}
        mismatch = record_mismatch(row.id, compared)
        if mismatch:
            raise TransientFailure(f"平台记录与本机发票不符，未采信 (the platform's record does not fit this invoice: "
                                   f"{mismatch})")
    return record


def postpone(entry_ids: list[int], delay: float, why: str) -> None:
    """Claimed and not sent (the platform failed on the one before): retry_wait as long as that one, untouched."""
    if not entry_ids:
        return
    with database.atomic("IMMEDIATE"):
        rows = list(_with_numbers().where(UploadQueueEntry.id.in_(entry_ids)
                                          & (UploadQueueEntry.state == status.Q_SENDING)))
        UploadQueueEntry.update(state=status.Q_RETRY_WAIT, attempts=UploadQueueEntry.attempts - 1,
                                next_try_at=iso_in(delay), last_error=why[:MAX_ERROR], updated_at=now_iso()).where(
            UploadQueueEntry.id.in_([e.id for e in rows])).execute()


def release_unsent(entry_ids: list[int], error: str) -> None:
    """The platform refused the token (401): nothing was done, so back to pending, untouched."""
    if not entry_ids:
        return
    with database.atomic("IMMEDIATE"):
        rows = list(_with_numbers().where(UploadQueueEntry.id.in_(entry_ids)
                                          & (UploadQueueEntry.state == status.Q_SENDING)))
        UploadQueueEntry.update(state=status.Q_PENDING, attempts=UploadQueueEntry.attempts - 1, next_try_at=None,
                                last_error=error[:MAX_ERROR], updated_at=now_iso()).where(
            UploadQueueEntry.id.in_([e.id for e in rows])).execute()
        _audit_many([("queued", e.invoice_id, e.invoice.provisional_number, {"why": error[:300]}) for e in rows])


# --- the clerk's actions -------------------------------------------------------------------------------

def make_due_now() -> int:
    """"Upload now": every entry waiting to retry, and every open upload batch, is due at once. Returns how many
    entries."""
    with database.atomic("IMMEDIATE"):
        changed: int = UploadQueueEntry.update(next_try_at=None).where(
            UploadQueueEntry.state.in_((status.Q_RETRY_WAIT, status.Q_UNKNOWN, status.Q_LOOKUP))).execute()
        UploadBatch.update(next_try_at=None).where(
            UploadBatch.state.in_((status.B_POSTING, status.B_AWAITING))).execute()
        return changed


def requeue(number: str, *, clerk: str = "", why: str = "") -> None:
    """Send a rejected invoice again under its own key (e.g. after the platform fixed a rule on its
    side, or reconciliation found it missing). Raises ValidationFailed naming why not."""

    with database.atomic("IMMEDIATE"):
        row = find_row(number)
        if row is None:
            raise ValidationFailed([FieldError("number", f"没有号码为 {number} 的发票",
                                               f"no invoice numbered {number}")])
        entry = UploadQueueEntry.get_or_none(UploadQueueEntry.invoice == row)
        if row.status == status.CANCELLED or entry is None or entry.state == status.Q_WITHDRAWN:
            raise ValidationFailed([FieldError("number", f"发票 {row.provisional_number} 已作废，不能再上传",
                                               f"invoice {row.provisional_number} is cancelled")])
        if entry.state == status.Q_ACCEPTED and row.status == status.ACCEPTED and not why:
            raise ValidationFailed([FieldError("number", f"发票 {row.provisional_number} 已被平台接受",
                                               f"invoice {row.provisional_number} was accepted already")])
        if row.status == status.UPLOAD_TOO_LATE:
            raise ValidationFailed([FieldError(
                "number", f"发票 {row.provisional_number} 已超期，平台不会再接受；请重新开具（reissue）",
                f"invoice {row.provisional_number} is too late: the platform will never take it; issue it again "
                "(reissue)")])
        UploadQueueEntry.update(state=status.Q_PENDING, batch=None, next_try_at=None, last_error="",
                                updated_at=now_iso()).where(UploadQueueEntry.id == entry.id).execute()
        if row.status == status.REJECTED:
            waiting = status.PENDING_UPLOAD if row.channel == "direct" else status.PRE_ISSUE
            InvoiceRow.update(status=waiting).where(InvoiceRow.id == row.id).execute()
            if row.quota_period and row.quota_drawn:
                stock_store.change_drawn(row.quota_period, row.quota_drawn)  # given back at the rejection
        audit.append("queued", clerk=clerk, invoice=row, detail={"why": why or "requeued by the clerk",
                                                                 "from": entry.state})


# --- the hold after a restore ---------------------------------------------------------------------
# A store restored from a backup may have forgotten what happened after the backup: an invoice
# cancelled since then is "waiting" again and would be uploaded. So a restore holds uploads until
# the clerk has reconciled with the platform and releases the hold (app, or `queue --release-hold`).

UPLOAD_HOLD_SETTING = "upload_hold"


class UploadHold(TypedDict):
    """The setting a restore (or hold_uploads) writes: why uploads wait, and since when."""

    reason: str
    since: str


def upload_hold() -> UploadHold | None:
    hold: UploadHold | None = get_setting(UPLOAD_HOLD_SETTING)  # JSON as hold_uploads / a restore wrote it
    return hold


def hold_uploads(reason: str) -> None:
    set_setting(UPLOAD_HOLD_SETTING, UploadHold(reason=reason, since=now_iso()))


def release_upload_hold(clerk: str = "") -> bool:
    """Lift the hold; audited. False when there was none."""

    with database.atomic("IMMEDIATE"):
        hold = upload_hold()
        if hold is None:
            return False
        Setting.delete().where(Setting.key == UPLOAD_HOLD_SETTING).execute()
        audit.append("upload_hold_released", clerk=clerk, detail=dict(hold))
    return True


# --- what the clerk reads ----------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueRow:
    invoice_id: int
    number: str
    buyer_name: str
    total_with_tax: Decimal
    state: str
    attempts: int
    last_error: str
    next_try_at: str | None
    updated_at: str
    invoice_status: str


def queue_rows(states: Iterable[str] | None = None, limit: int = 1000) -> list[QueueRow]:
    """The first `limit` queue entries (by id) in these states, with their invoices. Of some states: their ids are
    found on the (state, id) index first (`id + 0`: sorted after, not read in id order), then the rows by id; asked
    in one statement SQLite walked every entry in id order, the accepted million before the few that wait
    (0.2 s at a million, every time the queue view refreshed)."""
    query = (UploadQueueEntry.select(UploadQueueEntry, InvoiceRow.id, InvoiceRow.provisional_number,
                                     InvoiceRow.buyer_name, InvoiceRow.total_with_tax, InvoiceRow.status)
             .join(InvoiceRow))
    if states is not None:
        ids = [entry.id for entry in UploadQueueEntry.select(UploadQueueEntry.id)
               .where(UploadQueueEntry.state.in_(list(states))).order_by(UploadQueueEntry.id + 0).limit(limit)]
        if not ids:
            return []
        query = query.where(UploadQueueEntry.id.in_(ids))
    query = query.order_by(UploadQueueEntry.id).limit(limit)
    return [QueueRow(e.invoice_id, e.invoice.provisional_number, e.invoice.buyer_name, e.invoice.total_with_tax,
                     e.state, e.attempts, e.last_error, e.next_try_at, e.updated_at, e.invoice.status)
            for e in query]


def rejection_reasons(last_error: str) -> list[dict[str, str]]:
    try:
        value = json.loads(last_error)
    except (TypeError, json.JSONDecodeError):
        return []
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Attempt:
    at: str
    action: str
    detail: dict[str, Any]  # as the audit entry recorded it (JSON)


UPLOAD_ACTIONS = ("sent", "send_failed", "send_outcome_unknown", "accepted", "rejected", "queued", "reissued")


def attempt_history(invoice_id: int) -> list[Attempt]:
    """The upload's history of one invoice, from the audit log, oldest first."""
    query = (AuditEntry.select(AuditEntry.at, AuditEntry.action, AuditEntry.detail)
             .where((AuditEntry.invoice == invoice_id) & AuditEntry.action.in_(UPLOAD_ACTIONS))
             .order_by(AuditEntry.id))
    return [Attempt(a.at, a.action, json.loads(a.detail)) for a in query]

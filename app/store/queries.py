"""Reading the store: the invoice list (paged, for a lazy view), one invoice, the buyer directory,
what remains of an invoice to reverse, and the outage log.

Everything here returns read models (frozen dataclasses), never peewee rows: the UI and the
command line get these, so nothing above the store holds a row that could lazily query again.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

import peewee

from app.core import status as statuses
from app.core.clock import now
from app.core.invoice import Invoice
from app.core.invoice_query import InvoiceQuery
from app.core.lifecycle import ReversalRoom
from app.core.money import ZERO
from app.store import invoice_search
from app.store.models import (
    AuditEntry,
    CancellationRequest,
    InvoiceLine,
    InvoiceTally,
    Outage,
    OutageError,
    OutageNote,
    UploadQueueEntry,
    database,
)
from app.store.models import Invoice as InvoiceRow
from app.store.records import invoice_from_row


class InvoiceSummary(NamedTuple):
    """One row of the list (a read model). A named tuple, not a dataclass: a page of them is built in
    about half the time, so the app's page costs little more than SQLite's own read of it."""

    id: int
    number: str
    official_number: str | None
    issued_at: str
    buyer_name: str
    total_with_tax: Decimal
    status: str
    kind: str
    buyer_tax_id: str = ""
    original_number: str | None = None  # set on a red-letter invoice: the blue one it reverses

    @property
    def red(self) -> bool:
        return self.original_number is not None

    @classmethod
    def of(cls, row: InvoiceRow) -> InvoiceSummary:
        """From a row selected with _SUMMARY_FIELDS (or a whole row)."""
        return cls(row.id, row.provisional_number, row.official_number, row.issued_at, row.buyer_name,
                   row.total_with_tax, row.status, row.kind, row.buyer_tax_id, row.original_number)


_SUMMARY_FIELDS = (InvoiceRow.id, InvoiceRow.provisional_number, InvoiceRow.official_number, InvoiceRow.issued_at,
                   InvoiceRow.buyer_name, InvoiceRow.total_with_tax, InvoiceRow.status, InvoiceRow.kind,
                   InvoiceRow.buyer_tax_id, InvoiceRow.original_number)
_SUMMARY_COLUMNS = ("id, provisional_number, official_number, issued_at, buyer_name, total_with_tax, status, kind, "
                    "buyer_tax_id, original_number")


_new_tuple = tuple.__new__


def _summary(row: Sequence[Any]) -> InvoiceSummary:
    """A row of _SUMMARY_COLUMNS (total_with_tax is whole fen: MoneyField). Made by tuple.__new__, every field given:
    the named tuple's own __new__ (a Python function, with its defaults) took twice as long as SQLite's read of the
    row."""
    id_, number, official, issued_at, buyer, fen, status_, kind, tax_id, original = row if len(row) == 10 else row[:10]
    summary: InvoiceSummary = _new_tuple(InvoiceSummary, (id_, number, official, issued_at, buyer,
                                                          Decimal(fen).scaleb(-2), status_, kind, tax_id, original))
    return summary


def _summaries(sql: str, params: Sequence[object]) -> list[InvoiceSummary]:
    return [_summary(row) for row in database.execute_sql(sql, params)]


@dataclass(frozen=True)
class SummaryPage:
    """A page of a searched list, and where the next one starts (None: there is none)."""

    rows: list[InvoiceSummary]
    after: invoice_search.Cursor | None


_SEARCH_COLUMNS = ", ".join(f"invoice.{name.strip()}" for name in _SUMMARY_COLUMNS.split(","))


def search_page(query: InvoiceQuery | invoice_search.Prepared, limit: int = 100,
                after: invoice_search.Cursor | None = None) -> SummaryPage:
    """A page of the list for any search, filter and sort, by key (app.store.invoice_search)."""
    found = invoice_search.select_page(query, _SEARCH_COLUMNS, limit, after)
    return SummaryPage([_summary(row) for row in found.rows], found.after)


def iter_search(query: InvoiceQuery, page: int = 1000) -> Iterator[InvoiceSummary]:
    """Every invoice of a search in its order, a page at a time (the command line's `list`)."""
    for row in invoice_search.iter_rows(query, _SEARCH_COLUMNS, page):
        yield _summary(row)


def _filtered(status: str | None):
    query = InvoiceRow.select(*_SUMMARY_FIELDS)
    if status:
        query = query.where(InvoiceRow.status == status)
    return query


def change_mark() -> tuple[int | None, int | None]:
    """(newest invoice id, newest audit entry id): two seeks. Every change to an invoice writes an audit entry in
    its transaction, so an unchanged mark means the list is as it was, without counting a million rows."""
    row = database.execute_sql("SELECT (SELECT max(id) FROM invoice), (SELECT max(id) FROM audit_entry)").fetchone()
    return (row[0], row[1]) if row else (None, None)


_TALLY_ALL = f'SELECT COALESCE(SUM("count"), 0) FROM "{InvoiceTally._meta.table_name}"'
_TALLY_OF = f'SELECT COALESCE(SUM("count"), 0) FROM "{InvoiceTally._meta.table_name}" WHERE "status" = ?'


def count_invoices(status: str | None = None) -> int:
    """How many invoices there are (of one status): the triggers' tally (schema 11), a few rows, where a count(*)
    read the whole table (a tenth of a second at a million). `audit verify --full` compares it with a count."""
    cursor = database.execute_sql(_TALLY_OF, (status,)) if status else database.execute_sql(_TALLY_ALL)
    return int(cursor.fetchone()[0])


def counted_invoices(status: str | None = None) -> int:
    """The same by counting the rows (what the tally is checked against)."""
    return _filtered(status).count()


@dataclass(frozen=True)
class IdRange:
    """The newest and oldest invoice id and how many there are (of one status, or all)."""

    count: int
    newest: int | None
    oldest: int | None

    @property
    def dense(self) -> bool:
        """No id is missing between the oldest and the newest: row r (newest first) is id newest - r."""
        return self.newest is not None and self.oldest is not None and self.newest - self.oldest + 1 == self.count


def id_range(status: str | None = None) -> IdRange:
    """A count and two index look-ups (each its own query, so SQLite's count and min/max shortcuts
    apply): what keyset paging needs to place a row without OFFSET."""
    def one(aggregate: peewee.Function) -> int | None:
        query = InvoiceRow.select(aggregate)
        return query.where(InvoiceRow.status == status).scalar() if status else query.scalar()

    count = count_invoices(status)
    if not count:
        return IdRange(0, None, None)
    return IdRange(count, one(peewee.fn.MAX(InvoiceRow.id)), one(peewee.fn.MIN(InvoiceRow.id)))


def list_page(limit: int = 100, status: str | None = None, *, below: int | None = None, above: int | None = None,
              at_most: int | None = None) -> list[InvoiceSummary]:
    """A page of the list by key (never OFFSET), newest first, in O(log n) whatever its depth.

    below: ids < below (the page after one whose last id is below); at_most: ids <= at_most; above:
    the `limit` oldest ids > above (the page before one whose first id is above; with above=0, the
    oldest page). Each reads `limit` entries of the primary key (or of the status index)."""
    conditions: list[str] = []
    params: list[object] = []
    if status:
        conditions.append("status = ?")
        params.append(status)
    for bound, condition in ((below, "id < ?"), (at_most, "id <= ?"), (above, "id > ?")):
        if bound is not None:
            conditions.append(condition)
            params.append(bound)
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    order = "ASC" if above is not None else "DESC"
    rows = _summaries(f"SELECT {_SUMMARY_COLUMNS} FROM invoice {where}ORDER BY id {order} LIMIT ?", [*params, limit])
    if above is not None:
        rows.reverse()
    return rows


def page_anchors(every: int, status: str | None = None) -> list[int]:
    """The id that starts every every-th row, newest first (anchors[k] starts page k of size every).

    One pass over the (status) index in SQLite, none in Python: for jumps into the middle of a
    filtered list (an unfiltered one is dense and needs none)."""
    where = "WHERE status = ?" if status else ""
    sql = (f"SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id DESC) - 1 AS position FROM invoice {where}) "
           "WHERE position % ? = 0 ORDER BY id DESC")
    params: tuple[object, ...] = (status, every) if status else (every,)
    return [row[0] for row in database.execute_sql(sql, params).fetchall()]


def iter_invoices(status: str | None = None, page: int = 1000) -> Iterator[InvoiceSummary]:
    """Every invoice newest first, a page at a time by key: constant memory, linear time (for the CLI's list)."""
    below: int | None = None
    while True:
        rows = list_page(page, status, below=below)
        yield from rows
        if len(rows) < page:
            return
        below = rows[-1].id


class _Continuation(threading.local):
    """Where the last list_invoices call of this thread ended: (the database, status, next offset, last id)."""

    last: tuple[weakref.ref[peewee.Database], str | None, int, int] | None = None


_continuation = _Continuation()


def list_invoices(offset: int = 0, limit: int = 100, status: str | None = None) -> list[InvoiceSummary]:
    """Newest first. Rows are read a page at a time, so a million invoices cost one page of memory.

    A call that starts where the previous one (of this thread, same status) ended continues by key,
    so walking the whole list page by page is linear; any other offset is counted (OFFSET). The list
    model pages by key (list_page); prefer iter_invoices for a walk."""
    last, store = _continuation.last, database.obj
    if offset and last is not None and last[0]() is store and last[1:3] == (status, offset):
        rows = list_page(limit, status, below=last[3])
    else:
        query = _filtered(status).order_by(InvoiceRow.id.desc()).offset(offset).limit(limit)
        rows = [InvoiceSummary.of(r) for r in query]
    _continuation.last = (weakref.ref(store), status, offset + len(rows), rows[-1].id) if rows and store else None
    return rows


@dataclass(frozen=True)
class InvoiceRecord:
    """What the store knows of an invoice beyond its body: its numbers, state and lifecycle (a read model:
    the UI and the command line get this, never the peewee row)."""

    id: int
    provisional_number: str
    official_number: str | None
    status: str
    kind: str
    issued_at: str
    buyer_name: str
    total_with_tax: Decimal
    original_number: str | None
    platform_id: str | None
    accepted_at: str | None
    red_reason: str | None
    cancelled_at: str | None
    cancel_reason: str | None

    @classmethod
    def of(cls, row: InvoiceRow) -> InvoiceRecord:
        return cls(id=row.id, provisional_number=row.provisional_number, official_number=row.official_number,
                   status=row.status, kind=row.kind, issued_at=row.issued_at, buyer_name=row.buyer_name,
                   total_with_tax=row.total_with_tax, original_number=row.original_number,
                   platform_id=row.platform_id, accepted_at=row.accepted_at, red_reason=row.red_reason,
                   cancelled_at=row.cancelled_at, cancel_reason=row.cancel_reason)


@dataclass(frozen=True)
class QueueState:
    """An invoice's place in the upload queue, as the detail view shows it."""

    state: str
    attempts: int
    last_error: str
    next_try_at: str | None


def find_row(number: str) -> InvoiceRow | None:
    """By provisional or official number (for the services; readers use find_invoice)."""
    return InvoiceRow.get_or_none((InvoiceRow.provisional_number == number) | (InvoiceRow.official_number == number))


def find_invoice(number: str) -> InvoiceRecord | None:
    """By provisional or official number."""
    row = find_row(number)
    return InvoiceRecord.of(row) if row is not None else None


def load_invoice(number: str) -> tuple[InvoiceRecord, Invoice] | None:
    """What the store knows of it (status, official number, ...) and the invoice it holds, in one look-up."""
    row = find_row(number)
    if row is None:
        return None
    lines = list(InvoiceLine.select().where(InvoiceLine.invoice == row).order_by(InvoiceLine.position))
    return InvoiceRecord.of(row), invoice_from_row(row, lines)


def get_invoice(number: str) -> Invoice | None:
    loaded = load_invoice(number)
    return loaded[1] if loaded else None


def queue_entry(invoice_id: int) -> UploadQueueEntry | None:
    return UploadQueueEntry.get_or_none(UploadQueueEntry.invoice == invoice_id)


def queue_state(invoice_id: int) -> QueueState | None:
    entry = queue_entry(invoice_id)
    if entry is None:
        return None
    return QueueState(entry.state, entry.attempts, entry.last_error, entry.next_try_at)


# --- red-letter invoices against an original ------------------------------------------------------

class Numbered(Protocol):
    """An invoice as these reads need it: an InvoiceRecord, or (in the services) the row itself."""

    @property
    def provisional_number(self) -> str: ...
    @property
    def official_number(self) -> str | None: ...
    @property
    def total_with_tax(self) -> Decimal: ...


def _numbers(original: Numbered) -> list[str]:
    return [n for n in (original.provisional_number, original.official_number) if n]


def reversal_room(original: Numbered) -> ReversalRoom:
    """What is left of the original to reverse: its total less every red-letter invoice against it
    that is not cancelled or rejected (issue_red_letter checks it again in its transaction)."""
    reds = (InvoiceRow.select(peewee.fn.SUM(InvoiceRow.total_with_tax).coerce(False))
            .where(InvoiceRow.original_number.in_(_numbers(original))
                   & InvoiceRow.status.not_in((statuses.CANCELLED, statuses.REJECTED))).scalar())
    reversed_so_far = -(Decimal(reds) / 100).quantize(Decimal("0.01")) if reds else ZERO
    return ReversalRoom(original.total_with_tax, reversed_so_far)


def red_letter_numbers(original: Numbered) -> list[str]:
    """The red-letter invoices issued against it, oldest first."""
    return [r.provisional_number for r in InvoiceRow.select(InvoiceRow.provisional_number)
            .where(InvoiceRow.original_number.in_(_numbers(original))).order_by(InvoiceRow.id)]


def cancellation_waiting(invoice_id: int) -> bool:
    """A cancellation was asked for and waits for the upload's outcome."""
    return CancellationRequest.select().where((CancellationRequest.invoice == invoice_id)
                                              & (CancellationRequest.state == statuses.REQUEST_WAITING)).exists()


# --- the outage log --------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutageErrorEntry:
    message: str
    count: int
    first_seen: str
    last_seen: str


@dataclass(frozen=True)
class OutageNoteEntry:
    at: str
    clerk: str
    text: str


@dataclass(frozen=True)
class OutageRecord:
    """One outage as the outage log shows it: when, what was seen and tried, what was issued meanwhile."""

    id: int
    started_at: str
    ended_at: str | None
    failed_checks: int
    upload_attempts: int
    errors: tuple[OutageErrorEntry, ...]
    notes: tuple[OutageNoteEntry, ...]
    invoices: tuple[InvoiceSummary, ...]

    def duration(self, at: datetime | None = None) -> str:
        """H:MM:SS from the start to the end (or to now, while it lasts)."""
        end = datetime.fromisoformat(self.ended_at) if self.ended_at else (at or now())
        seconds = int((end - datetime.fromisoformat(self.started_at)).total_seconds())
        hours, rest = divmod(max(seconds, 0), 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}"


def _invoices_during(outage: Outage) -> tuple[InvoiceSummary, ...]:
    """Invoices issued between the outage's start and end (or now, while it lasts).

    Judged by the order of the audit log (each invoice's "issued" entry against the last entry
    when the outage opened and closed), not by issue dates, which a clerk may set earlier and
    which may tie to the millisecond."""
    issued = AuditEntry.select(AuditEntry.invoice).where(
        (AuditEntry.action == "issued") & (AuditEntry.id > outage.audit_id_at_start))
    if outage.audit_id_at_end is not None:
        issued = issued.where(AuditEntry.id <= outage.audit_id_at_end)
    query = InvoiceRow.select(*_SUMMARY_FIELDS).where(InvoiceRow.id.in_(issued)).order_by(InvoiceRow.id)
    return tuple(InvoiceSummary.of(r) for r in query)


def _outage_record(outage: Outage) -> OutageRecord:
    errors = OutageError.select().where(OutageError.outage == outage).order_by(OutageError.first_seen)
    notes = OutageNote.select().where(OutageNote.outage == outage).order_by(OutageNote.id)
    return OutageRecord(
        id=outage.id, started_at=outage.started_at, ended_at=outage.ended_at,
        failed_checks=outage.failed_checks, upload_attempts=outage.upload_attempts,
        errors=tuple(OutageErrorEntry(e.message, e.count, e.first_seen, e.last_seen) for e in errors),
        notes=tuple(OutageNoteEntry(n.at, n.clerk, n.text) for n in notes),
        invoices=_invoices_during(outage))


def outage_record(outage_id: int) -> OutageRecord | None:
    outage = Outage.get_or_none(Outage.id == outage_id)
    return _outage_record(outage) if outage is not None else None


def list_outages(limit: int = 500) -> list[OutageRecord]:
    """Newest first, each with its errors, notes and the invoices issued meanwhile."""
    return [_outage_record(o) for o in Outage.select().order_by(Outage.id.desc()).limit(limit)]

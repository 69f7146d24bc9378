"""The outage log: each spell of the platform not answering, recorded on its own.

An outage opens at the first failed check after the platform was answering, collects the
errors seen (one row per distinct message, with a count and first/last time), counts what
was tried (failed health checks, failed uploads), and closes at the first good answer.
The invoices issued meanwhile are those issued between its start and end (judged in
app/store/queries.py, which reads the log for everyone). The clerk adds notes (who was called,
what was tried). fault_report() gathers it all for technical support or the tax office;
app/reports/fault_report.py writes it as PDF and as text.

Fed by the connectivity monitor through app/sync/outage_feed.py; the functions take the time
of the event, so a test (or a replay) can give its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypedDict

from app.core import clock, status
from app.core.errors import FieldError, ValidationFailed
from app.core.money import format_money
from app.services.seller import get_seller
from app.store import queries
from app.store.models import AuditEntry, Outage, OutageError, OutageNote, database
from app.store.queries import OutageRecord

MAX_MESSAGE = 300  # an error message is kept to this length, so a huge HTML error page is not stored


def _iso(at: datetime | None) -> str:
    return (at or clock.now_exact()).isoformat(timespec="milliseconds")


def _last_audit_id() -> int:
    last = AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id.desc()).first()
    return last.id if last else 0


def open_outage() -> Outage | None:
    return Outage.select().where(Outage.ended_at.is_null()).order_by(Outage.id.desc()).get_or_none()


def record_failure(message: str, *, at: datetime | None = None, upload: bool = False) -> Outage:
    """A failed check (or, with upload=True, a failed upload): opens an outage if none is open."""
    stamp = _iso(at)
    message = (message or "unknown error").strip()[:MAX_MESSAGE]
    with database.atomic("IMMEDIATE"):
        outage = open_outage()
        if outage is None:
            outage = Outage.create(started_at=stamp, audit_id_at_start=_last_audit_id())
        counter = Outage.upload_attempts if upload else Outage.failed_checks
        Outage.update({counter: counter + 1}).where(Outage.id == outage.id).execute()
        seen = OutageError.get_or_none((OutageError.outage == outage) & (OutageError.message == message))
        if seen is None:
            OutageError.create(outage=outage, message=message, first_seen=stamp, last_seen=stamp)
        else:
            OutageError.update(count=OutageError.count + 1, last_seen=stamp).where(OutageError.id == seen.id).execute()
        return Outage.get_by_id(outage.id)


def record_recovery(*, at: datetime | None = None) -> Outage | None:
    """The platform answers again: close the open outage (if any) and return it."""
    with database.atomic("IMMEDIATE"):
        outage = open_outage()
        if outage is None:
            return None
        Outage.update(ended_at=_iso(at), audit_id_at_end=_last_audit_id()).where(Outage.id == outage.id).execute()
        return Outage.get_by_id(outage.id)


def add_note(outage_id: int, text: str, *, clerk: str = "", at: datetime | None = None) -> OutageNote:
    if get_outage(outage_id) is None:
        raise _no_such_outage(outage_id)
    if not text or not text.strip():
        raise ValidationFailed([FieldError("note", "备注不能为空", "a note cannot be empty")])
    if len(text.strip()) > 1000:
        raise ValidationFailed([FieldError("note", "备注不能超过1000个字", "at most 1000 characters")])
    with database.atomic():
        return OutageNote.create(outage=outage_id, at=_iso(at), clerk=clerk, text=text.strip())


def get_outage(outage_id: int) -> Outage | None:
    return Outage.get_or_none(Outage.id == outage_id)


class ErrorSeen(TypedDict):
    message: str
    count: int
    first_seen: str
    last_seen: str


class NoteMade(TypedDict):
    at: str
    clerk: str
    text: str


class InvoiceIssued(TypedDict):
    number: str
    official_number: str | None
    issued_at: str
    buyer: str
    total_with_tax: str  # two places, as the protocol writes money
    status: str


class OutageDescription(TypedDict):
    id: int
    started_at: str
    ended_at: str | None
    duration: str  # h:mm:ss, to now while it lasts
    failed_checks: int
    upload_attempts: int
    errors: list[ErrorSeen]
    notes: list[NoteMade]
    invoices: list[InvoiceIssued]
    too_late: int  # of those, how many the platform refused as too late (issue them again)
    pre_issue: int  # pre-issue records (platform channel) still not issued by the platform


def _no_such_outage(outage_id: int) -> ValidationFailed:
    return ValidationFailed([FieldError("outage", f"没有编号为 {outage_id} 的停机记录", f"no outage {outage_id}")])


def _plain(record: OutageRecord) -> OutageDescription:
    return {
        "id": record.id,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "duration": record.duration(),
        "failed_checks": record.failed_checks,
        "upload_attempts": record.upload_attempts,
        "errors": [{"message": e.message, "count": e.count, "first_seen": e.first_seen, "last_seen": e.last_seen}
                   for e in record.errors],
        "notes": [{"at": n.at, "clerk": n.clerk, "text": n.text} for n in record.notes],
        "invoices": [{"number": i.number, "official_number": i.official_number, "issued_at": i.issued_at,
                      "buyer": i.buyer_name, "total_with_tax": format_money(i.total_with_tax), "status": i.status}
                     for i in record.invoices],
        "too_late": sum(1 for i in record.invoices if i.status == status.UPLOAD_TOO_LATE),
        "pre_issue": sum(1 for i in record.invoices if i.status == status.PRE_ISSUE),
    }


def describe(outage_id: int) -> OutageDescription:
    """One outage as plain data (for --json)."""
    record = queries.outage_record(outage_id)
    if record is None:
        raise _no_such_outage(outage_id)
    return _plain(record)


def describe_all(limit: int = 500) -> list[OutageDescription]:
    """Every outage, newest first, as plain data (for --json and the command line's table)."""
    return [_plain(r) for r in queries.list_outages(limit)]


@dataclass(frozen=True)
class FaultReport:
    """What technical support or the tax office asks: when, what was seen, what was tried, what it affected."""

    outage: OutageRecord
    seller_name: str
    seller_tax_id: str
    made_at: str
    invoice_total: Decimal = Decimal("0.00")


def fault_report(outage_id: int) -> FaultReport:
    record = queries.outage_record(outage_id)
    if record is None:
        raise _no_such_outage(outage_id)
    seller = get_seller()
    total = sum((i.total_with_tax for i in record.invoices if i.status != status.CANCELLED), Decimal("0.00"))
    return FaultReport(record, seller.party.name if seller else "", seller.party.tax_id if seller else "",
                       _iso(None), total)

"""Read-only queries behind the desk's channel and deadline figures (app/services/desk_status.py).

Each one goes through the index on invoice.status and touches only the rows of the status asked for
(invoices waiting to upload, pre-issue records, invoices too late): a store of a million accepted
invoices costs no more than one of ten. ORDER BY issued_at (not indexed) keeps SQLite on the status
index; only the rows of that status are sorted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from app.core import status
from app.store.models import AuditEntry
from app.store.models import Invoice as InvoiceRow

BEIJING_SUFFIX = "+08:00"


@dataclass(frozen=True)
class Waiting:
    """An invoice waiting for its upload: its number and when it was issued."""

    number: str
    issued_at: datetime


def oldest_with_status(row_status: str) -> Waiting | None:
    """The invoice of that status issued first. Times in Beijing's offset sort as text; the rare one
    typed with another offset is compared as a time (as app/services/limits.current_usage does)."""
    of_status = InvoiceRow.select(InvoiceRow.provisional_number, InvoiceRow.issued_at).where(
        InvoiceRow.status == row_status)
    candidates: list[Waiting] = []
    first = of_status.where(InvoiceRow.issued_at.endswith(BEIJING_SUFFIX)).order_by(InvoiceRow.issued_at).first()
    if first is not None:
        candidates.append(Waiting(first.provisional_number, datetime.fromisoformat(first.issued_at)))
    for row in of_status.where(~InvoiceRow.issued_at.endswith(BEIJING_SUFFIX)):
        candidates.append(Waiting(row.provisional_number, datetime.fromisoformat(row.issued_at)))
    return min(candidates, key=lambda w: w.issued_at) if candidates else None


def oldest_waiting_upload() -> Waiting | None:
    """The direct-channel invoice waiting longest for its upload (status pending_upload)."""
    return oldest_with_status(status.PENDING_UPLOAD)


def count_with_status(row_status: str) -> int:
    """From the triggers' tally (schema 11): the status bar asks at every start and after every change."""
    from app.store.queries import count_invoices

    return count_invoices(row_status)


def count_pre_issue() -> int:
    """Pre-issue records (预开单) waiting for the platform to issue them."""
    return count_with_status(status.PRE_ISSUE)


def count_too_late() -> int:
    """Direct-channel invoices not uploaded in time: never valid, to be issued again."""
    return count_with_status(status.UPLOAD_TOO_LATE)


def count_waiting_upload() -> int:
    return count_with_status(status.PENDING_UPLOAD)


def reissued_as(invoice_id: int) -> str | None:
    """The number of the invoice that replaced a too-late one (its "reissued" audit entry; the index on
    audit_entry.invoice_id finds it, where invoice.reissue_of has none)."""
    entry = (AuditEntry.select(AuditEntry.detail)
             .where((AuditEntry.invoice == invoice_id) & (AuditEntry.action == "reissued"))
             .order_by(AuditEntry.id.desc()).first())
    if entry is None:
        return None
    value = json.loads(entry.detail or "{}").get("as")
    return str(value) if value else None

"""Reading the store: the invoice list (paged, for a lazy view), one invoice, the buyer directory."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.core.invoice import Invoice
from app.store.models import Buyer, InvoiceLine, UploadQueueEntry
from app.store.models import Invoice as InvoiceRow
from app.store.records import invoice_from_row


@dataclass(frozen=True)
class InvoiceSummary:
    id: int
    number: str
    official_number: str | None
    issued_at: str
    buyer_name: str
    total_with_tax: Decimal
    status: str
    kind: str


_SUMMARY_FIELDS = (InvoiceRow.id, InvoiceRow.provisional_number, InvoiceRow.official_number, InvoiceRow.issued_at,
                   InvoiceRow.buyer_name, InvoiceRow.total_with_tax, InvoiceRow.status, InvoiceRow.kind)


def _filtered(status: str | None):
    query = InvoiceRow.select(*_SUMMARY_FIELDS)
    if status:
        query = query.where(InvoiceRow.status == status)
    return query


def count_invoices(status: str | None = None) -> int:
    return _filtered(status).count()


def list_invoices(offset: int = 0, limit: int = 100, status: str | None = None) -> list[InvoiceSummary]:
    """Newest first. Rows are read a page at a time, so a million invoices cost one page of memory."""
    query = _filtered(status).order_by(InvoiceRow.id.desc()).offset(offset).limit(limit)
    return [
        InvoiceSummary(r.id, r.provisional_number, r.official_number, r.issued_at, r.buyer_name,
                       r.total_with_tax, r.status, r.kind)
        for r in query
    ]


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


@dataclass(frozen=True)
class BuyerEntry:
    """One buyer of the directory, for completion in the form."""

    name: str
    tax_id: str
    address: str
    phone: str
    bank: str
    account: str
    use_count: int


def search_buyers(prefix: str, limit: int = 20) -> list[BuyerEntry]:
    """Buyers whose name or taxpayer id starts with the text typed, most used first."""
    text = prefix.strip()
    query = Buyer.select()
    if text:
        query = query.where(Buyer.name.contains(text) | Buyer.tax_id.startswith(text.upper()))
    return [BuyerEntry(b.name, b.tax_id, b.address, b.phone, b.bank, b.account, b.use_count)
            for b in query.order_by(Buyer.use_count.desc(), Buyer.last_used_at.desc()).limit(limit)]

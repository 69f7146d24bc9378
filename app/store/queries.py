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


def find_row(number: str) -> InvoiceRow | None:
    """By provisional or official number."""
    return InvoiceRow.get_or_none((InvoiceRow.provisional_number == number) | (InvoiceRow.official_number == number))


def load_invoice(number: str) -> tuple[InvoiceRow, Invoice] | None:
    """The stored row (status, official number, ...) and the invoice it holds, in one look-up."""
    row = find_row(number)
    if row is None:
        return None
    lines = list(InvoiceLine.select().where(InvoiceLine.invoice == row).order_by(InvoiceLine.position))
    return row, invoice_from_row(row, lines)


def get_invoice(number: str) -> Invoice | None:
    loaded = load_invoice(number)
    return loaded[1] if loaded else None


def queue_entry(invoice_id: int) -> UploadQueueEntry | None:
    return UploadQueueEntry.get_or_none(UploadQueueEntry.invoice == invoice_id)


def search_buyers(prefix: str, limit: int = 20) -> list[Buyer]:
    """Buyers whose name or taxpayer id starts with the text typed, most used first."""
    text = prefix.strip()
    query = Buyer.select()
    if text:
        query = query.where(Buyer.name.contains(text) | Buyer.tax_id.startswith(text.upper()))
    return list(query.order_by(Buyer.use_count.desc(), Buyer.last_used_at.desc()).limit(limit))

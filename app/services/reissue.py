"""Issuing a sale again when its invoice can never become valid: it was not uploaded within 48 hours of
issue, or before its month closed (status upload_too_late, shudian-rules.md section 5). The new invoice
takes a new number (and quota) on today's channel and date; it points to the old one (`reissue_of`, and
the audit entries "issued" with reissue_of and "reissued" on the old invoice, in the same transaction).
An invoice is issued again at most once."""

from __future__ import annotations

from typing import Any

from app.core import status
from app.core.codec import invoice_to_body
from app.core.errors import FieldError, ValidationFailed
from app.services.issuing import IssuedInvoice, issue_invoices
from app.store import audit
from app.store.models import Invoice as InvoiceRow
from app.store.queries import find_row
from app.store.records import invoice_from_row

# What the new invoice gets afresh: its number, date and totals (worked out again by the same rules).
FRESH_FIELDS = ("number", "issued_at", "total_amount", "total_tax", "total_with_tax")
FRESH_LINE_FIELDS = ("line_no", "name", "amount_with_tax")


def _fail(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed([FieldError("number", zh, en)])


def _refusal(row: InvoiceRow | None, number: str) -> ValidationFailed | None:
    if row is None:
        return _fail(f"没有号码为 {number} 的发票", f"no invoice numbered {number}")
    if row.status != status.UPLOAD_TOO_LATE:
        return _fail(f"发票 {row.provisional_number} 不是超期未上传的发票，不能重新开具",
                     f"invoice {row.provisional_number} is not one that was too late to upload: nothing to issue again")
    again = InvoiceRow.get_or_none(InvoiceRow.reissue_of == row.provisional_number)
    if again is not None:
        return _fail(f"发票 {row.provisional_number} 已重新开具为 {again.provisional_number}",
                     f"invoice {row.provisional_number} was issued again already, as {again.provisional_number}")
    return None


def sale_of(row: InvoiceRow) -> dict[str, Any]:
    """The sale an invoice records, as a draft for a new invoice."""
    body = invoice_to_body(invoice_from_row(row))
    for key in FRESH_FIELDS:
        body.pop(key, None)
    for line in body.get("lines") or []:
        for key in FRESH_LINE_FIELDS:
            line.pop(key, None)
    return body


def reissue(number: str, *, clerk: str = "") -> IssuedInvoice:
    """Issue the sale of a too-late invoice again; ValidationFailed naming why not."""
    row = find_row(number)
    refusal = _refusal(row, number)
    if refusal is not None:
        raise refusal
    assert row is not None
    old_number = row.provisional_number

    def link() -> str:
        # Checked again under the write lock: two clerks cannot both issue it again.
        fresh = InvoiceRow.get_by_id(row.id)
        again = _refusal(fresh, number)
        if again is not None:
            raise again
        return old_number

    def record(written: list[IssuedInvoice]) -> None:
        audit.append("reissued", clerk=clerk, invoice=row, detail={"as": written[0].number, "why": "upload_too_late"})

    return issue_invoices([sale_of(row)], confirmed_tax_ids=row.confirmed_tax_ids.split(),
                          confirmed_short_name=row.confirmed_short_name, clerk=clerk, before_write=link,
                          after_write=record)[0]

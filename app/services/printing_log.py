"""Which invoices print, as what, and the audit trail of every print.

Only stored (issued) invoices print: a view is built from the store row, never from a
draft. A pre-issue record (预开单, no official number) prints too, as what it is: not an
invoice (app.printing.view.PrintView.pre_issue decides the paper). Every print is an audit
entry "printed"; an invoice that has one already prints as a copy (副本).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.core import status
from app.core.errors import EXIT_BAD_INPUT, DeskError
from app.core.qr_content import PaperForm
from app.printing.view import PrintView
from app.store import audit
from app.store.models import AuditEntry, InvoiceLine, database
from app.store.models import Invoice as InvoiceRow
from app.store.queries import find_row
from app.store.records import invoice_from_row

PRINTED = "printed"


class UnknownInvoices(DeskError):
    """Some numbers name no stored invoice; nothing was printed."""

    def __init__(self, numbers: list[str]):
        super().__init__(f"number（发票号码）：没有这些号码的发票：{', '.join(numbers)}",
                         f"number: no such invoice: {', '.join(numbers)}", exit_code=EXIT_BAD_INPUT)
        self.numbers = numbers


def _printed_before(invoice_ids: Iterable[int]) -> set[int]:
    ids = list(invoice_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 500):  # stay well below SQLite's bound-variable limit
        chunk = ids[start:start + 500]
        query = (AuditEntry.select(AuditEntry.invoice).distinct()
                 .where((AuditEntry.action == PRINTED) & AuditEntry.invoice.in_(chunk)))
        found.update(entry.invoice_id for entry in query if entry.invoice_id is not None)
    return found


def load_print_views(numbers: Sequence[str]) -> list[PrintView]:
    """One view per number (provisional or official), in the order given.

    Raises UnknownInvoices naming every number not in the store. A number printed before,
    or given twice in one job, is a copy the second time.
    """
    rows: list[InvoiceRow] = []
    unknown: list[str] = []
    for number in numbers:
        row = find_row(number.strip())
        if row is None:
            unknown.append(number)
        else:
            rows.append(row)
    if unknown:
        raise UnknownInvoices(unknown)
    printed = _printed_before(row.id for row in rows)
    views = []
    for row in rows:
        lines = list(InvoiceLine.select().where(InvoiceLine.invoice == row).order_by(InvoiceLine.position))
        views.append(PrintView(invoice=invoice_from_row(row, lines), status=row.status,
                               official_number=row.official_number, content_hash=row.content_hash,
                               copy=row.id in printed, cancelled=row.status == status.CANCELLED))
        printed.add(row.id)
    return views


def record_printed(views: Sequence[PrintView], *, clerk: str, layout: str, paper: str, target: str,
                   forms: Sequence[PaperForm] | None = None) -> None:
    """One audit entry per invoice printed, all in one transaction; call once the paper or file is made.

    target says where it went: a file path or a printer name. forms: for paper invoices printed onto pre-printed
    forms, the sheet each went onto (its code and 8-digit number go into the entry, form_code / form_number).
    """
    if forms is not None and len(forms) != len(views):
        raise ValueError(f"{len(forms)} forms for {len(views)} prints")
    with database.atomic("IMMEDIATE"):
        for index, view in enumerate(views):
            row = InvoiceRow.get(InvoiceRow.provisional_number == view.invoice.number)
            detail: dict[str, object] = {"copy": view.copy, "layout": layout, "paper": paper, "target": target,
                                         "official_number": view.official_number or "", "pre_issue": view.pre_issue}
            if forms is not None:
                detail.update(form_code=forms[index].code, form_number=forms[index].number)
            audit.append(PRINTED, clerk=clerk or view.invoice.drawer, invoice=row, detail=detail)


def print_count(number: str) -> int:
    """How many times an invoice has been printed."""
    row = find_row(number)
    if row is None:
        return 0
    return AuditEntry.select().where((AuditEntry.action == PRINTED) & (AuditEntry.invoice == row)).count()

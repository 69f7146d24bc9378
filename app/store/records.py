"""Between the domain's Invoice and the store's rows."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from app.core.codec import invoice_to_body
from app.core.invoice import Invoice, InvoiceKind, Line, Party
from app.store import models
from app.store.audit import canonical_json


def content_hash(invoice: Invoice) -> str:
    """sha256 of the protocol body: what the paper, the platform and the store must agree on."""
    return hashlib.sha256(canonical_json(invoice_to_body(invoice)).encode("utf-8")).hexdigest()


def invoice_from_row(row: models.Invoice, lines: list[models.InvoiceLine] | None = None) -> Invoice:
    if lines is None:
        lines = list(row.lines.order_by(models.InvoiceLine.position))
    return Invoice(
        kind=InvoiceKind(row.kind),
        number=row.provisional_number,
        issued_at=datetime.fromisoformat(row.issued_at),
        offline=row.offline,
        seller=Party(row.seller_name, row.seller_tax_id, row.seller_address, row.seller_phone, row.seller_bank,
                     row.seller_account),
        buyer=Party(row.buyer_name, row.buyer_tax_id, row.buyer_address, row.buyer_phone, row.buyer_bank,
                    row.buyer_account),
        lines=tuple(
            Line(name=line.name, spec=line.spec, unit=line.unit, quantity=line.quantity, unit_price=line.unit_price,
                 tax_rate=line.tax_rate, amount=line.amount, tax=line.tax, discount=line.discount)
            for line in lines
        ),
        remarks=row.remarks,
        payee=row.payee,
        reviewer=row.reviewer,
        drawer=row.drawer,
        original_number=row.original_number,
        prices_include_tax=row.prices_include_tax,
        confirmed_tax_ids=frozenset(row.confirmed_tax_ids.split()),
    )


def invoice_row_fields(invoice: Invoice) -> dict[str, Any]:
    """The invoice row's columns that come from the invoice itself (status, buyer and numbers from the
    platform are the caller's), by field name, for Invoice.create or insert_many."""
    assert invoice.issued_at is not None
    return {
        "provisional_number": invoice.number,
        "kind": invoice.kind.value,
        "issued_at": invoice.issued_at.isoformat(),
        "issued_date": invoice.issued_at.date().isoformat(),
        "offline": invoice.offline,
        "seller_name": invoice.seller.name,
        "seller_tax_id": invoice.seller.tax_id,
        "seller_address": invoice.seller.address,
        "seller_phone": invoice.seller.phone,
        "seller_bank": invoice.seller.bank,
        "seller_account": invoice.seller.account,
        "buyer_name": invoice.buyer.name,
        "buyer_tax_id": invoice.buyer.tax_id,
        "buyer_address": invoice.buyer.address,
        "buyer_phone": invoice.buyer.phone,
        "buyer_bank": invoice.buyer.bank,
        "buyer_account": invoice.buyer.account,
        "total_amount": invoice.total_amount,
        "total_tax": invoice.total_tax,
        "total_with_tax": invoice.total_with_tax,
        "prices_include_tax": invoice.prices_include_tax,
        "remarks": invoice.remarks,
        "payee": invoice.payee,
        "reviewer": invoice.reviewer,
        "drawer": invoice.drawer,
        "original_number": invoice.original_number,
        "confirmed_tax_ids": " ".join(sorted(invoice.confirmed_tax_ids)),
        "content_hash": content_hash(invoice),
    }


def line_rows(invoice_id: int, invoice: Invoice) -> list[dict[str, Any]]:
    """The invoice's lines as InvoiceLine rows of the stored invoice invoice_id, for insert_many."""
    return [{"invoice": invoice_id, "position": position, "name": line.name, "spec": line.spec, "unit": line.unit,
             "quantity": line.quantity, "unit_price": line.unit_price, "tax_rate": line.tax_rate,
             "amount": line.amount, "tax": line.tax, "discount": line.discount}
            for position, line in enumerate(invoice.lines)]

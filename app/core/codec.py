"""The invoice as the protocol's JSON body (money as strings with two places)."""

from __future__ import annotations

from typing import Any

from app.core.invoice import Invoice, Line, Party
from app.core.money import format_money, format_plain


def party_to_body(party: Party) -> dict[str, str]:
    return {"name": party.name, "tax_id": party.tax_id, "address": party.address, "phone": party.phone,
            "bank": party.bank, "account": party.account}


def line_to_body(line: Line) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": line.name, "spec": line.spec, "unit": line.unit,
        "quantity": format_plain(line.quantity), "unit_price": format_plain(line.unit_price),
        "amount": format_money(line.amount), "tax_rate": line.tax_rate, "tax": format_money(line.tax),
    }
    if line.discount:
        body["discount"] = True
    return body


def invoice_to_body(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "kind": invoice.kind.value,
        "issued_at": invoice.issued_at.isoformat() if invoice.issued_at else None,
        "offline": invoice.offline,
        "seller": party_to_body(invoice.seller),
        "buyer": party_to_body(invoice.buyer),
        "lines": [line_to_body(line) for line in invoice.lines],
        "total_amount": format_money(invoice.total_amount),
        "total_tax": format_money(invoice.total_tax),
        "total_with_tax": format_money(invoice.total_with_tax),
        "remarks": invoice.remarks,
        "payee": invoice.payee,
        "reviewer": invoice.reviewer,
        "drawer": invoice.drawer,
        "original_number": invoice.original_number,
    }

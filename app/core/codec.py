"""The invoice as the protocol's JSON body (money as strings with two places).

A 数电 invoice is written as the protocol v2 body (docs/platform-api-v2.md); a legacy invoice
(issued before 数电, app.core.legacy) as the body it was issued with, field for field, so that
its content hash still holds.
"""

from __future__ import annotations

from typing import Any

from app.core.invoice import Invoice, Line, Party
from app.core.money import format_money, format_plain
from app.core.validation import ZERO_RATE_CODES


def party_to_body(party: Party, *, buyer: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"name": party.name, "tax_id": party.tax_id}
    if buyer:
        body.update(natural_person=party.natural_person, id_type=party.id_type, id_number=party.id_number)
    body.update(address=party.address, phone=party.phone, bank=party.bank, account=party.account)
    return body


def line_to_body(line: Line, line_no: int) -> dict[str, Any]:
    """One line as v2 sends it: 免税 and 不征税 are rate 0 with their policy flag."""
    rate = "0" if line.tax_rate in ZERO_RATE_CODES else line.tax_rate
    return {
        "line_no": line_no, "nature": line.nature.value, "tax_code": line.tax_code, "short_name": line.short_name,
        "item_name": line.item_name, "name": line.name, "spec": line.spec, "unit": line.unit,
        "quantity": format_plain(line.quantity), "unit_price": format_plain(line.unit_price),
        "amount": format_money(line.amount), "tax_rate": rate, "tax": format_money(line.tax),
        "amount_with_tax": format_money(line.amount_with_tax), "policy": line.policy,
        "original_line_no": line.original_line_no,
    }


def invoice_to_body(invoice: Invoice) -> dict[str, Any]:
    if invoice.is_legacy:
        return legacy_invoice_to_body(invoice)
    return {
        "number": invoice.number,
        "kind": invoice.kind.value,
        "medium": invoice.medium.value,
        "issued_at": invoice.issued_at.isoformat() if invoice.issued_at else None,
        "seller": party_to_body(invoice.seller),
        "buyer": party_to_body(invoice.buyer, buyer=True),
        "lines": [line_to_body(line, no) for no, line in enumerate(invoice.lines, start=1)],
        "deduction": None,
        "total_amount": format_money(invoice.total_amount),
        "total_tax": format_money(invoice.total_tax),
        "total_with_tax": format_money(invoice.total_with_tax),
        "remarks": invoice.remarks,
        "payee": invoice.payee,
        "reviewer": invoice.reviewer,
        "drawer": invoice.drawer,
        "drawer_id_type": invoice.drawer_id_type,
        "drawer_id_number": invoice.drawer_id_number,
        "show_seller_bank": invoice.show_seller_bank,
        "show_buyer_bank": invoice.show_buyer_bank,
        "red": invoice.is_red_letter,
        "original_number": invoice.original_number,
        "red_form_uuid": invoice.red_form_uuid,
        "red_reason": invoice.red_reason,
    }


# --- legacy (schema 1) bodies: never change these, the stored hashes are of their output ----------

def pre_issue_body(body: dict[str, Any]) -> dict[str, Any]:
    """What POST /v2/issue takes for a pre-issue record: its body without the provisional number (the platform
    gives the number). A legacy body (issued under v1, never uploaded) goes as it is, for the platform to judge."""
    sent = dict(body)
    sent.pop("number", None)
    return sent


def _legacy_party(party: Party) -> dict[str, str]:
    return {"name": party.name, "tax_id": party.tax_id, "address": party.address, "phone": party.phone,
            "bank": party.bank, "account": party.account}


def legacy_line_to_body(line: Line) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": line.name, "spec": line.spec, "unit": line.unit,
        "quantity": format_plain(line.quantity), "unit_price": format_plain(line.unit_price),
        "amount": format_money(line.amount), "tax_rate": line.tax_rate, "tax": format_money(line.tax),
    }
    if line.discount:
        body["discount"] = True
    return body


def legacy_invoice_to_body(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "kind": invoice.kind.value,
        "issued_at": invoice.issued_at.isoformat() if invoice.issued_at else None,
        "offline": invoice.offline,
        "seller": _legacy_party(invoice.seller),
        "buyer": _legacy_party(invoice.buyer),
        "lines": [legacy_line_to_body(line) for line in invoice.lines],
        "total_amount": format_money(invoice.total_amount),
        "total_tax": format_money(invoice.total_tax),
        "total_with_tax": format_money(invoice.total_with_tax),
        "remarks": invoice.remarks,
        "payee": invoice.payee,
        "reviewer": invoice.reviewer,
        "drawer": invoice.drawer,
        "original_number": invoice.original_number,
    }

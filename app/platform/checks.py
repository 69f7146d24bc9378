"""The platform's check of an invoice body: the desk's own rules (app.core.validation), every amount given.

Protocol v2 (app.platform.v2.platform) calls invoice_errors with the fields each call requires.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.core.errors import FieldError, ValidationFailed
from app.core.invoice import Invoice
from app.core.taxcodes import TaxCodeTable
from app.core.validation import parse_received_invoice


def missing_fields(invoice: dict[str, Any], keys: Iterable[str], line_keys: Iterable[str]) -> list[FieldError]:
    """The platform takes invoices as issued: every amount is given, never computed by it."""
    errors = []
    for key in keys:
        if invoice.get(key) in (None, ""):
            errors.append(FieldError(key, "不能为空", "is required"))
    line_keys = tuple(line_keys)
    for index, line in enumerate(invoice.get("lines") or []):
        if isinstance(line, dict):
            for key in line_keys:
                if line.get(key) in (None, ""):
                    errors.append(FieldError(f"lines[{index}].{key}", "不能为空", "is required"))
    return errors


def invoice_errors(invoice: Any, codes: TaxCodeTable, taxpayer_type: str, required: Iterable[str],
                   line_required: Iterable[str]) -> tuple[Invoice | None, list[FieldError]]:
    """(the invoice, []) when the body keeps every rule, else (None or the invoice, the errors).

    A tax id whose check character is wrong is accepted as given (the clerk confirmed it on the desk)."""
    if not isinstance(invoice, dict):
        return None, [FieldError("invoice", "应为 JSON 对象", "must be a JSON object")]
    if "prices_include_tax" in invoice:
        invoice = {k: v for k, v in invoice.items() if k != "prices_include_tax"}
    missing = missing_fields(invoice, required, line_required)
    try:
        parsed = parse_received_invoice(invoice, codes=codes, taxpayer_type=taxpayer_type)
    except ValidationFailed as failed:
        errors = failed.errors
        if not (errors and all(e.overridable for e in errors)):
            return None, missing + errors
        ids = [str((invoice.get(p) or {}).get("tax_id", "")) for p in ("seller", "buyer")]
        try:
            parsed = parse_received_invoice(invoice, codes=codes, taxpayer_type=taxpayer_type, confirmed_tax_ids=ids)
        except ValidationFailed as again:
            return None, missing + again.errors
    return (None if missing else parsed), missing

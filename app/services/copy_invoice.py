"""复制开票: a new draft filled from a stored invoice (its kind, medium, buyer, lines and remarks), for the form or
the command line to issue as a new invoice. The original is only read: nothing of it changes, and the copy
takes its own number, date and audit entries when it is issued.
"""

from __future__ import annotations

from typing import Any

from app.core.codec import line_to_body
from app.core.errors import FieldError, ValidationFailed
from app.store.queries import get_invoice

# What a line of the copy keeps: what the clerk typed. Amounts and tax are worked out again on issue, except
# a discount line's amount, which is what the clerk typed for it.
LINE_KEYS = ("nature", "tax_code", "item_name", "spec", "unit", "quantity", "unit_price", "tax_rate", "policy")


def copy_body(number: str) -> dict[str, Any]:
    """The draft of a new invoice like `number` (provisional or official). Raises ValidationFailed naming
    `number` for an unknown invoice or a red-letter one (a red invoice is issued on a red-letter form only)."""
    invoice = get_invoice(number)
    if invoice is None:
        raise ValidationFailed([FieldError("number", f"没有号码为 {number} 的发票", f"no invoice numbered {number}")])
    if invoice.is_red_letter:
        raise ValidationFailed([FieldError(
            "number", f"{number} 是红字发票，不能复制开票：红字发票须依据红字确认单开具",
            f"{number} is a red-letter invoice: it cannot be copied (a red invoice is issued on a red-letter form)")])
    lines: list[dict[str, Any]] = []
    for position, line in enumerate(invoice.lines, start=1):
        sent = line_to_body(line, position)
        kept = {key: sent[key] for key in LINE_KEYS if sent.get(key) not in (None, "")}
        if line.discount:
            kept["amount"] = sent["amount"]
            kept.pop("quantity", None)
            kept.pop("unit_price", None)
        lines.append(kept)
    buyer = invoice.buyer
    return {
        "kind": invoice.kind.value,
        "medium": invoice.medium.value,
        "buyer": {"name": buyer.name, "tax_id": buyer.tax_id, "address": buyer.address, "phone": buyer.phone,
                  "bank": buyer.bank, "account": buyer.account, "natural_person": buyer.natural_person,
                  "id_type": buyer.id_type, "id_number": buyer.id_number},
        "lines": lines,
        "remarks": invoice.remarks,
        "payee": invoice.payee,
        "reviewer": invoice.reviewer,
        "show_seller_bank": invoice.show_seller_bank,
        "show_buyer_bank": invoice.show_buyer_bank,
    }

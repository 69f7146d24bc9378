"""A red-letter body reversing a stored blue invoice in full, for tests and the store builder that need a red
invoice without going through a red-letter form (records made that way before issue 12 still exist, and the
issue service takes such a body: the platform then decides)."""

from __future__ import annotations

from typing import Any

from app.store import queries

REASON_CODES = {"开票有误": "01", "销货退回": "02", "服务中止": "03", "销售折让": "04"}


def red_body_for(number: str, reason: str = "开票有误") -> dict[str, Any]:
    blue = queries.get_invoice(number)
    assert blue is not None, number
    lines = [{"tax_code": line.tax_code, "item_name": line.item_name, "spec": line.spec, "unit": line.unit,
              "quantity": f"{-(line.quantity or 1)}", "unit_price": f"{line.unit_price}" if line.unit_price else None,
              "tax_rate": line.tax_rate, "policy": line.policy, "original_line_no": index}
             for index, line in enumerate(blue.lines, start=1) if line.nature.value != "discount"]
    for line in lines:
        if line["unit_price"] is None:
            del line["unit_price"]
    buyer = blue.buyer
    row = queries.find_row(number)
    official = row.official_number if row is not None and row.official_number else number
    return {"kind": blue.kind.value, "original_number": official, "red_reason": REASON_CODES.get(reason, reason),
            "buyer": {"name": buyer.name, "tax_id": buyer.tax_id, "natural_person": buyer.natural_person,
                      "id_type": buyer.id_type, "id_number": buyer.id_number},
            "prices_include_tax": False, "lines": lines}

"""A month of invoices with every kind of row the statistics tell apart, issued through the real services on
the desk's clock shifted into October 2026 (Beijing), with the figures worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.core import clock
from app.core.clock import BEIJING
from app.services.issuing import issue_invoices
from app.services.lifecycle import cancel_invoice
from tests.helpers.bodies import PRINTER, SOFTWARE, invoice_body
from tests.helpers.platform import accept
from tests.helpers.red import red_on_form

BUYER_X = "北京客户贸易有限公司"
BUYER_Y = "上海某某电子有限公司"
BUYER_Y_ID = "91310000132212345R"
_serial = 0


def _official() -> str:
    global _serial
    _serial += 1
    return f"2644{_serial:016d}"


def software(quantity: str = "1") -> dict[str, Any]:
    return {"tax_code": SOFTWARE, "item_name": "软件开发", "unit": "项", "quantity": quantity, "unit_price": "1000",
            "tax_rate": "0.06"}


def printers() -> dict[str, Any]:
    return {"tax_code": PRINTER, "item_name": "激光打印机", "unit": "台", "quantity": "3", "unit_price": "1899.5",
            "tax_rate": "0.13"}


def _issue(at: datetime, body: dict[str, Any], *, accepted: bool = True) -> str:
    with clock.shifted(at):
        issued = issue_invoices([body])[0]
        if accepted:
            accept(issued.number, _official())
    return issued.number


def buyer_y() -> dict[str, Any]:
    return {"name": BUYER_Y, "tax_id": BUYER_Y_ID}


def october() -> dict[str, str]:
    """The rows of October 2026 (and two just outside it); their numbers by name."""
    numbers: dict[str, str] = {}
    numbers["before"] = _issue(datetime(2026, 9, 30, 23, 59, tzinfo=BEIJING), invoice_body())  # September
    numbers["A"] = _issue(datetime(2026, 10, 5, 9, 0, tzinfo=BEIJING), invoice_body())
    numbers["B"] = _issue(datetime(2026, 10, 5, 10, 0, tzinfo=BEIJING), invoice_body(
        kind="special", buyer=buyer_y(),
        lines=[software("1"), {"tax_code": PRINTER, "item_name": "打印纸", "unit": "箱", "quantity": "10",
                               "unit_price": "100", "tax_rate": "0.13"}]))
    numbers["C"] = _issue(datetime(2026, 10, 12, 9, 0, tzinfo=BEIJING), invoice_body(lines=[printers()]))
    with clock.shifted(datetime(2026, 10, 12, 10, 0, tzinfo=BEIJING)):
        red = red_on_form(numbers["A"])
        accept(red.number, _official())
    numbers["R"] = red.number
    numbers["P"] = _issue(datetime(2026, 10, 12, 11, 0, tzinfo=BEIJING), invoice_body(medium="paper"))
    with clock.shifted(datetime(2026, 10, 12, 11, 30, tzinfo=BEIJING)):
        assert cancel_invoice(numbers["P"], "打印错位").cancelled
    # 23:30 on the 31st in Beijing is 15:30 UTC: still October.
    numbers["F"] = _issue(datetime(2026, 10, 31, 15, 30, tzinfo=UTC), invoice_body())
    # 00:30 on 1 November in Beijing is 16:30 UTC on the 31st: November.
    numbers["after"] = _issue(datetime(2026, 10, 31, 16, 30, tzinfo=UTC), invoice_body())
    numbers["W"] = _issue(datetime(2026, 10, 31, 17, 0, tzinfo=BEIJING), invoice_body(), accepted=False)
    with clock.shifted(datetime(2026, 10, 31, 17, 5, tzinfo=BEIJING)):
        assert cancel_invoice(numbers["W"], "开错了").cancelled  # a pre-issue record withdrawn
    numbers["Q"] = _issue(datetime(2026, 10, 31, 18, 0, tzinfo=BEIJING), invoice_body(buyer=buyer_y()),
                          accepted=False)  # still a pre-issue record
    return numbers


def money(text: str) -> Decimal:
    return Decimal(text)

"""Helpers of the red-letter tests: a blue invoice issued and accepted through the platform channel, the buyer's
side through /_buyer, the worker's pass."""

from __future__ import annotations

from typing import Any

from app.core import status
from app.platform.server import PlatformServer
from app.services.issuing import issue_invoice
from app.store.models import Invoice
from tests.helpers.bodies import PRINTER, SOFTWARE, invoice_body
from tests.helpers.platform import make_worker
from tests.platform_v2.support import ok


def two_lines(**overrides: Any) -> dict[str, Any]:
    """A service line (2 × 500.00 at 6 %) and a goods line (10 × 100.00 at 13 %)."""
    return invoice_body(lines=[
        {"tax_code": SOFTWARE, "item_name": "软件开发", "unit": "项", "quantity": "2", "unit_price": "500",
         "tax_rate": "0.06"},
        {"tax_code": PRINTER, "item_name": "打印纸", "unit": "箱", "quantity": "10", "unit_price": "100",
         "tax_rate": "0.13"}], **overrides)


def drain(platform: PlatformServer) -> None:
    report = make_worker(platform).run_once()
    assert not report.last_error, report


def accepted_blue(platform: PlatformServer, body: dict[str, Any] | None = None) -> str:
    """A blue invoice issued by the platform (pre-issue record, then POST /v2/issue): its official number."""
    issued = issue_invoice(body or two_lines())
    drain(platform)
    row = Invoice.get_by_id(issued.id)
    assert row.status == status.ACCEPTED and row.official_number, row.status
    return str(row.official_number)


def buyer(platform: PlatformServer, action: str, status_code: int = 200, **fields: Any) -> Any:
    return ok(platform, "POST", "/_buyer", {"action": action, **fields}, token=None, status=status_code)

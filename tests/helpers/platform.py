"""The reference platform's side of a test: its own records read and planted, invoices sent to it as the
worker sends them, and a worker with short back-off."""

from __future__ import annotations

import sqlite3
from typing import Any

from app.core.codec import invoice_to_body
from app.platform.http_client import HttpPlatformClient
from app.platform.server import PlatformServer
from app.services.issuing import IssuedInvoice, issue_invoices
from app.store import queries
from app.store.models import Invoice, InvoiceLine, UploadQueueEntry
from app.sync.worker import Backoff, QueueWorker
from tests.helpers.bodies import OFFICIAL_NUMBER, invoice_body

PLATFORM_TOKEN = "test-token"
SYNC_TOKEN = "test-token-0123456789"


def platform_numbers(platform: PlatformServer) -> list[str]:
    """The number of every invoice the platform holds, in the order it took them, from its own SQLite file."""
    return [r["number"] for r in platform.v2_store.all("SELECT number FROM v2_invoice ORDER BY rowid")]


def platform_sql(platform: PlatformServer, sql: str, *params: Any) -> list[Any]:
    """Plant a difference straight in the platform's SQLite file."""
    conn = sqlite3.connect(platform.db_path)
    try:
        with conn:
            return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def body_of(number: str) -> dict[str, Any]:
    invoice = queries.get_invoice(number)
    assert invoice is not None, number
    return invoice_to_body(invoice)


def key_of(number: str) -> str:
    row = Invoice.get(Invoice.provisional_number == number)
    key: str = UploadQueueEntry.get(UploadQueueEntry.invoice == row).idempotency_key
    return key


def accept(number: str, official: str = OFFICIAL_NUMBER) -> None:
    """What the upload worker does once the platform accepts: the row gets its official number."""
    Invoice.update(status="accepted", official_number=official).where(Invoice.provisional_number == number).execute()


def break_line_amount(number: str) -> None:
    """A rule the platform applies that this desk's copy missed: here, a line that no longer adds up
    (changed behind the desk's back, as a platform-side rule change would surface)."""
    row = Invoice.get(Invoice.provisional_number == number)
    InvoiceLine.update(amount=InvoiceLine.amount + 1).where(InvoiceLine.invoice == row).execute()


def issue_many(count: int, **overrides: Any) -> list[IssuedInvoice]:
    """Issue `count` invoices through the real issue service (the same path as the form)."""
    issued: list[IssuedInvoice] = []
    for start in range(0, count, 200):
        bodies = [invoice_body(remarks=f"#{i}", **overrides) for i in range(start, min(count, start + 200))]
        issued += issue_invoices(bodies)
    return issued


def make_worker(platform: PlatformServer, token: str = SYNC_TOKEN, **options: Any) -> QueueWorker:
    """A worker with short back-off and short waits for upload results (the test platform answers in 30 ms)."""
    timeout = options.pop("timeout", 2.0)
    options.setdefault("backoff", Backoff(base=0.02, cap=0.2))
    options.setdefault("result_wait", 0.05)
    options.setdefault("result_wait_cap", 0.2)
    options.setdefault("pass_wait", 5.0)
    return QueueWorker(lambda: HttpPlatformClient(platform.url, token, timeout=timeout, batch_timeout=timeout),
                       **options)


def draw_direct_stock(platform: PlatformServer) -> PlatformServer:
    """The desk (store open, seller set) on the direct channel against `platform`, with a block of 1,000
    numbers and 300,000.00 of quota drawn through the real stock service."""
    from decimal import Decimal

    from app.services import stock
    from app.services.channel import set_channel
    from app.services.settings import make_client, set_platform

    set_platform(platform.url, SYNC_TOKEN)
    set_channel("direct")
    stock.set_stock_settings(block_size=1000, numbers_floor=10, quota_slice="300000.00", quota_floor="1000.00")
    client = make_client()
    try:
        result = stock.top_up(client)
    finally:
        client.close()
    assert result.complete, result
    assert result.view is not None and result.view.numbers_left == 1000
    assert result.view.quota_left == Decimal("300000.00")
    return platform

"""The reference platform's side of a test: its own records read and planted, invoices sent to it as the
worker sends them, and a worker with short back-off."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from app.core.codec import invoice_to_body
from app.platform.client import SubmitResult
from app.platform.http_client import HttpPlatformClient
from app.platform.server import PlatformServer
from app.services.issuing import IssuedInvoice, issue_invoices
from app.services.lifecycle import record_acceptance_here
from app.store import queries
from app.store.models import Invoice, InvoiceLine, UploadQueueEntry
from app.sync.worker import Backoff, QueueWorker
from tests.helpers.bodies import OFFICIAL_NUMBER, invoice_body

PLATFORM_TOKEN = "test-token"
SYNC_TOKEN = "test-token-0123456789"


def platform_numbers(platform: PlatformServer) -> list[str]:
    """Provisional numbers of every record the platform holds, read from its own SQLite file."""
    conn = sqlite3.connect(platform.records.path)
    try:
        return [json.loads(body)["number"] for (body,) in conn.execute("SELECT body FROM record ORDER BY seq")]
    finally:
        conn.close()


def platform_sql(platform: PlatformServer, sql: str, *params: Any) -> list[Any]:
    """Plant a difference straight in the platform's SQLite file."""
    conn = sqlite3.connect(platform.records.path)
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


def send(client: HttpPlatformClient, number: str, record_here: bool = True) -> SubmitResult:
    """One invoice up by its queue key, as the worker sends it; record the answer here unless told not to."""
    result = client.submit(key_of(number), body_of(number))
    if record_here:
        entry = UploadQueueEntry.get(UploadQueueEntry.idempotency_key == result.key)
        record_acceptance_here(entry, {"official_number": result.official_number, "platform_id": result.platform_id,
                                       "accepted_at": result.accepted_at})
    return result


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
    timeout = options.pop("timeout", 2.0)
    options.setdefault("backoff", Backoff(base=0.02, cap=0.2))
    return QueueWorker(lambda: HttpPlatformClient(platform.url, token, timeout=timeout, batch_timeout=timeout),
                       **options)

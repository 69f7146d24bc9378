"""The reference platform on loopback (port 0), its own SQLite file, and a client for the desk."""

from __future__ import annotations

import sqlite3

import pytest

from app.core.codec import invoice_to_body
from app.store import queries
from app.services.lifecycle import _record_acceptance_here
from app.store.models import Invoice, UploadQueueEntry

from tests.conftest import PLATFORM_TOKEN as TOKEN
from tests.conftest import platform_numbers  # noqa: F401  (the tests here import it from this module)


@pytest.fixture
def client(platform):
    from app.platform.http_client import HttpPlatformClient

    made = HttpPlatformClient(platform.url, TOKEN)
    yield made
    made.close()


def body_of(number: str) -> dict:
    return invoice_to_body(queries.get_invoice(number))


def key_of(number: str) -> str:
    return UploadQueueEntry.get(UploadQueueEntry.invoice == Invoice.get(Invoice.provisional_number == number)).idempotency_key


def send(client, number: str, record_here: bool = True):
    """One invoice up by its queue key, as the worker sends it; record the answer here unless told not to."""
    result = client.submit(key_of(number), body_of(number))
    if record_here:
        entry = UploadQueueEntry.get(UploadQueueEntry.idempotency_key == result.key)
        _record_acceptance_here(entry, {"official_number": result.official_number, "platform_id": result.platform_id,
                                        "accepted_at": result.accepted_at})
    return result


def platform_sql(platform, sql: str, *params):
    """Plant a difference straight in the platform's SQLite file."""
    conn = sqlite3.connect(platform.records.path)
    try:
        with conn:
            return conn.execute(sql, params).fetchall()
    finally:
        conn.close()

"""What the sync, outage and lifecycle tests read of both sides under protocol v2: the platform's own
records (its SQLite file), by key for the platform channel and by number for the direct channel, and the
desk's rows that should match them."""

from __future__ import annotations

from collections import Counter

from app.platform.server import PlatformServer
from app.store.models import Invoice, UploadQueueEntry
from tests.helpers.platform import key_of


def platform_keys(platform: PlatformServer) -> list[str]:
    """The key of every platform-channel invoice the platform issued, in the order it issued them."""
    return [r["key"] for r in platform.v2_store.all(
        "SELECT key FROM v2_invoice WHERE channel = 'platform' ORDER BY seq")]


def issued_by_key(platform: PlatformServer) -> dict[str, str]:
    """key -> the number the platform gave the invoice it issued under that key (each key at most once)."""
    rows = platform.v2_store.all("SELECT key, number FROM v2_invoice WHERE channel = 'platform' ORDER BY seq")
    counted = Counter(r["key"] for r in rows)
    twice = [k for k, n in counted.items() if n > 1]
    assert not twice, f"issued twice under one key: {twice}"
    return {r["key"]: r["number"] for r in rows}


def keys_of(numbers: list[str]) -> list[str]:
    """The queue keys of the desk's records with these (provisional) numbers."""
    return [key_of(n) for n in numbers]


def assert_issued_once_each(platform: PlatformServer, numbers: list[str]) -> None:
    """Each of these pre-issue records was issued by the platform exactly once, and the desk holds the
    platform's number for it; nothing else was issued."""
    by_key = issued_by_key(platform)
    assert sorted(by_key) == sorted(keys_of(numbers))
    for number in numbers:
        row = Invoice.get(Invoice.provisional_number == number)
        entry = UploadQueueEntry.get(UploadQueueEntry.invoice == row)
        assert row.status == "accepted", (number, row.status, entry.state)
        assert row.official_number == by_key[entry.idempotency_key], number

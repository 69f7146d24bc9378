"""The reference platform's own SQLite file of accepted invoices (plain sqlite3, apart from the
desk's store): idempotency by key, the official number, and the pages for reconciliation.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core import clock

REGION_BEIJING = "11"
CHANNEL_ONLINE = "1"  # issued on the platform
CHANNEL_OFFLINE = "2"  # issued offline on a desk and uploaded later

SCHEMA = """
CREATE TABLE IF NOT EXISTS record (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    body_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    platform_id TEXT NOT NULL UNIQUE,
    official_number TEXT NOT NULL UNIQUE,
    accepted_at TEXT NOT NULL,
    seller_tax_id TEXT NOT NULL,
    issued_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS record_seller_date ON record (seller_tax_id, issued_date, seq);
"""


def body_hash(invoice: dict[str, Any]) -> str:
    canonical = json.dumps(invoice, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Known:
    """A key the platform has: the record, and whether the body now given is the same."""

    record: dict[str, Any]
    same_body: bool


class RecordStore:
    """Thread-safe: one connection, one lock (the server's handler threads take turns)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    @staticmethod
    def _record(row: tuple) -> dict[str, Any]:
        key, body, platform_id, official_number, accepted_at = row
        return {**json.loads(body), "key": key, "platform_id": platform_id, "official_number": official_number,
                "accepted_at": accepted_at}

    def find(self, key: str) -> dict[str, Any] | None:
        with self.lock:
            row = self._conn.execute("SELECT key, body, platform_id, official_number, accepted_at FROM record "
                                     "WHERE key = ?", (key,)).fetchone()
        return self._record(row) if row else None

    def accept_many(self, items: list[tuple[str, dict[str, Any]]]) -> list[Known | dict[str, Any]]:
        """For each (key, valid invoice): a Known when the key is there already, else the new record.
        All in one transaction, so a crash of the platform keeps all or none of a batch."""
        out: list[Known | dict[str, Any]] = []
        with self.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for key, invoice in items:
                    digest = body_hash(invoice)
                    row = self._conn.execute("SELECT key, body, platform_id, official_number, accepted_at, body_hash "
                                             "FROM record WHERE key = ?", (key,)).fetchone()
                    if row:
                        out.append(Known(self._record(row[:5]), row[5] == digest))
                        continue
                    out.append(self._insert(key, invoice, digest))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return out

    def _insert(self, key: str, invoice: dict[str, Any], digest: str) -> dict[str, Any]:
        now = clock.now()
        issued = str(invoice.get("issued_at") or now.isoformat())
        cursor = self._conn.execute(
            "INSERT INTO record (key, body_hash, body, platform_id, official_number, accepted_at, seller_tax_id,"
            " issued_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, digest, json.dumps(invoice, ensure_ascii=False), "pending-" + key, "pending-" + key,
             now.isoformat(), str(invoice.get("seller", {}).get("tax_id", "")), issued[:10]))
        seq = cursor.lastrowid
        channel = CHANNEL_OFFLINE if invoice.get("offline", True) else CHANNEL_ONLINE
        official = f"{issued[2:4]}{REGION_BEIJING}{channel}{seq:015d}"
        platform_id = f"PF-{uuid.uuid5(uuid.NAMESPACE_URL, f'fapiao:{seq}:{key}').hex[:20]}"
        self._conn.execute("UPDATE record SET platform_id = ?, official_number = ? WHERE seq = ?",
                           (platform_id, official, seq))
        return {**invoice, "key": key, "platform_id": platform_id, "official_number": official,
                "accepted_at": now.isoformat()}

    def page(self, seller_tax_id: str, date_from: str, date_to: str, after: int, limit: int
             ) -> tuple[list[dict[str, Any]], int | None]:
        with self.lock:
            rows = self._conn.execute(
                "SELECT seq, key, body, platform_id, official_number, accepted_at FROM record WHERE seller_tax_id = ?"
                " AND issued_date >= ? AND issued_date <= ? AND seq > ? ORDER BY seq LIMIT ?",
                (seller_tax_id, date_from, date_to, after, limit + 1)).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        return [self._record(r[1:]) for r in rows], (rows[-1][0] if more and rows else None)

    def count(self) -> int:
        with self.lock:
            return self._conn.execute("SELECT COUNT(*) FROM record").fetchone()[0]

    def keys(self) -> list[str]:
        with self.lock:
            return [r[0] for r in self._conn.execute("SELECT key FROM record ORDER BY seq")]


def count_records(path: Path | str) -> tuple[int, int]:
    """(records, distinct provisional numbers) in a platform file, read by a test after the fact."""
    conn = sqlite3.connect(str(path))
    try:
        total = conn.execute("SELECT COUNT(*) FROM record").fetchone()[0]
        numbers = conn.execute("SELECT COUNT(DISTINCT json_extract(body, '$.number')) FROM record").fetchone()[0]
        return total, numbers
    finally:
        conn.close()

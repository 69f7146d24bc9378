"""Protocol v2's tables in the reference platform's own SQLite file (beside v1's `record`).

One connection and one re-entrant lock: V2Platform holds the lock for a whole request and wraps
its writes in transaction(), so a request's changes (an upload's results, a month's close) are
kept all or none. Money is kept in fen (integers), so that sums are exact.

The listing (`GET /v2/invoices`, listing()) is in the order accepted (seq) and a page of it is index
ranges of `v2_invoice_seller_date` (seller, issued_date, seq), one per date of the period, merged:
its cost is the page and the dates, never the rows of the period before or after it.

The red-letter form tables (`v2_red_form`, `v2_red_form_decision`) are created here for the issue
that adds their endpoints; nothing writes them yet.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The platform's one encoding, re-exported: what is stored is what is sent (the listing splices stored texts).
from app.platform.answer import dumps as dumps

SCHEMA = """
CREATE TABLE IF NOT EXISTS v2_sequence (
    channel TEXT NOT NULL,
    year INTEGER NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (channel, year)
);
CREATE TABLE IF NOT EXISTS v2_block (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    seller_tax_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    count INTEGER NOT NULL,
    year INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    answer TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (seller_tax_id, request_id)
);
CREATE INDEX IF NOT EXISTS v2_block_range ON v2_block (seller_tax_id, year, first_seq);
CREATE TABLE IF NOT EXISTS v2_month (
    seller_tax_id TEXT NOT NULL,
    period TEXT NOT NULL,
    downloaded_fen INTEGER NOT NULL DEFAULT 0,
    used_direct_fen INTEGER NOT NULL DEFAULT 0,
    used_platform_fen INTEGER NOT NULL DEFAULT 0,
    summary_status TEXT NOT NULL DEFAULT 'none',
    summary TEXT,
    summary_at TEXT,
    closed_at TEXT,
    closed_figures TEXT,
    PRIMARY KEY (seller_tax_id, period)
);
CREATE TABLE IF NOT EXISTS v2_quota_op (
    seller_tax_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    period TEXT NOT NULL,
    action TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    answer TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (seller_tax_id, request_id)
);
CREATE TABLE IF NOT EXISTS v2_invoice (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    seller_tax_id TEXT NOT NULL,
    body TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    issued_date TEXT NOT NULL,
    period TEXT NOT NULL,
    kind TEXT NOT NULL,
    red INTEGER NOT NULL,
    original_number TEXT,
    amount_fen INTEGER NOT NULL,
    tax_fen INTEGER NOT NULL,
    with_tax_fen INTEGER NOT NULL,
    status TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    key TEXT,
    acceptance_id TEXT,
    used_by_buyer INTEGER NOT NULL DEFAULT 0,
    used_at TEXT
);
CREATE INDEX IF NOT EXISTS v2_invoice_seller_date ON v2_invoice (seller_tax_id, issued_date, seq);
CREATE INDEX IF NOT EXISTS v2_invoice_period ON v2_invoice (seller_tax_id, period);
CREATE INDEX IF NOT EXISTS v2_invoice_original ON v2_invoice (original_number);
CREATE TABLE IF NOT EXISTS v2_issue_key (
    seller_tax_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    number TEXT NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (seller_tax_id, key)
);
CREATE TABLE IF NOT EXISTS v2_upload (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    acceptance_id TEXT NOT NULL UNIQUE,
    seller_tax_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    received_at TEXT NOT NULL,
    ready_at TEXT NOT NULL,
    state TEXT NOT NULL,
    count INTEGER NOT NULL,
    UNIQUE (seller_tax_id, request_id)
);
CREATE INDEX IF NOT EXISTS v2_upload_state ON v2_upload (state, seq);
CREATE TABLE IF NOT EXISTS v2_upload_item (
    acceptance_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    number TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    details TEXT NOT NULL DEFAULT '[]',
    accepted_at TEXT,
    PRIMARY KEY (acceptance_id, idx)
);
CREATE TABLE IF NOT EXISTS v2_red_form (
    uuid TEXT PRIMARY KEY,
    form_number TEXT NOT NULL UNIQUE,
    seller_tax_id TEXT NOT NULL,
    buyer_tax_id TEXT NOT NULL,
    request_id TEXT,
    request_hash TEXT,
    raised_by TEXT NOT NULL,
    original_number TEXT NOT NULL,
    reason TEXT NOT NULL,
    lines TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    tax_fen INTEGER NOT NULL,
    status TEXT NOT NULL,
    answer TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    red_number TEXT
);
CREATE INDEX IF NOT EXISTS v2_red_form_status ON v2_red_form (seller_tax_id, status);
CREATE INDEX IF NOT EXISTS v2_red_form_original ON v2_red_form (original_number);
CREATE TABLE IF NOT EXISTS v2_red_form_decision (
    uuid TEXT NOT NULL,
    request_id TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    decision TEXT NOT NULL,
    answer TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (uuid, request_id)
);
"""


# The listing's statements, each an index range of v2_invoice_seller_date (covering: no row is read).
_DAY_SEQS = ("SELECT seq FROM v2_invoice WHERE seller_tax_id = ? AND issued_date = ? AND seq > ? "
             "ORDER BY seq LIMIT ?")
_FIRST_DAY = ("SELECT issued_date FROM v2_invoice WHERE seller_tax_id = ? AND issued_date >= ? AND issued_date <= ? "
              "ORDER BY issued_date LIMIT 1")
_NEXT_DAY = ("SELECT issued_date FROM v2_invoice WHERE seller_tax_id = ? AND issued_date > ? AND issued_date <= ? "
             "ORDER BY issued_date LIMIT 1")


def content_hash(value: Any) -> str:
    canonical = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()




class V2Store:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)
        self.lock = threading.RLock()
        self._depth = 0

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (nested calls join the outer one); hold `lock` around it."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")

    def one(self, sql: str, *params: Any) -> sqlite3.Row | None:
        with self.lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def all(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        with self.lock:
            return self._conn.execute(sql, params).fetchall()

    def run(self, sql: str, *params: Any) -> sqlite3.Cursor:
        with self.lock:
            return self._conn.execute(sql, params)

    # --- numbers ---------------------------------------------------------------------------------

    def reserve(self, channel: str, year: int, count: int) -> int:
        """The first of `count` fresh sequence numbers of this channel and year (1 for the first ever)."""
        with self.transaction():
            row = self.one("SELECT last FROM v2_sequence WHERE channel = ? AND year = ?", channel, year)
            last = row["last"] if row else 0
            if row:
                self.run("UPDATE v2_sequence SET last = ? WHERE channel = ? AND year = ?", last + count, channel, year)
            else:
                self.run("INSERT INTO v2_sequence (channel, year, last) VALUES (?, ?, ?)", channel, year, count)
            return int(last) + 1

    # --- months ----------------------------------------------------------------------------------

    def month(self, seller: str, period: str) -> sqlite3.Row:
        with self.transaction():
            self.run("INSERT OR IGNORE INTO v2_month (seller_tax_id, period) VALUES (?, ?)", seller, period)
            row = self.one("SELECT * FROM v2_month WHERE seller_tax_id = ? AND period = ?", seller, period)
        assert row is not None
        return row

    def add_to_month(self, seller: str, period: str, column: str, fen: int) -> None:
        if column not in ("downloaded_fen", "used_direct_fen", "used_platform_fen"):
            raise ValueError(column)
        with self.transaction():
            self.month(seller, period)
            self.run(f"UPDATE v2_month SET {column} = {column} + ? WHERE seller_tax_id = ? AND period = ?",
                     fen, seller, period)

    def figures(self, seller: str, period: str) -> tuple[int, int, int]:
        """(count, amount in fen, tax in fen) of every invoice the platform holds dated in `period`."""
        row = self.one("SELECT COUNT(*), COALESCE(SUM(amount_fen), 0), COALESCE(SUM(tax_fen), 0) FROM v2_invoice "
                       "WHERE seller_tax_id = ? AND period = ?", seller, period)
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    # --- invoices --------------------------------------------------------------------------------

    def invoice(self, number: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM v2_invoice WHERE number = ?", number)

    def listing(self, seller: str, date_from: str, date_to: str, after: int, limit: int) -> list[sqlite3.Row]:
        """The first `limit` invoices of `seller` dated (issued_date) in [date_from, date_to] whose seq is greater
        than `after`, in seq order (the order accepted).

        By the index (seller_tax_id, issued_date, seq): the dates of the period that hold invoices are found
        one seek each, each date's seqs after `after` are an index range read in order, and the ranges are
        merged until `limit` are taken; then those rows are read by seq. Nothing before the cursor, after
        the page or outside the period is read."""
        if limit <= 0 or date_from > date_to:
            return []
        with self.lock:
            days = list(self._days(seller, date_from, date_to))
            cursors = [self._conn.execute(_DAY_SEQS, (seller, day, after, limit)) for day in days]
            try:
                seqs = list(itertools.islice(heapq.merge(*((seq for (seq,) in cursor) for cursor in cursors)), limit))
            finally:
                for cursor in cursors:
                    cursor.close()
            if not seqs:
                return []
            return self._conn.execute(f"SELECT * FROM v2_invoice WHERE seq IN ({', '.join('?' * len(seqs))}) "
                                      "ORDER BY seq", seqs).fetchall()

    def _days(self, seller: str, date_from: str, date_to: str) -> Iterator[str]:
        """The dates in [date_from, date_to] on which `seller` has invoices, in order: one index seek each."""
        row = self._conn.execute(_FIRST_DAY, (seller, date_from, date_to)).fetchone()
        while row is not None:
            day = str(row[0])
            yield day
            row = self._conn.execute(_NEXT_DAY, (seller, day, date_to)).fetchone()

    def reds_of(self, number: str) -> int:
        """The sum (fen, with tax, negative) of the red invoices accepted against a blue one."""
        row = self.one("SELECT COALESCE(SUM(with_tax_fen), 0) FROM v2_invoice WHERE original_number = ? AND red = 1",
                       number)
        assert row is not None
        return int(row[0])

"""The audit log: one entry per change, each holding the hash of the one before it.

An edit made to the SQLite file behind the app's back breaks the chain and is found
by verify_chain().
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from app.core.clock import now_iso
from app.store.models import AuditEntry, Invoice

GENESIS = "0" * 64

# What an entry's detail holds: JSON values by name, kept as canonical JSON.
Detail = dict[str, Any]
# (action, invoice id, provisional number, detail) of one entry written by append_many.
ManyEntry = tuple[str, int, str, Detail]


# json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")), its encoder made once.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def entry_hash(prev_hash: str, at: str, clerk: str, action: str, invoice_number: str, detail: str) -> str:
    payload = canonical_json([prev_hash, at, clerk, action, invoice_number, detail])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_COLUMNS = ("at", "clerk", "action", "invoice", "detail", "prev_hash", "hash")
_COLUMN_LIST = ", ".join(f'"{AuditEntry._meta.fields[name].column_name}"' for name in _COLUMNS)
_INSERT_SQL = f'INSERT INTO "{AuditEntry._meta.table_name}" ({_COLUMN_LIST}) VALUES (?, ?, ?, ?, ?, ?, ?)'
# The newest entry's hash: one seek on the primary key.
_LAST_HASH_SQL = f'SELECT "hash" FROM "{AuditEntry._meta.table_name}" ORDER BY "id" DESC LIMIT 1'


def _last_hash() -> str:
    row = AuditEntry._meta.database.execute_sql(_LAST_HASH_SQL).fetchone()
    return str(row[0]) if row else GENESIS


def append(action: str, *, clerk: str, invoice: Invoice | None = None, detail: Detail | None = None) -> AuditEntry:
    """Add an entry; call inside the transaction that makes the change it records."""
    prev = _last_hash()
    at = now_iso()
    detail_text = canonical_json(detail or {})
    number = invoice.provisional_number if invoice is not None else ""
    digest = entry_hash(prev, at, clerk, action, number, detail_text)
    invoice_id = invoice.id if invoice is not None else None
    cursor = AuditEntry._meta.database.execute_sql(_INSERT_SQL, (at, clerk, action, invoice_id, detail_text, prev,
                                                                 digest))
    return AuditEntry(id=cursor.lastrowid, at=at, clerk=clerk, action=action, invoice=invoice, detail=detail_text,
                      prev_hash=prev, hash=digest)


def append_many(entries: Sequence[ManyEntry], *, clerk: str) -> None:
    """(action, invoice id, provisional number, detail) for many invoices, chained as append() does,
    in one executemany: the queue worker and imports record thousands of changes at a time."""
    if not entries:
        return
    prev = _last_hash()
    rows: list[tuple[str, str, str, int, str, str, str]] = []
    for action, invoice_id, number, detail in entries:
        at = now_iso()
        text = canonical_json(detail)
        digest = entry_hash(prev, at, clerk, action, number, text)
        rows.append((at, clerk, action, invoice_id, text, prev, digest))
        prev = digest
    AuditEntry._meta.database.connection().executemany(_INSERT_SQL, rows)


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    reason: str


def verify_chain() -> ChainBreak | None:
    """The first entry whose hash or link does not hold, or None when the whole chain holds."""
    prev = GENESIS
    query = (AuditEntry.select(AuditEntry, Invoice.provisional_number)
             .join(Invoice, join_type=peewee.JOIN.LEFT_OUTER).order_by(AuditEntry.id).objects())
    for entry in query.iterator():
        if entry.prev_hash != prev:
            return ChainBreak(entry.id, "link to the previous entry does not match (an entry was removed or inserted)")
        number = entry.provisional_number or ""
        if entry_hash(entry.prev_hash, entry.at, entry.clerk, entry.action, number, entry.detail) != entry.hash:
            return ChainBreak(entry.id, "content does not match its hash (the entry was edited)")
        prev = entry.hash
    return None

"""Is the store's history whole? The audit chain, and each invoice's rows against what was issued.

The chain (app.store.audit) catches an audit entry edited, removed or inserted. It does not by
itself cover the invoice rows: so each invoice's protocol body is written again from its stored
rows (invoice + lines), hashed, and compared with the content hash its "issued" (or "imported")
entry recorded, and the row's totals with the totals its lines add up to. An amount changed in
SQLite therefore shows as a broken entry, and so does an invoice with no issuing entry. SQLite
writes the body itself (a few µs a row, see _BODY_SQL); a row whose body that way does not give the
recorded hash is rebuilt into the domain Invoice, and the rebuild alone decides what is reported.

The desk's other rows whose change matters are held against the entries too: each invoice's status against the
last entry deciding it (issued / queued / accepted / rejected / upload_too_late, and a cancellation for good), its
upload queue entry against both (missing, or accepted / withdrawn / rejected with no entry saying so: an invoice
kept from its upload); the provisional numbers against their counter (moved back, the newest deleted, gaps); every
setting against the entry that last set it (edited in place, deleted, written without one; bookkeeping keys in
UNAUDITED_SETTINGS aside) and the seller profile against its last entry. The quick check covers these from the
verified head: it reads every invoice and queue entry not settled (few: on their status indexes), content and all
(a waiting invoice's body is still to be sent), the settings and seller by the entry ids the head recorded, and
counts the cancellations; a settled invoice before the head is read only by the rolling sample and the full check.
Every check reads one snapshot (a read transaction), so a desk writing meanwhile never shows as a defect.

Limit, said plainly: someone who rewrites the invoice rows AND recomputes the whole chain from
that point on leaves a consistent store. That is detectable only against something kept
elsewhere: each verified backup records the chain's head (entry id and hash) in its manifest,
beside the backups (USB stick, network share), and verify_store(anchors=...) checks that each
recorded head is still in the chain; the platform holds what it accepted (reconciliation).

Every query can be bound to another database (a backup being checked) with `db`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from queue import Empty, Full, Queue
from typing import Any, NamedTuple, TypeVar

import peewee

from app.core import status
from app.core.clock import now_iso
from app.core.validation import ZERO_RATE_CODES
from app.store import audit
from app.store.models import AuditEntry, Invoice, InvoiceLine, Setting, database
from app.store.records import content_hash, invoice_from_row

ORIGIN_ACTIONS = ("issued", "imported")  # the entries that record an invoice's content hash
# What the row's status and official number rest on.
LIFECYCLE_ACTIONS = ("accepted", "imported", "cancelled", "upload_too_late", "rejected")
# The entries that decide an invoice's status: the last of them says what the row may hold (a "queued" after an
# acceptance or a rejection puts it back in the queue).
DECISIVE_ACTIONS = ("issued", "imported", "accepted", "rejected", "upload_too_late", "queued")
WAITING_QUEUE = status.QUEUE_WAITING_STATES
_ORIGIN, _LIFECYCLE, _DECISIVE = frozenset(ORIGIN_ACTIONS), frozenset(LIFECYCLE_ACTIONS), frozenset(DECISIVE_ACTIONS)
SELLER_ACTIONS = ("seller_created", "seller_updated")
SELLER_FIELDS = ("name", "tax_id", "address", "phone", "bank", "account", "drawer", "payee", "reviewer",
                 "tax_id_confirmed", "taxpayer_type")
UPLOAD_HOLD_KEY = "upload_hold"  # app.services.queue.UPLOAD_HOLD_SETTING (not imported: queue imports this module)
SECRET_SETTINGS = ("platform.token",)  # app.services.settings.SECRET_KEYS: recorded as "(changed)", not in clear
# Settings the desk writes without an audit entry, as bookkeeping: not compared with the history.
UNAUDITED_SETTINGS = frozenset({"audit.verified_head", "taxcodes.version", "taxpayer.checked_at", "deliver.cursor"})
PROVISIONAL_LOW, PROVISIONAL_HIGH = "LX-", "LX."  # app.services.issuing.PROVISIONAL_PREFIX: LX-0000001 ...
CHUNK = 500  # invoices checked together (their entries and lines read in one query each)
FEED_MIN = 4 * CHUNK  # from this highest invoice id the full check has the bodies written apart (_BodyFeed)
FEED_AHEAD = 4  # chunks of digests _BodyFeed may hold ahead of the check (some 64 bytes an invoice)
WALK_CHUNK = 5000  # entries fetched at a time by the chain walk
HEAD_SETTING = "audit.verified_head"  # the head the last passing check recorded (VerifiedHead as JSON)
SAMPLE = 400  # entries of the older part the quick check verifies each time, from a random start
STORE_HEAD_SOURCE = "本库记录的已校验链头 / the store's own verified head"

_Query = TypeVar("_Query", bound=peewee.BaseQuery)


@dataclass(frozen=True)
class Finding:
    """One thing that does not hold; entry_id is None when no entry stands for it."""

    entry_id: int | None
    at: str
    action: str
    invoice_number: str
    reason: str

    def describe(self) -> str:
        where = f"#{self.entry_id}" if self.entry_id is not None else "#-"
        return f"{where} {self.at} {self.action or '-'} {self.invoice_number or '-'}: {self.reason}"


@dataclass
class IntegrityReport:
    entries: int = 0
    invoices: int = 0
    head_id: int = 0
    head_hash: str = audit.GENESIS
    findings: list[Finding] = field(default_factory=list)
    quick: bool = False  # the quick check: after the verified head, plus a sample of the older part
    watch: _Watch | None = field(default=None, repr=False, compare=False)  # the desk's rows' entries, for the head
    sampled: tuple[int, int] | None = None  # the ids of the older part's window the quick check verified

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None


@dataclass(frozen=True)
class Anchor:
    """A chain head recorded outside the store (by a verified backup)."""

    entry_id: int
    hash: str
    source: str  # where it was recorded, e.g. the backup's file name


def _bind(query: _Query, db: peewee.Database | None) -> _Query:
    return query.bind(db) if db is not None else query


def _sort_key(finding: Finding) -> tuple[float, bool, str]:
    # By entry; of those without one, an invoice's own (it has a time) before the store-wide ones it explains.
    return (finding.entry_id if finding.entry_id is not None else float("inf"), not finding.at,  # ok-float: sort key
            finding.at)


class _Entry(NamedTuple):
    """What a finding names of an entry."""

    id: int
    at: str
    action: str


_CHAIN_SQL = ('SELECT a.id, a.at, a.clerk, a.action, a.invoice_id, a.detail, a.prev_hash, a.hash, '
              'i.id IS NOT NULL, i.provisional_number FROM audit_entry a LEFT JOIN invoice i ON i.id = a.invoice_id '
              'WHERE a.id > ? AND a.id <= ? ORDER BY a.id')
_MISSING_INVOICE = "发票记录被删除 / its invoice (row id {id}) is missing: the invoice was deleted"
_BAD_LINK = ("与上一条记录的链接不符，其前有记录被删除或插入 / link to the previous entry does not match: "
             "an entry was removed or inserted before it")
_EDITED = "记录内容与其哈希不符，记录被改动 / content does not match its hash: the entry was edited"


def _connection(db: peewee.Database | None) -> sqlite3.Connection:
    connection: sqlite3.Connection = (db if db is not None else database).connection()
    return connection


class _Findings:
    """The first max_findings findings by entry, in memory bounded by max_findings however many there are."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: list[Finding] = []

    def add(self, finding: Finding) -> None:
        self.items.append(finding)
        if len(self.items) > 2 * self.limit + 100:
            self.items = self.sorted()

    def sorted(self) -> list[Finding]:
        return sorted(self.items, key=_sort_key)[:self.limit]


def _walk(connection: sqlite3.Connection, report: IntegrityReport, findings: _Findings, *, after_id: int,
          until_id: int, prev: str, wanted: set[int], held: dict[int, str],
          red_reasons: dict[str, str | None] | None, touched: set[int] | None = None,
          watch: _Watch | None = None, between: Callable[[], None] | None = None) -> bool:
    """Stream entries after_id < id <= until_id in id order, checked against the chain from prev (the hash of
    entry after_id). Collects the hashes of the wanted ids, the red-letter reasons, the invoices the entries
    name (touched). The first break is a finding; True when the walked part holds. between is called after
    each batch of entries (the full check does the invoices whose bodies are ready there)."""
    cursor = connection.execute(_CHAIN_SQL, (after_id, until_id))
    whole = True
    entry_hash = audit.entry_hash
    while True:
        rows = cursor.fetchmany(WALK_CHUNK)
        if not rows:
            break
        report.entries += len(rows)
        for entry_id, at, clerk, action, invoice_id, detail, prev_hash, digest, found, number in rows:
            if whole and (prev_hash != prev or (invoice_id is not None and not found)
                          or entry_hash(prev_hash, at, clerk, action, number or "", detail) != digest):
                if invoice_id is not None and not found:
                    reason = _MISSING_INVOICE.format(id=invoice_id)
                else:
                    reason = _BAD_LINK if prev_hash != prev else _EDITED
                findings.add(Finding(entry_id, at, action, number or "", reason))
                whole = False  # after the first break every later link is suspect; report the first
            prev = digest
            if invoice_id is not None and touched is not None:
                touched.add(invoice_id)
            if action in _NOTED:
                if watch is not None and action in _WATCHED:
                    watch.saw(entry_id, action, detail)
                if action == "reversed" and red_reasons is not None:
                    given = _detail(detail)
                    reason_given = given.get("reason")
                    # Recorded on the original; the red-letter invoice's row carries the same reason.
                    red_reasons[str(given.get("red_number"))] = (reason_given if isinstance(reason_given, str)
                                                                 else None)
        if wanted:
            held.update((row[0], row[7]) for row in rows if row[0] in wanted)
        report.head_id, report.head_hash = rows[-1][0], rows[-1][7]
        if between is not None:
            between()
    return whole


_WATCHED = frozenset({"setting_changed", "upload_hold_released", "upload_held", "cancelled", *SELLER_ACTIONS})
_NOTED = _WATCHED | {"reversed"}  # the entries the walk reads the detail of


@dataclass
class _Watch:
    """What the walked entries say of the desk's own rows: which entry last set (or removed) each setting, the
    last seller entry, and how many invoices were cancelled. A few numbers, however long the chain."""

    settings: dict[str, int] = field(default_factory=dict)
    seller: int = 0
    cancelled: int = 0

    def saw(self, entry_id: int, action: str, detail: str) -> None:
        if action == "cancelled":
            self.cancelled += 1
        elif action in SELLER_ACTIONS:
            self.seller = entry_id
        elif action in ("upload_hold_released", "upload_held"):
            self.settings[UPLOAD_HOLD_KEY] = entry_id
        else:
            key = _detail(detail).get("key")
            if isinstance(key, str):
                self.settings[key] = entry_id


def _entry_at(connection: sqlite3.Connection, entry_id: int) -> tuple[_Entry, dict[str, Any]] | None:
    row = connection.execute("SELECT id, at, action, detail FROM audit_entry WHERE id = ?", (entry_id,)).fetchone()
    return None if row is None else (_Entry(row[0], row[1], row[2]), _detail(row[3]))


def _desk_findings(connection: sqlite3.Connection, watch: _Watch) -> list[Finding]:
    """The settings and the seller profile against the entries that last changed them (read by id)."""
    out: list[Finding] = []
    rows = dict(connection.execute("SELECT key, value FROM setting").fetchall())
    for key in sorted((set(rows) | set(watch.settings)) - UNAUDITED_SETTINGS):
        entry_id = watch.settings.get(key)
        found = _entry_at(connection, entry_id) if entry_id else None
        if found is None:
            out.append(Finding(None, "", "setting_changed", "",
                               f"设置 {key} 没有审计记录，是在应用之外写入的 / the setting {key} has no audit entry: "
                               "it was written behind the app's back"))
            continue
        entry, given = found
        if entry.action == "upload_hold_released":
            if key in rows:
                out.append(Finding(entry.id, entry.at, entry.action, "",
                                   f"设置 {key} 已被解除，却又出现在库中 / the setting {key} was released by this "
                                   "entry but is in the store again: written behind the app's back"))
            continue
        if key not in rows:
            out.append(Finding(entry.id, entry.at, entry.action, "",
                               f"设置 {key} 被删除 / the setting {key} set by this entry is gone: deleted behind "
                               "the app's back"))
            continue
        if key in SECRET_SETTINGS:
            continue  # recorded as "(changed)": only that it was set through the app
        try:
            held = json.loads(rows[key])
        except ValueError:
            held = rows[key]
        if held != given.get("value"):
            out.append(Finding(entry.id, entry.at, entry.action, "",
                               f"设置 {key} 的值与最后一次记录的修改不符，被直接改动 / the setting {key} holds "
                               f"{rows[key][:80]}, not what its last audit entry recorded: edited in place"))
    columns = ", ".join(SELLER_FIELDS)
    seller = connection.execute(f"SELECT {columns} FROM seller_profile WHERE id = 1").fetchone()
    found = _entry_at(connection, watch.seller) if watch.seller else None
    if seller is None and found is not None:
        out.append(Finding(found[0].id, found[0].at, found[0].action, "",
                           "销售方信息被删除 / the seller profile is gone: deleted behind the app's back"))
    elif seller is not None and found is None:
        out.append(Finding(None, "", "seller_created", "",
                           "销售方信息没有审计记录 / the seller profile has no audit entry: written behind the app's "
                           "back"))
    elif seller is not None and found is not None:
        entry, given = found
        for name, value in zip(SELLER_FIELDS, seller, strict=True):
            recorded = given.get(name)
            same = bool(value) == bool(recorded) if name == "tax_id_confirmed" else value == recorded
            if not same and name in given:
                out.append(Finding(entry.id, entry.at, entry.action, "",
                                   f"销售方信息 {name} 与最后一次记录的修改不符，被直接改动 / the seller's {name} "
                                   f"is {value!r}, not what its last audit entry recorded: edited in place"))
                break
    return out


def _number_findings(connection: sqlite3.Connection, *, count: bool) -> list[Finding]:
    """The provisional numbers (LX-0000001, ...) against the counter: the counter moved back (the next issue
    would take a number given already), the newest invoices deleted (the counter is ahead of them), and with
    count a gap (an invoice deleted from the middle: as many numbers as the newest one says)."""
    out: list[Finding] = []
    top_row = connection.execute(
        "SELECT provisional_number FROM invoice WHERE provisional_number >= ? AND provisional_number < ? "
        "ORDER BY provisional_number DESC LIMIT 1", (PROVISIONAL_LOW, PROVISIONAL_HIGH)).fetchone()
    try:
        top = int(top_row[0][len(PROVISIONAL_LOW):]) if top_row else 0
    except ValueError:
        top = 0
    counter = connection.execute("SELECT coalesce(max(last_value), 0) FROM number_counter").fetchone()[0]
    if counter < top:
        out.append(Finding(None, "", "", top_row[0] if top_row else "",
                           f"编号计数器被改回 {counter}，但已有 {PROVISIONAL_LOW}{top:07d} / the number counter was "
                           f"moved back to {counter} while {PROVISIONAL_LOW}{top:07d} exists: the next issue would "
                           "take a number given already"))
    elif counter > top:
        out.append(Finding(None, "", "", f"{PROVISIONAL_LOW}{counter:07d}",
                           f"编号已发到 {PROVISIONAL_LOW}{counter:07d}，最新的发票却是 "
                           f"{PROVISIONAL_LOW}{top:07d}，最新的发票被删除 / numbers were given up to "
                           f"{PROVISIONAL_LOW}{counter:07d} but the newest invoice is {PROVISIONAL_LOW}{top:07d}: "
                           "the newest invoices were deleted"))
    if count and top:
        held = connection.execute("SELECT count(*) FROM invoice WHERE provisional_number >= ? "
                                  "AND provisional_number < ?", (PROVISIONAL_LOW, PROVISIONAL_HIGH)).fetchone()[0]
        if held != top:
            out.append(Finding(None, "", "", "",
                               f"编号 {PROVISIONAL_LOW}0000001 至 {PROVISIONAL_LOW}{top:07d} 中只有 {held} 张，"
                               f"有发票被删除 / of the numbers up to {PROVISIONAL_LOW}{top:07d} only {held} are in "
                               "the store: invoices were deleted (the numbers have gaps)"))
    return out


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() \
        is not None


def _tally_findings(connection: sqlite3.Connection) -> list[Finding]:
    """What SQLite's triggers keep for the desk to read instead of counting (schema 4's waiting_totals, which the
    offline limits believe at every issue; schema 11's invoice_tally, the list's count) against the rows
    themselves: a table edited behind the triggers' back would hide that the limits are reached, or miscount."""
    out: list[Finding] = []
    if _has_table(connection, "invoice_tally"):
        kept = dict(connection.execute('SELECT status, "count" FROM invoice_tally WHERE "count" != 0').fetchall())
        counted = dict(connection.execute("SELECT status, count(*) FROM invoice GROUP BY status").fetchall())
        for name in sorted(set(kept) | set(counted), key=repr):  # a status stored as a blob is a key too
            if kept.get(name, 0) != counted.get(name, 0):
                out.append(Finding(None, "", "", "",
                                   f"发票计数表记状态 {name} 有 {kept.get(name, 0)} 张，实有 {counted.get(name, 0)} "
                                   f"张，计数表被直接改动 / the tally says {kept.get(name, 0)} invoices are {name}, "
                                   f"the store holds {counted.get(name, 0)}: the tally was edited"))
    if _has_table(connection, "waiting_totals"):
        kept_row = connection.execute('SELECT "count", amount, odd_offsets FROM waiting_totals WHERE id = 1').fetchone()
        counted_row = connection.execute(
            "SELECT COUNT(*), COALESCE(SUM(MAX(total_amount, 0)), 0), COALESCE(SUM(issued_at NOT LIKE '%+08:00'), 0) "
            "FROM invoice WHERE status IN ('pending_upload', 'pre_issue')").fetchone()
        if tuple(kept_row or (0, 0, 0)) != tuple(counted_row):
            out.append(Finding(None, "", "", "",
                               f"待上传合计（张数、金额分）记为 {tuple(kept_row or ())}，实为 {tuple(counted_row)}，"
                               f"离线限额据此判断，合计表被直接改动 / the waiting totals (count, amount in fen, odd "
                               f"offsets) say {tuple(kept_row or ())}, the store holds {tuple(counted_row)}: the "
                               "offline limits read them, and they were edited"))
    return out


# What json.loads runs, without its wrappers (the stubs do not name the decoder's scanner).
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _detail(text: str) -> dict[str, Any]:
    try:
        value, end = _SCAN(text, 0)
        if end != len(text):  # white space after it, or more (json.loads says which)
            raise ValueError
    except Exception:  # json.loads decides (and raises what it raises)
        try:
            value = json.loads(text)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _anchor_findings(anchors: list[Anchor], held: dict[int, str]) -> list[Finding]:
    out = []
    for anchor in anchors:
        found = held.get(anchor.entry_id)
        if found != anchor.hash:
            what = "is gone" if found is None else "holds another hash"
            out.append(Finding(anchor.entry_id, "", "", "",
                               f"备份 {anchor.source} 记录的链头已不在审计链中，历史在该备份之后被重写 / "
                               f"the chain head recorded by backup {anchor.source} {what}: "
                               "the history was rewritten since that backup"))
    return out


def _hashes_of(connection: sqlite3.Connection, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    held: dict[int, str] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start:start + CHUNK]
        marks = ", ".join("?" for _ in part)
        held.update(connection.execute(f"SELECT id, hash FROM audit_entry WHERE id IN ({marks})", part).fetchall())
    return held


@contextmanager
def _read_snapshot(db: peewee.Database | None) -> Iterator[None]:
    """Every query of a check in one read transaction: one snapshot of the store (WAL), so a desk issuing
    meanwhile (its invoice and its entries committed together) is seen wholly or not at all."""
    target = db if db is not None else database
    with target.atomic():
        yield


def verify_store(db: peewee.Database | None = None, anchors: Iterable[Anchor] = (),
                 max_findings: int = 100) -> IntegrityReport:
    """The full check (see _verify_store) on one read snapshot."""
    with _read_snapshot(db):
        return _verify_store(db, anchors, max_findings)


def _verify_store(db: peewee.Database | None = None, anchors: Iterable[Anchor] = (),
                  max_findings: int = 100) -> IntegrityReport:
    """The full check: the whole chain, every invoice against its issuing entry, and the anchors; findings
    ordered by entry. Streams: the chain is walked with a cursor in id order, the invoices are checked a
    chunk at a time with their own entries and lines, so memory does not grow with the store (only with
    the red-letter invoices, whose reasons are recorded on the originals). From FEED_MIN invoices their bodies
    are written and hashed by _BodyFeed on a second connection meanwhile, and each chunk whose digests are ready
    is checked between two batches of the walk (the red-letter invoices once the whole chain is walked)."""
    connection = _connection(db)
    report = IntegrityReport()
    findings = _Findings(max_findings)
    anchors = list(anchors)
    held: dict[int, str] = {}
    red_reasons: dict[str, str | None] = {}
    top = connection.execute("SELECT coalesce(max(id), 0) FROM audit_entry").fetchone()[0]
    until = connection.execute("SELECT coalesce(max(id), 0) FROM invoice").fetchone()[0]
    feed = _BodyFeed.start(db, until) if until >= FEED_MIN else None
    deferred: list[int] | None = [] if feed is not None else None
    last_id = 0

    def next_chunk() -> bool:
        nonlocal last_id
        ids = [r[0] for r in connection.execute("SELECT id FROM invoice WHERE id > ? ORDER BY id LIMIT ?",
                                                (last_id, CHUNK)).fetchall()]
        if not ids:
            return False
        report.invoices += len(ids)
        span = (last_id, ids[-1])
        digests = feed.take(span) if feed is not None else None
        for finding in _check_ids(db, connection, ids, red_reasons, span=span, digests=digests, defer=deferred):
            findings.add(finding)
        last_id = ids[-1]
        return True

    def between() -> None:
        while feed is not None and feed.ready() and next_chunk():
            pass

    try:
        watch = _Watch()
        _walk(connection, report, findings, after_id=0, until_id=top, prev=audit.GENESIS,
              wanted={a.entry_id for a in anchors}, held=held, red_reasons=red_reasons, watch=watch,
              between=between if feed is not None else None)
        report.watch = watch
        for finding in [*_desk_findings(connection, watch), *_number_findings(connection, count=True),
                        *_tally_findings(connection)]:
            findings.add(finding)
        while next_chunk():
            pass
    finally:
        if feed is not None:
            feed.close()
    for start in range(0, len(deferred or ()), CHUNK):  # the red-letter invoices, every reason now read
        assert deferred is not None
        for finding in _check_ids(db, connection, deferred[start:start + CHUNK], red_reasons):
            findings.add(finding)
    for finding in _anchor_findings(anchors, held):
        findings.add(finding)
    report.findings = findings.sorted()
    return report


_Digests = dict[int, "str | None"]
# The last id of the next chunk of invoices for _BodyFeed: after ?, up to ?, at most ? of them.
_FEED_SPAN_SQL = "SELECT max(id) FROM (SELECT id FROM invoice WHERE id > ? AND id <= ? ORDER BY id LIMIT ?)"


class _BodyFeed:
    """The digests of the bodies of every invoice up to a given id, written by SQLite (_BODIES_SQL) on a second
    connection in a thread and hashed there, a chunk at a time (at most FEED_AHEAD ahead), while the check walks
    the chain: SQLite lets go of the GIL while it writes, which is most of what the invoices cost, so a second CPU
    does it. A thread, not a process: nothing to start or import, in the app as on the command line.

    Its reads are another snapshot than the check's (a second connection cannot share one), begun after the
    check's. That is sound for what a digest is used for: an invoice's body never changes (its content hash was
    recorded by its issuing entry, and any change is what the check finds), and a digest only spares a rebuild. A
    digest that does not match, one missing (an invoice that snapshot does not hold, a chunk SQLite could not
    write), or a feed that cannot start sends the invoice to the check's own way on its own snapshot, which alone
    decides what is reported; the rows' status columns, content hash, entries and queue are read there too."""

    def __init__(self, name: str, uri: bool, timeout: float, until: int) -> None:
        self._name, self._uri, self._timeout, self._until = name, uri, timeout, until
        self._queue: Queue[tuple[int, int, _Digests | None] | None] = Queue(FEED_AHEAD)
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the connection is closed and interrupted one at a time
        self._connection: sqlite3.Connection | None = None
        self._covered = 0  # the digests of the invoices up to this id have been taken from the queue
        self._ended = False
        self._held: _Digests = {}
        self._failed: list[tuple[int, int]] = []  # spans (after, last) the feed could not write
        self._thread = threading.Thread(target=self._run, name="integrity-bodies", daemon=True)

    @classmethod
    def start(cls, db: peewee.Database | None, until: int) -> _BodyFeed | None:
        """The feed of the database db (None: the store), or None where a second connection cannot be had or
        there is no second CPU to write on (the thread would only add its own cost)."""
        target = db if db is not None else getattr(database, "obj", None)
        if not isinstance(target, peewee.SqliteDatabase) or (os.cpu_count() or 1) < 2:
            return None
        name = target.database
        if not isinstance(name, str) or name in ("", ":memory:") or "mode=memory" in name:
            return None
        timeout = getattr(target, "_timeout", None)
        feed = cls(name, bool(target.connect_params.get("uri")),
                   float(timeout) if isinstance(timeout, (int, float)) else 5.0, until)  # ok-float: seconds
        feed._thread.start()
        return feed

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self._name, uri=self._uri, timeout=self._timeout, isolation_level=None)
        except Exception:  # whatever it is, the check writes every body itself
            self._end()
            return
        self._connection = connection
        sha256 = hashlib.sha256
        try:
            connection.execute("BEGIN")  # one snapshot for all the feed reads
            last = 0
            while not self._stop.is_set():
                hi = connection.execute(_FEED_SPAN_SQL, (last, self._until, CHUNK)).fetchone()[0]
                if hi is None:
                    break
                digests: _Digests | None = None
                try:
                    blob, count = connection.execute(_BODIES_SQL, (last, hi)).fetchone()
                    pieces = bytes(blob).split(b"\x1e") if blob is not None else []
                    if len(pieces) == count:
                        written: _Digests = {}
                        for piece in pieces:
                            space = piece.index(b" ")
                            written[int(piece[:space])] = (sha256(piece[space + 1:]).hexdigest()
                                                           if len(piece) > space + 1 else None)
                        digests = written
                except (sqlite3.Error, ValueError):  # a chunk SQLite cannot write: the check writes it itself
                    if self._stop.is_set():
                        break
                    digests = None
                if not self._put((last, hi, digests)):
                    break
                last = hi
        except Exception:  # interrupted, the file unreadable ...: the check writes the rest itself
            pass
        finally:
            with self._lock:
                self._connection = None
                connection.close()
            self._end()

    def _put(self, item: tuple[int, int, _Digests | None] | None) -> bool:
        while True:
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except Full:
                if self._stop.is_set():
                    return False

    def _end(self) -> None:
        self._put(None)

    def ready(self) -> bool:
        """Digests are waiting (or the feed has ended): the next chunk can be checked without waiting."""
        return self._ended or not self._queue.empty()

    def take(self, span: tuple[int, int]) -> _Digests | None:
        """The digests of the invoices after < id <= last, or None when the feed does not have them all."""
        after, last = span
        while self._covered < last and not self._ended:
            try:
                item = self._queue.get(timeout=1.0)
            except Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    self._ended = True
                continue
            if item is None:
                self._ended = True
                break
            first, upto, digests = item
            self._covered = upto
            if digests is None:
                self._failed.append((first, upto))
            else:
                self._held.update(digests)
        result: _Digests | None = None
        if self._covered >= last and not any(first < last and upto > after for first, upto in self._failed):
            result = {k: v for k, v in self._held.items() if after < k <= last}
        self._held = {k: v for k, v in self._held.items() if k > last}
        self._failed = [(first, upto) for first, upto in self._failed if upto > last]
        return result

    def close(self) -> None:
        """Stop the feed (at once if the check ended early) and wait for its thread."""
        self._stop.set()
        with self._lock:
            if self._connection is not None:
                with suppress(sqlite3.Error):
                    self._connection.interrupt()
        deadline = time.monotonic() + 30
        while self._thread.is_alive() and time.monotonic() < deadline:
            with suppress(Empty):
                self._queue.get(timeout=0.05)
        self._thread.join(timeout=0.1)


def _marks(ids: list[int]) -> str:
    return ", ".join("?" for _ in ids)


def _check_ids(db: peewee.Database | None, connection: sqlite3.Connection, ids: list[int],
               red_reasons: dict[str, str | None] | None, span: tuple[int, int] | None = None,
               digests: dict[int, str | None] | None = None, defer: list[int] | None = None) -> list[Finding]:
    """The invoices of ids (at most CHUNK) against their own entries (origin and lifecycle facts); red_reasons
    None: read the reasons of the red-letter ones from their originals' entries. span (after, last): ids are
    every invoice after < id <= last, read by range rather than one by one. digests and defer: see
    _check_invoices."""
    origin: dict[int, tuple[_Entry, str]] = {}
    lifecycle: dict[int, _Facts] = {}
    reasons: dict[str, str | None] = {} if red_reasons is None else red_reasons
    if span is not None:
        of_ids, params = "{column} > ? AND {column} <= ?", list(span)
    else:
        of_ids, params = f"{{column}} IN ({_marks(ids)})", ids
    current: int | None = None
    facts = _Facts()  # the facts of the invoice `current`
    detail_of, new_entry = _detail, tuple.__new__  # bound once: this runs for every entry of every invoice
    for entry_id, at, action, invoice_id, detail in connection.execute(
            f"SELECT id, at, action, invoice_id, detail FROM audit_entry WHERE {of_ids.format(column='invoice_id')} "
            "ORDER BY invoice_id, id", params):  # each invoice's in order: as its index holds them, no sort
        if invoice_id != current:  # an invoice's entries come one after the other
            current = invoice_id
            held = lifecycle.get(invoice_id)
            facts = lifecycle[invoice_id] = _Facts(red_reasons=reasons) if held is None else held
        entry: _Entry = new_entry(_Entry, (entry_id, at, action))
        facts.last = entry
        if action in _DECISIVE:
            facts.decisive = entry
        if action in _LIFECYCLE:
            given = detail_of(detail)
            facts.actions.add(action)
            official = given.get("official_number")
            if official and isinstance(official, str):
                facts.official_numbers.add(official)
            given_reason = given.get("reason")
            if action == "cancelled" and isinstance(given_reason, str):
                facts.cancel_reasons.add(given_reason)
        elif action in _ORIGIN and invoice_id not in origin:
            given = detail_of(detail)
        else:
            continue
        if action in _ORIGIN and invoice_id not in origin:
            recorded = given.get("content_hash", "")
            origin[invoice_id] = (entry, recorded if isinstance(recorded, str) else "")
    if red_reasons is None:  # a part of the store (the quick check): the reasons recorded on their originals
        _red_reasons_of(connection, ids, reasons)
    queue = dict(connection.execute(
        f"SELECT invoice_id, state FROM upload_queue_entry WHERE {of_ids.format(column='invoice_id')}",
        params).fetchall())
    return _check_invoices(db, connection, ids, origin, lifecycle, queue, (of_ids.format(column="i.id"), params),
                           digests, defer)


def _red_reasons_of(connection: sqlite3.Connection, ids: list[int], into: dict[str, str | None]) -> None:
    for number, original in connection.execute(
            f"SELECT provisional_number, original_number FROM invoice WHERE id IN ({_marks(ids)}) "
            "AND red_reason IS NOT NULL", ids).fetchall():
        for (detail,) in connection.execute(
                "SELECT a.detail FROM audit_entry a JOIN invoice i ON i.id = a.invoice_id WHERE a.action = 'reversed' "
                "AND (i.official_number = ? OR i.provisional_number = ?) ORDER BY a.id", (original, original)):
            given = _detail(detail)
            if str(given.get("red_number")) == number:
                reason = given.get("reason")
                into[number] = reason if isinstance(reason, str) else None


# --- each invoice's rows against its issuing entry -------------------------------------------------
#
# The content hash is over the protocol body (app.store.records.content_hash: canonical JSON of
# app.core.codec.invoice_to_body of the Invoice rebuilt from the rows). Rebuilding the domain Invoice of
# every row costs ~0.2 ms; so SQLite writes the same canonical JSON itself from the stored columns (keys
# sorted, compact, UTF-8 as is, its escapes those of json.dumps), some 15 µs a row. Only a row whose
# SQLite-written body does not give the hash its issuing entry recorded is rebuilt the domain's way, and
# that alone decides what is reported about it; so SQLite's body can only ever spare a rebuild, never
# pass a row the rebuild would fail:
# - JSON keeps types: a body giving the recorded hash holds, value for value, the issued one (a string as
#   a string, a number as a number, null as null), and the domain reads each of those columns as that
#   same value (a text column as its text, a stored quantity's digits as a Decimal that formats back to them,
#   issued_at as the isoformat() text it is, a line's position as its order);
# - where SQL would read a value otherwise than the domain, the type is checked first: amounts must be whole
#   fen (integers), flags integers (Python's bool of them), the columns the status checks read text or
#   NULL, confirmed_tax_ids text; rules must be 'shudian' (a legacy invoice has its own body). Anything else,
#   an SQL error included (a value SQLite cannot write into JSON), is a NULL body: rebuilt.
# If the codec changed, SQLite's body would no longer give the hashes: every row would be rebuilt (slow,
# never wrong); tests/store/test_integrity_fast.py holds the two bodies equal.

def _money_sql(value: str) -> str:
    """app.core.money.format_money of whole fen, in SQL: "-0.05", "0.00", "1234.56"."""
    return (f"printf('%s%d.%02d', CASE WHEN {value} < 0 THEN '-' ELSE '' END, abs({value}) / 100, "
            f"abs({value}) % 100)")


def _flag_sql(value: str) -> str:
    """A BooleanField as JSON true/false: bool() of an integer; NULL (never what a body holds) otherwise."""
    return f"CASE typeof({value}) WHEN 'integer' THEN CASE WHEN {value} THEN json('true') ELSE json('false') END END"


def _object_sql(fields: dict[str, str]) -> str:
    """json_object with the keys sorted, as canonical_json writes them."""
    return "json_object(" + ", ".join(f"'{key}', {fields[key]}" for key in sorted(fields)) + ")"


_ZERO_RATES_SQL = ", ".join(f"'{code}'" for code in sorted(ZERO_RATE_CODES))
# app.core.codec.line_to_body, of one invoice_line row (line_no: the position, from 0, plus one).
_LINE_SQL = _object_sql({
    "line_no": "position + 1", "nature": "nature", "tax_code": "tax_code", "short_name": "short_name",
    "item_name": "item_name", "name": "name", "spec": "spec", "unit": "unit",
    "quantity": "coalesce(quantity, '')", "unit_price": "coalesce(unit_price, '')", "amount": _money_sql("amount"),
    "tax_rate": f"CASE WHEN tax_rate IN ({_ZERO_RATES_SQL}) THEN '0' ELSE tax_rate END", "tax": _money_sql("tax"),
    "amount_with_tax": _money_sql("(amount + tax)"), "policy": "policy", "original_line_no": "original_line_no"})
_AMOUNT_SQL, _TAX_SQL = "coalesce(sum(amount), 0)", "coalesce(sum(tax), 0)"
# app.core.codec.invoice_to_body (a 数电 invoice), its lines and totals aggregated in the subquery below.
_BODY_SQL = _object_sql({
    "number": "i.provisional_number", "kind": "i.kind", "medium": "i.medium", "issued_at": "i.issued_at",
    "seller": _object_sql({"name": "i.seller_name", "tax_id": "i.seller_tax_id", "address": "i.seller_address",
                           "phone": "i.seller_phone", "bank": "i.seller_bank", "account": "i.seller_account"}),
    "buyer": _object_sql({"name": "i.buyer_name", "tax_id": "i.buyer_tax_id",
                          "natural_person": _flag_sql("i.buyer_natural_person"), "id_type": "i.buyer_id_type",
                          "id_number": "i.buyer_id_number", "address": "i.buyer_address", "phone": "i.buyer_phone",
                          "bank": "i.buyer_bank", "account": "i.buyer_account"}),
    "lines": f"json_group_array({_LINE_SQL})", "deduction": "NULL",
    "total_amount": _money_sql(_AMOUNT_SQL), "total_tax": _money_sql(_TAX_SQL),
    "total_with_tax": _money_sql(f"({_AMOUNT_SQL} + {_TAX_SQL})"), "remarks": "i.remarks", "payee": "i.payee",
    "reviewer": "i.reviewer", "drawer": "i.drawer", "drawer_id_type": "i.drawer_id_type",
    "drawer_id_number": "i.drawer_id_number", "show_seller_bank": _flag_sql("i.show_seller_bank"),
    "show_buyer_bank": _flag_sql("i.show_buyer_bank"),
    "red": "CASE WHEN i.original_number IS NOT NULL THEN json('true') ELSE json('false') END",
    "original_number": "i.original_number", "red_form_uuid": "i.red_form_uuid", "red_reason": "i.red_reason_code"})
_STATUS_COLUMNS = ("id", "provisional_number", "status", "channel", "official_number", "cancel_reason", "red_reason",
                   "cancelled_at", "issued_at")
# Where SQL would read a value otherwise than the domain (see above), its type; the row's totals what its lines
# add up to (else the rebuild says which). The columns the status checks read (_STATUS_GUARD_SQL) apart from those
# the body holds (_BODY_GUARD_SQL): the full check reads the former with the row and has the body written apart.
_STATUS_GUARD_SQL = " AND ".join(f"typeof(i.{c}) IN ('text', 'null')" for c in _STATUS_COLUMNS[2:8])
_BODY_GUARD_SQL = " AND ".join((
    "i.rules = 'shudian'", "typeof(i.confirmed_tax_ids) = 'text'",
    *(f"typeof(i.{c}) = 'integer'" for c in ("total_amount", "total_tax", "total_with_tax")),
    "min(typeof(amount) = 'integer' AND typeof(tax) = 'integer')",
    f"{_AMOUNT_SQL} = i.total_amount", f"{_TAX_SQL} = i.total_tax", f"{_AMOUNT_SQL} + {_TAX_SQL} = i.total_with_tax"))
_GUARD_SQL = f"{_STATUS_GUARD_SQL} AND {_BODY_GUARD_SQL}"
# One row per invoice: what the status checks read, the row's content hash and the body SQLite writes, as its UTF-8
# bytes (hashed as they come: no str made and encoded again), NULL when the guard fails or for an invoice without
# lines.
_ROWS_SQL = (
    f"SELECT {', '.join('i.' + c for c in _STATUS_COLUMNS)}, i.content_hash, "
    f"(SELECT CASE WHEN {_GUARD_SQL} THEN CAST({_BODY_SQL} AS BLOB) END FROM invoice_line WHERE invoice_id = i.id) "
    "FROM invoice i WHERE {where} ORDER BY i.id")
# The same without the body (the full check has it written on a second connection, _BodyFeed): the status columns
# guard instead.
_STATUS_ROWS_SQL = (
    f"SELECT {', '.join('i.' + c for c in _STATUS_COLUMNS)}, i.content_hash, {_STATUS_GUARD_SQL} "
    "FROM invoice i WHERE {where} ORDER BY i.id")
# The bodies of the invoices ? < id <= ?, for _BodyFeed: "id body" each (an empty body where the guard fails or
# there are no lines), joined by a record separator (a body never holds one: SQLite escapes control characters in
# JSON text), as UTF-8 bytes; and how many invoices.
_BODIES_SQL = (
    "SELECT CAST(group_concat(i.id || ' ' || coalesce((SELECT CASE WHEN " + _BODY_GUARD_SQL + " THEN "
    + _BODY_SQL + " END FROM invoice_line WHERE invoice_id = i.id), ''), char(30)) AS BLOB), count(*) "
    "FROM invoice i WHERE i.id > ? AND i.id <= ?")


class _Row(NamedTuple):
    """The invoice row's columns the status checks read, as SQLite holds them (text or NULL: the guard)."""

    id: int
    provisional_number: str
    status: str
    channel: str
    official_number: str | None
    cancel_reason: str | None
    red_reason: str | None
    cancelled_at: str | None
    issued_at: str


def _check_invoices(db: peewee.Database | None, connection: sqlite3.Connection, ids: list[int],
                    origin: dict[int, tuple[_Entry, str]], lifecycle: dict[int, _Facts], queue: dict[int, str],
                    where: tuple[str, list[int]], digests: dict[int, str | None] | None = None,
                    defer: list[int] | None = None) -> list[Finding]:
    """The invoices of ids (selected by `where`: an SQL condition on i and its parameters) against their
    entries: those SQLite's body confirms on their raw columns, the others rebuilt the domain's way. digests:
    the hashes of their bodies as _BodyFeed wrote them (None: the body written here, with the row). defer: the
    red-letter invoices are not checked but added to it (the full check checks them once it has walked the whole
    chain: their reasons are recorded on the originals' entries)."""
    findings: list[Finding] = []
    rows: dict[int, _Row | Invoice] = {}
    confirmed: set[int] = set()
    sha256 = hashlib.sha256
    try:
        if digests is None:
            fetched = connection.execute(_ROWS_SQL.format(where=where[0]), where[1]).fetchall()
        else:
            fetched = connection.execute(_STATUS_ROWS_SQL.format(where=where[0]), where[1]).fetchall()
    except sqlite3.Error:  # a value SQLite's body cannot write (an amount out of range ...): the domain's way
        fetched = []
    for *columns, row_hash, body in fetched:
        if digests is None:
            digest = None if body is None else sha256(body).hexdigest()
        else:
            digest = digests.get(columns[0]) if body else None  # body: the status columns' guard
        if digest is None:  # rebuilt, and its row read by the domain
            continue
        raw = _Row(*columns)
        rows[raw.id] = raw
        found = origin.get(raw.id)
        if found is not None and row_hash == found[1] and digest == found[1]:
            confirmed.add(raw.id)
    rebuild = [i for i in ids if i not in confirmed and (i in origin or i not in rows)]
    lines: dict[int, list[InvoiceLine]] = {}
    unreadable: dict[int, Exception] = {}  # a value peewee cannot read (text in a money column ...)
    for start in range(0, len(rebuild), CHUNK):
        part = rebuild[start:start + CHUNK]
        try:
            for line in _bind(InvoiceLine.select().where(InvoiceLine.invoice.in_(part))
                              .order_by(InvoiceLine.invoice, InvoiceLine.position), db).iterator():
                lines.setdefault(line.invoice_id, []).append(line)
        except _UNREADABLE:
            _read_one_by_one(db, part, lines, unreadable)
        try:
            for model in _bind(Invoice.select().where(Invoice.id.in_(part)), db).iterator():
                rows[model.id] = model
        except _UNREADABLE:
            for invoice_id in part:
                try:
                    model = _bind(Invoice.select().where(Invoice.id == invoice_id), db).get_or_none()
                except _UNREADABLE as error:
                    unreadable.setdefault(invoice_id, error)
                    continue
                if model is not None:
                    rows[invoice_id] = model
    for invoice_id in ids:
        row = rows.get(invoice_id)
        if defer is not None and row is not None and row.red_reason:
            defer.append(invoice_id)
            continue
        if invoice_id in unreadable:
            found = origin.get(invoice_id)
            failure = unreadable[invoice_id]
            number = row.provisional_number if row is not None else _number_of(connection, invoice_id)
            findings.append(Finding(found[0].id if found else None, found[0].at if found else "",
                                    found[0].action if found else "", number,
                                    f"发票无法读出 / the stored invoice cannot be read back ({type(failure).__name__}: "
                                    f"{failure}): changed behind the app's back"))
            continue
        if row is None:
            continue
        number = row.provisional_number
        found = origin.get(invoice_id)
        if found is None:
            findings.append(Finding(None, row.issued_at, "", number,
                                    "审计日志中没有此发票的开具记录，发票是在应用之外插入的 / the invoice has no "
                                    "issued entry in the audit log: it was inserted behind the app's back"))
            continue
        entry, recorded = found
        if invoice_id not in confirmed:
            assert isinstance(row, Invoice)
            problem = _row_problem(row, lines.get(invoice_id, []), recorded, db)
            if problem:
                findings.append(Finding(entry.id, entry.at, entry.action, number, problem))
                continue
        facts = lifecycle.get(invoice_id) or _Facts()
        problem = _lifecycle_problem(row, facts) or _queue_problem(row, facts, queue.get(invoice_id))
        if problem:
            last = facts.last or entry
            findings.append(Finding(last.id, last.at, last.action, number, problem))
    return findings


# --- the verified head and the quick check --------------------------------------------------------

@dataclass(frozen=True)
class VerifiedHead:
    """The chain as of the last check that passed: its last entry, and the invoices then (highest id, count)."""

    entry_id: int
    hash: str
    entries: int
    invoice_id: int
    invoices: int
    at: str = ""
    settings: dict[str, int] | None = None  # setting key -> the entry that last changed it (None: not recorded)
    seller: int = 0  # the last seller entry
    cancelled: int = -1  # invoices cancelled (-1: not recorded)
    open: tuple[int, ...] | None = None  # ids of the invoices then waiting, rejected or too late (the few unsettled)


def recorded_head(db: peewee.Database | None = None) -> VerifiedHead | None:
    """The head the last passing check recorded in the store (setting audit.verified_head), or None."""
    row = _bind(Setting.select(Setting.value).where(Setting.key == HEAD_SETTING), db).tuples().first()
    if row is None:
        return None
    try:
        value = json.loads(row[0])
        settings = value.get("settings")
        return VerifiedHead(int(value["entry_id"]), str(value["hash"]), int(value["entries"]),
                            int(value["invoice_id"]), int(value["invoices"]), str(value.get("at", "")),
                            {str(k): int(v) for k, v in settings.items()} if isinstance(settings, dict) else None,
                            int(value.get("seller", 0)), int(value.get("cancelled", -1)),
                            tuple(int(i) for i in value["open"]) if isinstance(value.get("open"), list) else None)
    except (ValueError, KeyError, TypeError):
        return VerifiedHead(-1, "", 0, 0, 0)  # unreadable: refused like a moved head


def head_anchor(db: peewee.Database | None = None) -> Anchor | None:
    """For the backup manifest: the verified head recorded in the store, as an Anchor (None before a check)."""
    head = recorded_head(db)
    return Anchor(head.entry_id, head.hash, STORE_HEAD_SOURCE) if head is not None and head.entry_id > 0 else None


OPEN_STATUSES = (*status.WAITING_STATUSES, status.REJECTED, status.UPLOAD_TOO_LATE)


def _open_ids(connection: sqlite3.Connection) -> set[int]:
    """The invoices not settled (waiting, rejected, too late): few, read on the status index."""
    marks = ", ".join("?" for _ in OPEN_STATUSES)
    return {r[0] for r in connection.execute(f"SELECT id FROM invoice WHERE status IN ({marks})", OPEN_STATUSES)}


def _cancelled(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT count(*) FROM invoice WHERE status = ?", (status.CANCELLED,)).fetchone()[0])


def _current_head(connection: sqlite3.Connection, report: IntegrityReport) -> VerifiedHead:
    """The head a whole report verified, with the figures of the same snapshot (its count of invoices: one more
    count(*) would read an index of every invoice again)."""
    invoice_id = connection.execute("SELECT coalesce(max(id), 0) FROM invoice").fetchone()[0]
    watch = report.watch
    return VerifiedHead(report.head_id, report.head_hash, report.entries, invoice_id, report.invoices, now_iso(),
                        dict(watch.settings) if watch is not None else None, watch.seller if watch else 0,
                        _cancelled(connection), tuple(sorted(_open_ids(connection))))


def record_head(head: VerifiedHead, db: peewee.Database | None = None) -> None:
    """Record head as verified. A plain setting row, not set_setting: no audit entry (it would move the head)."""
    value = json.dumps(dataclasses.asdict(head), ensure_ascii=False)
    target = db if db is not None else database
    with target.atomic():
        _bind(Setting.insert(key=HEAD_SETTING, value=value).on_conflict_replace(), db).execute()


def _count_up_to(connection: sqlite3.Connection, table: str, last_id: int) -> int:
    """Rows with id <= last_id: all (counted on the smallest index) less the few after it (a range of ids)."""
    total = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    after = connection.execute(f'SELECT count(*) FROM "{table}" WHERE id > ?', (last_id,)).fetchone()[0]
    return int(total - after)


def _head_problem(connection: sqlite3.Connection, head: VerifiedHead) -> str | None:
    """Is the recorded head still what the chain holds? (Cheap: point look-ups and two counts on indexes.)"""
    if head.entry_id <= 0:
        return "记录的已校验链头无法读出 / the recorded verified head cannot be read"
    found = connection.execute("SELECT hash FROM audit_entry WHERE id = ?", (head.entry_id,)).fetchone()
    if found is None:
        return (f"已校验的链头 #{head.entry_id} 已不在审计链中，记录被删除 / the verified head #{head.entry_id} "
                "is gone from the audit chain: entries were removed")
    if found[0] != head.hash:
        return (f"已校验的链头 #{head.entry_id} 的哈希已改变，历史被改写 / the verified head #{head.entry_id} "
                "holds another hash: the history up to it was rewritten")
    entries = _count_up_to(connection, "audit_entry", head.entry_id)
    if entries != head.entries:
        return (f"已校验部分的记录数由 {head.entries} 变为 {entries}，有记录被删除或插入 / the verified part of the "
                f"chain held {head.entries} entries and now holds {entries}: entries were removed or inserted")
    invoices = _count_up_to(connection, "invoice", head.invoice_id)
    if invoices != head.invoices:
        return (f"已校验的发票数由 {head.invoices} 变为 {invoices}，有发票被删除或插入 / the verified invoices were "
                f"{head.invoices} and are now {invoices}: invoices were removed or inserted behind the app's back")
    return None


def verify_quick(db: peewee.Database | None = None, anchors: Iterable[Anchor] = (), *,
                 head: VerifiedHead | None = None, sample: int = SAMPLE, rng: random.Random | None = None,
                 max_findings: int = 100) -> IntegrityReport:
    """The quick check (see _verify_quick) on one read snapshot."""
    with _read_snapshot(db):
        return _verify_quick(db, anchors, head=head, sample=sample, rng=rng, max_findings=max_findings)


def _verify_quick(db: peewee.Database | None = None, anchors: Iterable[Anchor] = (), *,
                  head: VerifiedHead | None = None, sample: int = SAMPLE, rng: random.Random | None = None,
                  max_findings: int = 100) -> IntegrityReport:
    """The check at start: what came after the verified head in full (the entries chained from it, the
    invoices they name and the invoices added since), the head itself (still there, same hash, as many
    entries and invoices up to it), the anchors, and a rolling sample of the older part: a random window
    of `sample` entries chained from the entry before it, with the invoices they name. Without a head
    (head=None and none recorded) it is the full check. A whole report's head is what to record next."""
    connection = _connection(db)
    head = head if head is not None else recorded_head(db)
    if head is None or (head.settings is None and head.entry_id > 0):  # none, or one that did not note the settings
        return _verify_store(db, anchors, max_findings)
    report = IntegrityReport()
    findings = _Findings(max_findings)
    anchors = list(anchors)
    problem = _head_problem(connection, head)
    if problem is not None:
        findings.add(Finding(head.entry_id if head.entry_id > 0 else None, head.at, "", "", problem))
        report.findings = findings.sorted()
        return report
    top = connection.execute("SELECT coalesce(max(id), 0) FROM audit_entry").fetchone()[0]
    touched: set[int] = set()  # invoices named by the entries checked: after the head, and in the sample
    report.entries = head.entries
    report.head_id, report.head_hash = head.entry_id, head.hash
    # After the head: chained from it, in full.
    watch = _Watch(dict(head.settings or {}), head.seller)
    _walk(connection, report, findings, after_id=head.entry_id, until_id=top, prev=head.hash, wanted=set(),
          held={}, red_reasons=None, touched=touched, watch=watch)
    report.watch = watch
    for finding in [*_desk_findings(connection, watch), *_number_findings(connection, count=False)]:
        findings.add(finding)
    cancelled = _cancelled(connection)
    if head.cancelled >= 0 and cancelled != head.cancelled + watch.cancelled:
        findings.add(Finding(None, "", "cancelled", "",
                             f"已作废的发票应为 {head.cancelled + watch.cancelled} 张，库中为 {cancelled} 张，"
                             f"作废被撤销 / {head.cancelled + watch.cancelled} invoices were cancelled through the "
                             f"app, the store holds {cancelled} cancelled: cancellations were undone behind the "
                             "app's back"))
    # The rolling sample of the older part: a window of `sample` entries from a random start.
    if head.entry_id > 1 and sample > 0:
        chooser = rng if rng is not None else random.SystemRandom()
        first = chooser.randint(1, max(head.entry_id - sample + 1, 1))
        before = connection.execute("SELECT hash FROM audit_entry WHERE id < ? ORDER BY id DESC LIMIT 1",
                                    (first,)).fetchone()
        window = IntegrityReport()
        _walk(connection, window, findings, after_id=first - 1, until_id=min(first + sample - 1, head.entry_id),
              prev=before[0] if before else audit.GENESIS, wanted=set(), held={}, red_reasons=None, touched=touched)
        report.sampled = (first, window.head_id)
    held = _hashes_of(connection, [a.entry_id for a in anchors])
    for finding in _anchor_findings(anchors, held):
        findings.add(finding)
    # The invoices: those the checked entries name, and every one added after the head (an invoice inserted
    # behind the app's back has no entry at all).
    for invoice_id, in connection.execute("SELECT id FROM invoice WHERE id > ?", (head.invoice_id,)):
        touched.add(invoice_id)
    # And every invoice not (yet) accepted, and every queue entry not accepted: an invoice kept from its upload
    # behind the app's back is one of them (both read on their status index: the few not settled).
    named = set(touched)  # the invoices entries after the head (or the sample) speak of
    now_open = _open_ids(connection)
    if head.open is not None:
        # An invoice before the head no entry since speaks of cannot have moved in or out of the unsettled
        # few: one that did (e.g. a waiting one set accepted, queue and all) was changed behind the app's back.
        for invoice_id in sorted((now_open ^ set(head.open)) - named):
            if invoice_id <= head.invoice_id:
                found = connection.execute("SELECT provisional_number FROM invoice WHERE id = ?", (invoice_id,))
                number = (found.fetchone() or (f"#{invoice_id}",))[0]
                findings.add(Finding(None, "", "", number,
                                     f"发票（行号 {invoice_id}）的状态在已校验之后被改变，却没有审计记录 / the "
                                     f"status of invoice row {invoice_id} changed since the verified head with no "
                                     "audit entry: changed behind the app's back"))
    touched |= now_open
    for invoice_id, in connection.execute("SELECT id FROM invoice WHERE status = ?", (status.CANCELLED,)):
        touched.add(invoice_id)
    for state in (*WAITING_QUEUE, status.Q_REJECTED, status.Q_TOO_LATE, status.Q_WITHDRAWN):
        # One state at a time: on the state index each (with the statistics of a store where most entries are
        # accepted, SQLite would scan the whole queue for an IN of eight states).
        for invoice_id, in connection.execute("SELECT invoice_id FROM upload_queue_entry WHERE state = ?", (state,)):
            touched.add(invoice_id)
    ordered = sorted(touched)
    for start in range(0, len(ordered), CHUNK):
        part = ordered[start:start + CHUNK]
        # The unsettled are mostly the newest, one run of ids: read by range when a part is one.
        span = (part[0] - 1, part[-1]) if part[-1] - part[0] + 1 == len(part) else None
        for finding in _check_ids(db, connection, part, None, span=span):
            findings.add(finding)
    report.invoices = connection.execute("SELECT count(*) FROM invoice").fetchone()[0]
    report.quick = True
    report.findings = findings.sorted()
    return report


def check_history(db: peewee.Database | None = None, anchors: Iterable[Anchor] = (), *, full: bool = False,
                  record: bool = True, sample: int = SAMPLE, max_findings: int = 100) -> IntegrityReport:
    """What the app runs at start and `audit verify` runs: the quick check (verify_quick), or with full the
    full check (verify_store) with the recorded head as one more anchor; a whole report's head is recorded
    (record) so that the next quick check starts from it."""
    connection = _connection(db)
    verified: VerifiedHead | None = None
    with _read_snapshot(db):  # the check and the head it records read the same snapshot
        if full:
            head = recorded_head(db)
            extra = ([Anchor(head.entry_id, head.hash, STORE_HEAD_SOURCE)]
                     if head is not None and head.entry_id > 0 else [])
            report = _verify_store(db, [*anchors, *extra], max_findings)
        else:
            report = _verify_quick(db, anchors, sample=sample, max_findings=max_findings)
        if report.ok and record and report.head_id > 0:
            verified = _current_head(connection, report)
    if verified is not None:
        record_head(verified, db)
    return report


@dataclass(slots=True)
class _Facts:
    """What the audit log says happened to one invoice after it was issued."""

    actions: set[str] = field(default_factory=set)
    official_numbers: set[str] = field(default_factory=set)
    cancel_reasons: set[str] = field(default_factory=set)
    red_reasons: dict[str, str | None] = field(default_factory=dict)  # shared: red-letter number -> recorded reason
    last: _Entry | None = None
    decisive: _Entry | None = None  # the last entry of DECISIVE_ACTIONS


def _lifecycle_problem(row: _Row | Invoice, facts: _Facts) -> str | None:
    """The row's status and official number must be ones the audit log recorded (they are outside
    the content hash: changing them in SQLite would otherwise pass)."""
    # A direct-channel invoice has its official number from issue: it is the number inside its body, which
    # the content hash covers.
    from_issue = row.channel == "direct" and row.official_number == row.provisional_number
    if row.official_number and row.official_number not in facts.official_numbers and not from_issue:
        return (f"发票号码 {row.official_number} 不是平台接受时记录的 / official number "
                f"{row.official_number} on the row was never recorded by an accepted or imported entry: "
                "it was set behind the app's back")
    if row.status == status.ACCEPTED and not facts.actions & {"accepted", "imported"}:
        return ("状态为已接受，但审计日志中没有接受记录 / "
                "status accepted on the row, but no accepted entry in the audit log")
    if row.status == status.UPLOAD_TOO_LATE and "upload_too_late" not in facts.actions:
        return ("状态为超期未上传，但审计日志中没有平台的超期答复 / "
                "status upload_too_late on the row, but no upload_too_late entry in the audit log")
    if row.status == status.CANCELLED and "cancelled" not in facts.actions:
        return ("状态为已作废，但审计日志中没有作废记录 / "
                "status cancelled on the row, but no cancelled entry in the audit log")
    if row.cancel_reason and row.cancel_reason not in facts.cancel_reasons:
        return (f"作废原因“{row.cancel_reason}”不是作废时记录的 / the cancellation reason on the row is not the "
                "one the cancelled entry recorded")
    if row.red_reason and facts.red_reasons.get(row.provisional_number) != row.red_reason:
        return (f"红字原因“{row.red_reason}”不是开具时记录的 / the red-letter reason on the row is not the one "
                "recorded when it was issued")
    if row.cancelled_at and row.status != status.CANCELLED:
        return (f"发票已作废（{row.cancelled_at}）但状态被改为 {row.status} / "
                f"the row was cancelled ({row.cancelled_at}) but its status reads {row.status}")
    if row.status != status.CANCELLED and "cancelled" in facts.actions:
        return (f"发票已作废，但状态被改回 {row.status} / the invoice was cancelled (its cancelled entry) but its "
                f"status reads {row.status}: un-cancelled behind the app's back")
    return None


# A settled queue entry's state -> the entries one of which must say so.
_QUEUE_NEEDS = {status.Q_ACCEPTED: ("accepted", "imported"), status.Q_REJECTED: ("rejected",),
                status.Q_TOO_LATE: ("upload_too_late",), status.Q_WITHDRAWN: ("cancelled",)}


def _queue_problem(row: _Row | Invoice, facts: _Facts, state: str | None) -> str | None:
    """The row's status against the entries that decide it, and its upload queue entry against both: an invoice
    taken out of the queue behind the app's back (its entry deleted, or marked accepted or withdrawn) would never
    be uploaded."""
    waiting = row.status in status.WAITING_STATUSES
    last = facts.decisive.action if facts.decisive is not None else ""
    if waiting and last not in ("issued", "queued"):
        return (f"状态为 {row.status}（待上传），但审计日志最后记录的是 {last} / status {row.status} "
                f"(waiting to upload) on the row, but the last entry deciding it is {last}: set back behind the app's "
                "back")
    if row.status == status.REJECTED and last != "rejected":
        return (f"状态为被拒绝，但审计日志最后记录的是 {last or '-'} / status rejected on the row, but the last entry "
                f"deciding it is {last or '-'}, not a rejection: set behind the app's back")
    if state is None:
        return ("上传队列记录被删除，发票将不会上传 / the invoice's upload queue entry is missing: it was "
                "deleted behind the app's back and the invoice would never be uploaded")
    if state in WAITING_QUEUE:
        if waiting or row.status == status.CANCELLED or (row.status == status.ACCEPTED and last == "queued"):
            return None
        return (f"上传队列为 {state}，但发票状态为 {row.status} / the queue entry is {state} while the invoice's "
                f"status is {row.status}: one of them was changed behind the app's back")
    if waiting:
        return (f"发票待上传，但上传队列记录为 {state}，发票将不会上传 / the invoice waits to upload but its queue "
                f"entry is {state}: changed behind the app's back, the invoice would never be uploaded")
    needs = _QUEUE_NEEDS.get(state)
    if needs is None:
        return f"上传队列状态 {state} 不是本程序的 / the queue entry's state {state!r} is not one the desk writes"
    if facts.actions.isdisjoint(needs) or (state == status.Q_WITHDRAWN and row.status != status.CANCELLED):
        return (f"上传队列记录为 {state}，但审计日志中没有相应记录 / the queue entry is {state}, but no "
                f"{'/'.join(needs)} entry in the audit log says so: changed behind the app's back")
    return None


# What reading a row whose value SQLite holds but peewee cannot convert raises (decimal.InvalidOperation is an
# ArithmeticError): found as a change, never raised out of the check.
_UNREADABLE = (ArithmeticError, ValueError, TypeError)


def _read_one_by_one(db: peewee.Database | None, part: list[int], lines: dict[int, list[InvoiceLine]],
                     unreadable: dict[int, Exception]) -> None:
    """The lines of part, invoice by invoice, after a chunk could not be read whole."""
    for invoice_id in part:
        lines.pop(invoice_id, None)
        try:
            lines[invoice_id] = list(_bind(InvoiceLine.select().where(InvoiceLine.invoice == invoice_id)
                                           .order_by(InvoiceLine.position), db))
        except _UNREADABLE as error:
            unreadable.setdefault(invoice_id, error)


def _number_of(connection: sqlite3.Connection, invoice_id: int) -> str:
    row = connection.execute("SELECT provisional_number FROM invoice WHERE id = ?", (invoice_id,)).fetchone()
    return str(row[0]) if row else f"#{invoice_id}"


def _row_problem(row: Invoice, lines: list[InvoiceLine], recorded: str, db: peewee.Database | None = None
                 ) -> str | None:
    try:
        invoice = invoice_from_row(row, lines, db)  # a backup's rows with the backup's red-letter forms
        digest = content_hash(invoice)
    except Exception as error:  # a value the domain cannot read is itself a change behind the app's back
        return f"发票无法读出 / the stored invoice cannot be read back ({type(error).__name__}: {error})"
    if digest != recorded:
        return ("发票或其明细（金额等）与开具时不符 / the stored invoice or its lines differ from what was issued "
                "(content hash differs from the one its issued entry recorded)")
    if row.content_hash != recorded:
        return "发票的内容哈希被改动 / the invoice row's content hash was changed"
    for name in ("total_amount", "total_tax", "total_with_tax"):
        if getattr(row, name) != getattr(invoice, name):
            return (f"发票合计被改动 / {name} on the invoice row ({getattr(row, name)}) "
                    f"is not what its lines add up to ({getattr(invoice, name)})")
    return None


def invoice_history(number: str | None = None, db: peewee.Database | None = None) -> list[AuditEntry]:
    """Audit entries of one invoice (provisional or official number) or all, oldest first."""
    query = (AuditEntry.select(AuditEntry, Invoice.provisional_number, Invoice.official_number)
             .join(Invoice, join_type=peewee.JOIN.LEFT_OUTER).order_by(AuditEntry.id))
    if number is not None:
        query = query.where((Invoice.provisional_number == number) | (Invoice.official_number == number))
    return list(_bind(query.objects(), db))

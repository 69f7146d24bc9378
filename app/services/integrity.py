"""Is the store's history whole? The audit chain, and each invoice's rows against what was issued.

The chain (app.store.audit) catches an audit entry edited, removed or inserted. It does not by
itself cover the invoice rows: so each invoice's stored rows (invoice + lines) are rebuilt into
the domain Invoice, hashed, and compared with the content hash its "issued" (or "imported")
entry recorded, and the row's totals with the totals its lines add up to. An amount changed in
SQLite therefore shows as a broken entry, and so does an invoice with no issuing entry.

Limit, said plainly: someone who rewrites the invoice rows AND recomputes the whole chain from
that point on leaves a consistent store. That is detectable only against something kept
elsewhere: each verified backup records the chain's head (entry id and hash) in its manifest,
beside the backups (USB stick, network share), and verify_store(anchors=...) checks that each
recorded head is still in the chain; the platform holds what it accepted (reconciliation).

Every query can be bound to another database (a backup being checked) with `db`.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import peewee

from app.core import status
from app.core.clock import now_iso
from app.store import audit
from app.store.models import AuditEntry, Invoice, InvoiceLine, Setting, database
from app.store.records import content_hash, invoice_from_row

ORIGIN_ACTIONS = ("issued", "imported")  # the entries that record an invoice's content hash
LIFECYCLE_ACTIONS = ("accepted", "imported", "cancelled", "upload_too_late")  # what the row's status and number rest on
CHUNK = 500  # invoices checked together (their entries and lines read in one query each)
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


def _sort_key(finding: Finding) -> tuple[float, str]:
    return (finding.entry_id if finding.entry_id is not None else float("inf"), finding.at)  # ok-float: sort key


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
          red_reasons: dict[str, str | None] | None, touched: set[int] | None = None) -> bool:
    """Stream entries after_id < id <= until_id in id order, checked against the chain from prev (the hash of
    entry after_id). Collects the hashes of the wanted ids, the red-letter reasons, the invoices the entries
    name (touched). The first break is a finding; True when the walked part holds."""
    cursor = connection.execute(_CHAIN_SQL, (after_id, until_id))
    whole = True
    while True:
        rows = cursor.fetchmany(WALK_CHUNK)
        if not rows:
            break
        for entry_id, at, clerk, action, invoice_id, detail, prev_hash, digest, found, number in rows:
            report.entries += 1
            if entry_id in wanted:
                held[entry_id] = digest
            if whole:
                reason = None
                number = number or ""
                if invoice_id is not None and not found:
                    reason = _MISSING_INVOICE.format(id=invoice_id)
                elif prev_hash != prev:
                    reason = _BAD_LINK
                elif audit.entry_hash(prev_hash, at, clerk, action, number, detail) != digest:
                    reason = _EDITED
                if reason:
                    findings.add(Finding(entry_id, at, action, number, reason))
                    whole = False  # after the first break every later link is suspect; report the first
            prev = digest
            report.head_id, report.head_hash = entry_id, digest
            if touched is not None and invoice_id is not None:
                touched.add(invoice_id)
            if action == "reversed" and red_reasons is not None:
                given = _detail(detail)
                reason_given = given.get("reason")
                # Recorded on the original; the red-letter invoice's row carries the same reason.
                red_reasons[str(given.get("red_number"))] = reason_given if isinstance(reason_given, str) else None
    return whole


def _detail(text: str) -> dict[str, Any]:
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


def verify_store(db: peewee.Database | None = None, anchors: Iterable[Anchor] = (),
                 max_findings: int = 100) -> IntegrityReport:
    """The full check: the whole chain, every invoice against its issuing entry, and the anchors; findings
    ordered by entry. Streams: the chain is walked with a cursor in id order, the invoices are checked a
    chunk at a time with their own entries and lines, so memory does not grow with the store (only with
    the red-letter invoices, whose reasons are recorded on the originals)."""
    connection = _connection(db)
    report = IntegrityReport()
    findings = _Findings(max_findings)
    anchors = list(anchors)
    held: dict[int, str] = {}
    red_reasons: dict[str, str | None] = {}
    top = connection.execute("SELECT coalesce(max(id), 0) FROM audit_entry").fetchone()[0]
    _walk(connection, report, findings, after_id=0, until_id=top, prev=audit.GENESIS,
          wanted={a.entry_id for a in anchors}, held=held, red_reasons=red_reasons)
    last_id = 0
    while True:
        ids = [r[0] for r in connection.execute("SELECT id FROM invoice WHERE id > ? ORDER BY id LIMIT ?",
                                                (last_id, CHUNK)).fetchall()]
        if not ids:
            break
        report.invoices += len(ids)
        for finding in _check_ids(db, connection, ids, red_reasons):
            findings.add(finding)
        last_id = ids[-1]
    for finding in _anchor_findings(anchors, held):
        findings.add(finding)
    report.findings = findings.sorted()
    return report


def _marks(ids: list[int]) -> str:
    return ", ".join("?" for _ in ids)


def _check_ids(db: peewee.Database | None, connection: sqlite3.Connection, ids: list[int],
               red_reasons: dict[str, str | None] | None) -> list[Finding]:
    """The invoices of ids (at most CHUNK) against their own entries (origin and lifecycle facts); red_reasons
    None: read the reasons of the red-letter ones from their originals' entries."""
    origin: dict[int, tuple[_Entry, str]] = {}
    lifecycle: dict[int, _Facts] = {}
    reasons: dict[str, str | None] = {} if red_reasons is None else red_reasons
    for entry_id, at, action, invoice_id, detail in connection.execute(
            f"SELECT id, at, action, invoice_id, detail FROM audit_entry WHERE invoice_id IN ({_marks(ids)}) "
            "ORDER BY id", ids):
        entry = _Entry(entry_id, at, action)
        facts = lifecycle.get(invoice_id)
        if facts is None:
            facts = lifecycle[invoice_id] = _Facts(red_reasons=reasons)
        facts.last = entry
        if action in LIFECYCLE_ACTIONS:
            given = _detail(detail)
            facts.actions.add(action)
            official = given.get("official_number")
            if official and isinstance(official, str):
                facts.official_numbers.add(official)
            given_reason = given.get("reason")
            if action == "cancelled" and isinstance(given_reason, str):
                facts.cancel_reasons.add(given_reason)
        if action in ORIGIN_ACTIONS and invoice_id not in origin:
            recorded = _detail(detail).get("content_hash", "")
            origin[invoice_id] = (entry, recorded if isinstance(recorded, str) else "")
    if red_reasons is None:  # a part of the store (the quick check): the reasons recorded on their originals
        _red_reasons_of(connection, ids, reasons)
    return _check_invoices(db, ids, origin, lifecycle)


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


def _check_invoices(db: peewee.Database | None, ids: list[int], origin: dict[int, tuple[_Entry, str]],
                    lifecycle: dict[int, _Facts]) -> list[Finding]:
    findings: list[Finding] = []
    lines: dict[int, list[InvoiceLine]] = {}
    for line in _bind(InvoiceLine.select().where(InvoiceLine.invoice.in_(ids))
                      .order_by(InvoiceLine.invoice, InvoiceLine.position), db).iterator():
        lines.setdefault(line.invoice_id, []).append(line)
    for row in _bind(Invoice.select().where(Invoice.id.in_(ids)).order_by(Invoice.id), db).iterator():
        number = row.provisional_number
        found = origin.get(row.id)
        if found is None:
            findings.append(Finding(None, row.issued_at, "", number,
                                    "审计日志中没有此发票的开具记录，发票是在应用之外插入的 / the invoice has no "
                                    "issued entry in the audit log: it was inserted behind the app's back"))
            continue
        entry, recorded = found
        problem = _row_problem(row, lines.get(row.id, []), recorded)
        if problem:
            findings.append(Finding(entry.id, entry.at, entry.action, number, problem))
            continue
        facts = lifecycle.get(row.id) or _Facts()
        problem = _lifecycle_problem(row, facts)
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


def recorded_head(db: peewee.Database | None = None) -> VerifiedHead | None:
    """The head the last passing check recorded in the store (setting audit.verified_head), or None."""
    row = _bind(Setting.select(Setting.value).where(Setting.key == HEAD_SETTING), db).tuples().first()
    if row is None:
        return None
    try:
        value = json.loads(row[0])
        return VerifiedHead(int(value["entry_id"]), str(value["hash"]), int(value["entries"]),
                            int(value["invoice_id"]), int(value["invoices"]), str(value.get("at", "")))
    except (ValueError, KeyError, TypeError):
        return VerifiedHead(-1, "", 0, 0, 0)  # unreadable: refused like a moved head


def head_anchor(db: peewee.Database | None = None) -> Anchor | None:
    """For the backup manifest: the verified head recorded in the store, as an Anchor (None before a check)."""
    head = recorded_head(db)
    return Anchor(head.entry_id, head.hash, STORE_HEAD_SOURCE) if head is not None and head.entry_id > 0 else None


def _current_head(connection: sqlite3.Connection, report: IntegrityReport) -> VerifiedHead:
    invoice_id, invoices = connection.execute("SELECT coalesce(max(id), 0), count(*) FROM invoice").fetchone()
    return VerifiedHead(report.head_id, report.head_hash, report.entries, invoice_id, invoices, now_iso())


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
    """The check at start: what came after the verified head in full (the entries chained from it, the
    invoices they name and the invoices added since), the head itself (still there, same hash, as many
    entries and invoices up to it), the anchors, and a rolling sample of the older part: a random window
    of `sample` entries chained from the entry before it, with the invoices they name. Without a head
    (head=None and none recorded) it is the full check. A whole report's head is what to record next."""
    connection = _connection(db)
    head = head if head is not None else recorded_head(db)
    if head is None:
        return verify_store(db, anchors, max_findings)
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
    _walk(connection, report, findings, after_id=head.entry_id, until_id=top, prev=head.hash, wanted=set(),
          held={}, red_reasons=None, touched=touched)
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
    ordered = sorted(touched)
    for start in range(0, len(ordered), CHUNK):
        part = ordered[start:start + CHUNK]
        for finding in _check_ids(db, connection, part, None):
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
    if full:
        head = recorded_head(db)
        extra = [Anchor(head.entry_id, head.hash, STORE_HEAD_SOURCE)] if head is not None and head.entry_id > 0 else []
        report = verify_store(db, [*anchors, *extra], max_findings)
    else:
        report = verify_quick(db, anchors, sample=sample, max_findings=max_findings)
    if report.ok and record and report.head_id > 0:
        record_head(_current_head(connection, report), db)
    return report


@dataclass
class _Facts:
    """What the audit log says happened to one invoice after it was issued."""

    actions: set[str] = field(default_factory=set)
    official_numbers: set[str] = field(default_factory=set)
    cancel_reasons: set[str] = field(default_factory=set)
    red_reasons: dict[str, str | None] = field(default_factory=dict)  # shared: red-letter number -> recorded reason
    last: _Entry | None = None


def _lifecycle_problem(row: Invoice, facts: _Facts) -> str | None:
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
    return None


def _row_problem(row: Invoice, lines: list[InvoiceLine], recorded: str) -> str | None:
    try:
        invoice = invoice_from_row(row, lines)
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

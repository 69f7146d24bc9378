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

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import peewee

from app.core import status
from app.store import audit
from app.store.models import AuditEntry, Invoice, InvoiceLine
from app.store.records import content_hash, invoice_from_row

ORIGIN_ACTIONS = ("issued", "imported")  # the entries that record an invoice's content hash
LIFECYCLE_ACTIONS = ("accepted", "imported", "cancelled", "upload_too_late")  # what the row's status and number rest on
CHUNK = 500

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


def verify_store(db: peewee.Database | None = None, anchors: Iterable[Anchor] = (),
                 max_findings: int = 100) -> IntegrityReport:
    """Check the chain, every invoice against its issuing entry, and the anchors; findings ordered by entry."""
    report = IntegrityReport()
    findings: list[Finding] = []
    origin: dict[int, tuple[AuditEntry, str]] = {}  # invoice id -> (its issuing entry, recorded hash)
    lifecycle: dict[int, _Facts] = {}
    red_reasons: dict[str, str | None] = {}  # red-letter number -> reason its "reversed" entry recorded
    numbers: dict[int, str] = {}
    for row in _bind(Invoice.select(Invoice.id, Invoice.provisional_number), db).tuples().iterator():
        numbers[row[0]] = row[1]
    hashes_by_id: dict[int, str] = {}
    anchors = list(anchors)
    wanted = {a.entry_id for a in anchors}

    prev = audit.GENESIS
    chain_broken = False
    query = _bind(AuditEntry.select(AuditEntry.id, AuditEntry.at, AuditEntry.clerk, AuditEntry.action,
                                    AuditEntry.invoice, AuditEntry.detail, AuditEntry.prev_hash, AuditEntry.hash)
                  .order_by(AuditEntry.id), db)
    for entry in query.iterator():
        report.entries += 1
        invoice_id = entry.invoice_id
        number = numbers.get(invoice_id, "") if invoice_id is not None else ""
        if entry.id in wanted:
            hashes_by_id[entry.id] = entry.hash
        if not chain_broken:
            reason = None
            if invoice_id is not None and invoice_id not in numbers:
                reason = f"发票记录被删除 / its invoice (row id {invoice_id}) is missing: the invoice was deleted"
            elif entry.prev_hash != prev:
                reason = ("与上一条记录的链接不符，其前有记录被删除或插入 / link to the previous entry does not match: "
                          "an entry was removed or inserted before it")
            elif audit.entry_hash(entry.prev_hash, entry.at, entry.clerk, entry.action, number,
                                  entry.detail) != entry.hash:
                reason = "记录内容与其哈希不符，记录被改动 / content does not match its hash: the entry was edited"
            if reason:
                findings.append(Finding(entry.id, entry.at, entry.action, number, reason))
                chain_broken = True  # after the first break every later link is suspect; report the first
        prev = entry.hash
        report.head_id, report.head_hash = entry.id, entry.hash
        if invoice_id is not None:
            facts = lifecycle.setdefault(invoice_id, _Facts())
            facts.last = entry
            if entry.action in LIFECYCLE_ACTIONS or entry.action == "reversed":
                try:
                    detail = json.loads(entry.detail)
                except ValueError:
                    detail = {}
                detail = detail if isinstance(detail, dict) else {}
                given_reason = detail.get("reason")
                if entry.action == "reversed":
                    # Recorded on the original; the red-letter invoice's row carries the same reason.
                    red_reasons[str(detail.get("red_number"))] = (given_reason if isinstance(given_reason, str)
                                                               else None)
                else:
                    facts.actions.add(entry.action)
                    official = detail.get("official_number")
                    if official and isinstance(official, str):
                        facts.official_numbers.add(official)
                    if entry.action == "cancelled" and isinstance(given_reason, str):
                        facts.cancel_reasons.add(given_reason)
        if entry.action in ORIGIN_ACTIONS and invoice_id is not None and invoice_id not in origin:
            try:
                recorded = json.loads(entry.detail).get("content_hash", "")
            except (ValueError, AttributeError):
                recorded = ""
            origin[invoice_id] = (entry, recorded)

    for facts in lifecycle.values():
        facts.red_reasons = red_reasons
    findings += _check_invoices(db, numbers, origin, lifecycle)
    report.invoices = len(numbers)
    for anchor in anchors:
        held = hashes_by_id.get(anchor.entry_id)
        if held != anchor.hash:
            what = "is gone" if held is None else "holds another hash"
            findings.append(Finding(anchor.entry_id, "", "", "",
                                    f"备份 {anchor.source} 记录的链头已不在审计链中，历史在该备份之后被重写 / "
                                    f"the chain head recorded by backup {anchor.source} {what}: "
                                    "the history was rewritten since that backup"))
    findings.sort(key=_sort_key)
    report.findings = findings[:max_findings]
    return report


def _check_invoices(db: peewee.Database | None, numbers: dict[int, str], origin: dict[int, tuple[AuditEntry, str]],
                    lifecycle: dict[int, _Facts]) -> list[Finding]:
    findings: list[Finding] = []
    ids = sorted(numbers)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        lines: dict[int, list[InvoiceLine]] = {i: [] for i in chunk}
        for line in _bind(InvoiceLine.select().where(InvoiceLine.invoice.in_(chunk))
                          .order_by(InvoiceLine.invoice, InvoiceLine.position), db).iterator():
            lines[line.invoice_id].append(line)
        for row in _bind(Invoice.select().where(Invoice.id.in_(chunk)), db).iterator():
            number = row.provisional_number
            found = origin.get(row.id)
            if found is None:
                findings.append(Finding(None, row.issued_at, "", number,
                                        "审计日志中没有此发票的开具记录，发票是在应用之外插入的 / the invoice has no "
                                        "issued entry in the audit log: it was inserted behind the app's back"))
                continue
            entry, recorded = found
            problem = _row_problem(row, lines[row.id], recorded)
            if problem:
                findings.append(Finding(entry.id, entry.at, entry.action, number, problem))
                continue
            facts = lifecycle.get(row.id) or _Facts()
            problem = _lifecycle_problem(row, facts)
            if problem:
                last = facts.last or entry
                findings.append(Finding(last.id, last.at, last.action, number, problem))
    return findings


@dataclass
class _Facts:
    """What the audit log says happened to one invoice after it was issued."""

    actions: set[str] = field(default_factory=set)
    official_numbers: set[str] = field(default_factory=set)
    cancel_reasons: set[str] = field(default_factory=set)
    red_reasons: dict[str, str | None] = field(default_factory=dict)  # shared: red-letter number -> recorded reason
    last: AuditEntry | None = None


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

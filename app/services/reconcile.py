"""Reconciliation: the store against the platform's list for a period, and the fixes.

reconcile(client, D1, D2) downloads every record of the seller issued in [D1, D2] (paged
GET /v1/invoices) and compares it with the store's invoices of the period, matching by
idempotency key first and by provisional number second:

- missing_on_platform: issued here (not cancelled, not rejected) but the platform has no
  record under its key or number. Fix: requeue() puts its queue entry back to pending under
  the same key, so the worker sends it and the platform, which replays a known key, ends up
  with it exactly once.
- missing_locally: the platform holds it, the store does not (a store lost, or restored from
  an old backup, or an invoice issued elsewhere). Fix: import_records() stores it with its
  official number, status accepted, its key on an accepted queue entry, audit "imported";
  the provisional number counter moves past imported numbers, so no number is given twice.
  Importing every record of a period rebuilds a lost store (rebuild_from_platform()).
- mismatch: on both, but the amounts, the buyer or the official number differ, or the store
  says cancelled while the platform holds it.
- unrecorded: the platform accepted it, the store still waits (the answer was lost); the
  import step records the acceptance.
- duplicate: one provisional number twice on the platform (two keys), or a local invoice
  found on the platform under another key than its own.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import peewee

from app.core import status
from app.core.clock import now_iso
from app.core.errors import FieldError, ValidationFailed
from app.core.invoice import Invoice
from app.core.money import format_money
from app.core.taxid import check_tax_id, normalize_tax_id
from app.core.validation import parse_received_invoice
from app.platform.client import PlatformClient
from app.services import queue as queue_service
from app.services.issuing import PROVISIONAL_PREFIX, bump_counter, remember_buyer
from app.services.lifecycle import PlatformRecord
from app.services.queue import Outcome, record_outcomes
from app.services.seller import get_seller
from app.store import audit
from app.store.models import Buyer, InvoiceLine, UploadQueueEntry, database
from app.store.models import Invoice as InvoiceRow
from app.store.records import invoice_row_fields, line_rows
from app.store.taxcodes import StoredTaxCodes

MISSING_ON_PLATFORM = "missing_on_platform"
MISSING_LOCALLY = "missing_locally"
MISMATCH = "mismatch"
UNRECORDED = "unrecorded"
DUPLICATE = "duplicate"
KINDS = (MISSING_ON_PLATFORM, MISSING_LOCALLY, MISMATCH, UNRECORDED, DUPLICATE)
KIND_LABELS = {
    MISSING_ON_PLATFORM: ("本地有、平台无", "issued here, missing on the platform"),
    MISSING_LOCALLY: ("平台有、本地无", "on the platform, missing here"),
    MISMATCH: ("两边不一致", "different on the two sides"),
    UNRECORDED: ("平台已接受、本地未记录", "accepted, not recorded here"),
    DUPLICATE: ("重复", "duplicate"),
}
_NUMBER = re.compile(re.escape(PROVISIONAL_PREFIX) + r"(\d+)$")


def kind_label(kind: str, lang: str = "zh") -> str:
    labels = KIND_LABELS.get(kind, (kind, kind))
    return labels[0] if lang == "zh" else labels[1]


@dataclass(frozen=True)
class LocalSide:
    number: str
    key: str | None
    official_number: str | None
    status: str
    queue_state: str | None
    issued_at: str
    buyer_name: str
    buyer_tax_id: str
    total_amount: Decimal
    total_tax: Decimal
    total_with_tax: Decimal


@dataclass(frozen=True)
class Difference:
    kind: str
    number: str
    key: str | None
    local: LocalSide | None
    platform: PlatformRecord | None
    detail: str  # what differs, in Chinese and English

    @property
    def can_requeue(self) -> bool:
        """Missing on the platform and not waiting in the queue already (that one goes up anyway)."""
        return (self.kind == MISSING_ON_PLATFORM and self.local is not None and self.local.key is not None
                and self.local.queue_state not in status.QUEUE_WAITING_STATES)

    @property
    def can_import(self) -> bool:
        return self.kind in (MISSING_LOCALLY, UNRECORDED) and self.platform is not None


@dataclass
class ReconcileReport:
    seller_tax_id: str
    date_from: str
    date_to: str
    made_at: str
    local_count: int
    platform_count: int
    matched: int
    differences: list[Difference] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Difference]:
        return [d for d in self.differences if d.kind == kind]

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of_kind(kind)) for kind in KINDS}


def _check_period(date_from: str, date_to: str) -> None:
    errors: list[FieldError] = []
    parsed: dict[str, date] = {}
    for name, value in (("from", date_from), ("to", date_to)):
        try:
            parsed[name] = date.fromisoformat(value)
        except (TypeError, ValueError):
            errors.append(FieldError(name, f"“{value}”不是日期（YYYY-MM-DD）", f"{value!r} is not a date (YYYY-MM-DD)"))
    if not errors and parsed["from"] > parsed["to"]:
        errors.append(FieldError("to", "结束日期早于开始日期", "is before the start date"))
    if errors:
        raise ValidationFailed(errors)


def _local_side(row: InvoiceRow, entry: UploadQueueEntry | None) -> LocalSide:
    return LocalSide(row.provisional_number, entry.idempotency_key if entry else None, row.official_number, row.status,
                     entry.state if entry else None, row.issued_at, row.buyer_name, row.buyer_tax_id,
                     row.total_amount, row.total_tax, row.total_with_tax)


def local_invoices(seller_tax_id: str, date_from: str, date_to: str) -> list[LocalSide]:
    rows = (InvoiceRow.select(InvoiceRow, UploadQueueEntry)
            .join(UploadQueueEntry, on=(UploadQueueEntry.invoice == InvoiceRow.id), join_type=peewee.JOIN.LEFT_OUTER,
                  attr="queue")
            .where((InvoiceRow.seller_tax_id == seller_tax_id) & (InvoiceRow.issued_date >= date_from)
                   & (InvoiceRow.issued_date <= date_to))
            .order_by(InvoiceRow.id))
    out: list[LocalSide] = []
    for row in rows:
        entry: UploadQueueEntry | None = getattr(row, "queue", None)
        if entry is not None and entry.id is None:
            entry = None
        out.append(_local_side(row, entry))
    return out


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except Exception:
        return None


def _compare(local: LocalSide, record: PlatformRecord) -> list[str]:
    """What differs, each as 'zh / en'."""
    out: list[str] = []
    for name, zh in (("total_amount", "金额"), ("total_tax", "税额"), ("total_with_tax", "价税合计")):
        theirs = _money(record.get(name))
        ours = getattr(local, name)
        if theirs != ours:
            out.append(f"{zh} 本地 {format_money(ours)} ≠ 平台 {record.get(name)} / {name} here {format_money(ours)}, "
                       f"platform {record.get(name)}")
    buyer = record.get("buyer") or {}
    if (buyer.get("name") or "") != local.buyer_name:
        out.append(f"购买方 本地“{local.buyer_name}” ≠ 平台“{buyer.get('name')}” / buyer differs")
    if (buyer.get("tax_id") or "").upper() != local.buyer_tax_id.upper():
        out.append(f"购买方税号 本地 {local.buyer_tax_id} ≠ 平台 {buyer.get('tax_id')} / buyer tax id differs")
    if local.official_number and record.get("official_number") and local.official_number != record["official_number"]:
        out.append(f"正式号码 本地 {local.official_number} ≠ 平台 {record['official_number']} "
                   "/ official number differs")
    if local.status == status.CANCELLED:
        out.append("本地已作废，平台却有记录 / cancelled here, but the platform holds it")
    return out


def compare(seller_tax_id: str, date_from: str, date_to: str, records: Iterable[PlatformRecord]) -> ReconcileReport:
    """The comparison itself, given the platform's records of the period (no network here)."""
    records = list(records)
    local = local_invoices(seller_tax_id, date_from, date_to)
    report = ReconcileReport(seller_tax_id, date_from, date_to, now_iso(), len(local), len(records), 0)
    by_key = {r.get("key"): r for r in records}
    by_number: dict[str, list[PlatformRecord]] = defaultdict(list)
    for record in records:
        by_number[str(record.get("number") or "")].append(record)
    seen_keys: set[str | None] = set()
    local_numbers = {side.number for side in local}

    for number, group in by_number.items():
        if number and len(group) > 1:
            keys = ", ".join(str(r.get("key")) for r in group)
            for record in group:
                report.differences.append(Difference(
                    DUPLICATE, number, record.get("key"), None, record,
                    f"平台上同一临时号码有 {len(group)} 条记录（{keys}） "
                    f"/ the platform holds this number {len(group)} times"))

    for side in local:
        theirs = by_key.get(side.key) if side.key else None
        if theirs is not None:
            seen_keys.add(side.key)
            problems = _compare(side, theirs)
            if problems:
                report.differences.append(Difference(MISMATCH, side.number, side.key, side, theirs,
                                                     "; ".join(problems)))
            elif side.status != status.ACCEPTED:
                report.differences.append(Difference(
                    UNRECORDED, side.number, side.key, side, theirs,
                    f"平台已接受（{theirs.get('official_number')}），本地仍为 {side.status} "
                    "/ accepted, not recorded here"))
            elif len(by_number.get(side.number, [])) < 2:  # a platform duplicate is reported above
                report.matched += 1
            continue
        others = [r for r in by_number.get(side.number, []) if r.get("key") != side.key]
        if others:
            for other in others:
                seen_keys.add(other.get("key"))
                report.differences.append(Difference(
                    DUPLICATE, side.number, other.get("key"), side, other,
                    f"平台以另一个幂等键（{other.get('key')}）保存了此号码，本地键为 {side.key} "
                    f"/ the platform holds this number under another key"))
            continue
        if side.status in (status.CANCELLED, status.REJECTED):
            report.matched += 1  # rightly absent
            continue
        waiting = side.queue_state in status.QUEUE_WAITING_STATES
        report.differences.append(Difference(
            MISSING_ON_PLATFORM, side.number, side.key, side, None,
            (f"仍在上传队列（{side.queue_state}） / still in the upload queue" if waiting
             else f"平台无此发票（本地 {side.status}，队列 {side.queue_state}） / the platform does not hold it")))

    for record in records:
        key = record.get("key")
        if key in seen_keys:
            continue
        number = str(record.get("number") or "")
        if number in local_numbers:
            continue  # reported above as a duplicate under another key
        if len(by_number.get(number, [])) > 1 and number:
            continue  # reported as a platform duplicate
        report.differences.append(Difference(
            MISSING_LOCALLY, number or str(record.get("official_number")), key, None, record,
            f"平台有记录（{record.get('official_number')}），本地没有 / the platform holds it, this store does not"))
    order = {kind: i for i, kind in enumerate(KINDS)}
    report.differences.sort(key=lambda d: (order[d.kind], d.number))
    return report


def reconcile(client: PlatformClient, date_from: str, date_to: str, *, page_size: int = 500) -> ReconcileReport:
    """Download the platform's list for [date_from, date_to] and compare. Raises PlatformError when it cannot."""
    _check_period(date_from, date_to)
    seller = get_seller()
    if seller is None:
        raise ValidationFailed([FieldError("seller", "销售方信息未设置", "no seller profile yet")])
    tax_id = seller.party.tax_id
    records = list(client.iter_invoices(tax_id, date_from, date_to, page_size=page_size))
    return compare(tax_id, date_from, date_to, records)


# --- fixes -------------------------------------------------------------------------------------

def requeue(differences: Iterable[Difference], *, clerk: str = "") -> list[str]:
    """Put invoices missing on the platform back in the upload queue, under their own key.

    The key never changes, so however often this runs, the platform keeps one record. An entry
    still waiting in the queue is left alone (it goes up anyway). Returns the numbers requeued.
    """
    done = []
    for difference in differences:
        if difference.can_requeue and requeue_invoice(difference.number, clerk=clerk):
            done.append(difference.number)
    return done


def requeue_invoice(number: str, *, clerk: str = "") -> bool:
    """Back to pending under the same idempotency key, through the queue service; False when it is
    waiting already (it goes up anyway) or cancelled."""
    with database.atomic("IMMEDIATE"):
        row = InvoiceRow.get_or_none(InvoiceRow.provisional_number == number)
        entry = UploadQueueEntry.get_or_none(UploadQueueEntry.invoice == row) if row else None
        if row is None or entry is None or row.status == status.CANCELLED:
            return False
        if entry.state in status.QUEUE_WAITING_STATES:
            return False
        why = (f"reconciliation: missing on the platform (was {entry.state}/{row.status}, "
               f"official number {row.official_number or '-'})")
        queue_service.requeue(number, clerk=clerk, why=why)
        # The platform does not hold it: what this store believed about its acceptance is void (the
        # audit entry keeps it); the platform gives the official number again when it accepts it.
        InvoiceRow.update(status=status.PENDING_UPLOAD, official_number=None, platform_id=None,
                          accepted_at=None).where(InvoiceRow.id == row.id).execute()
        return True


def _parse_record(record: PlatformRecord) -> Invoice:
    """The platform's record as the desk's Invoice, checked by the desk's rules (raises ValidationFailed)."""
    body = {k: v for k, v in record.items() if k not in ("key", "platform_id", "official_number", "accepted_at")}
    # The platform accepted it: an id whose check character fails was confirmed when it was issued.
    ids = [(body.get(p) or {}).get("tax_id") or "" for p in ("buyer", "seller")]
    confirmed = [t for t in ids if t and not check_tax_id(normalize_tax_id(t)).ok]
    seller = get_seller()
    invoice = parse_received_invoice(body, codes=StoredTaxCodes(), confirmed_tax_ids=confirmed,
                                     taxpayer_type=seller.taxpayer_type if seller else "general")
    if not invoice.number:  # issued on the platform itself: its official number is its only number
        invoice = dataclasses.replace(invoice, number=str(record.get("official_number") or ""))
    return invoice


def _import_many(pairs: list[tuple[PlatformRecord, Invoice]], clerk: str) -> list[str]:
    """Inside the caller's transaction: records (already checked, none stored yet) as accepted invoices,
    with lines, buyer directory, accepted queue entries under the platform's keys, and audit "imported"."""
    if not pairs:
        return []
    buyers: dict[tuple[str, str], list[Invoice]] = defaultdict(list)
    for _, invoice in pairs:
        buyers[(invoice.buyer.name, invoice.buyer.tax_id)].append(invoice)
    buyer_ids: dict[tuple[str, str], int] = {}
    for key, invoices in buyers.items():
        row = remember_buyer(invoices[-1])
        if len(invoices) > 1:
            Buyer.update(use_count=Buyer.use_count + len(invoices) - 1).where(Buyer.id == row.id).execute()
        buyer_ids[key] = row.id
    rows = [{"status": status.ACCEPTED, "buyer": buyer_ids[(inv.buyer.name, inv.buyer.tax_id)],
             "official_number": record.get("official_number"), "platform_id": record.get("platform_id"),
             "accepted_at": record.get("accepted_at"), **invoice_row_fields(inv)} for record, inv in pairs]
    for start in range(0, len(rows), 500):
        InvoiceRow.insert_many(rows[start:start + 500]).execute()
    numbers = [inv.number for _, inv in pairs]
    ids = {r.provisional_number: (r.id, r.content_hash) for r in
           InvoiceRow.select(InvoiceRow.id, InvoiceRow.provisional_number, InvoiceRow.content_hash)
           .where(InvoiceRow.provisional_number.in_(numbers))}
    lines = [row for _, inv in pairs for row in line_rows(ids[inv.number][0], inv)]
    for start in range(0, len(lines), 1000):
        InvoiceLine.insert_many(lines[start:start + 1000]).execute()
    stamp = now_iso()
    entries = [{"invoice": ids[inv.number][0], "idempotency_key": record["key"], "state": status.Q_ACCEPTED,
                "created_at": stamp, "updated_at": stamp} for record, inv in pairs]
    for start in range(0, len(entries), 1000):
        UploadQueueEntry.insert_many(entries[start:start + 1000]).execute()
    for seller_tax_id in {inv.seller.tax_id for _, inv in pairs}:
        values = [int(m.group(1)) for _, inv in pairs if inv.seller.tax_id == seller_tax_id
                  for m in [_NUMBER.match(inv.number)] if m]
        if values:
            bump_counter(seller_tax_id, max(values))
    audit.append_many([("imported", ids[inv.number][0], inv.number,
                         {"key": record["key"], "official_number": record.get("official_number"),
                          "content_hash": ids[inv.number][1], "source": "platform"})
                        for record, inv in pairs], clerk=clerk)
    return numbers


def _record_acceptances(differences: list[Difference]) -> list[str]:
    """Acceptances the store missed, recorded by the queue service as the worker records its own."""

    outcomes: list[Outcome] = []
    numbers: list[str] = []
    for difference in differences:
        record = difference.platform or {}
        entry = UploadQueueEntry.get_or_none(UploadQueueEntry.idempotency_key == difference.key)
        if entry is None:
            continue
        outcomes.append(Outcome(entry.id, True, official_number=record.get("official_number"),
                                platform_id=record.get("platform_id"), accepted_at=record.get("accepted_at"),
                                found_by="reconciliation"))
        numbers.append(difference.number)
    record_outcomes(outcomes)
    return numbers


@dataclass
class ImportResult:
    imported: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)  # acceptances recorded
    failed: list[tuple[str, str]] = field(default_factory=list)  # (number, why)


IMPORT_CHUNK = 500  # records per transaction: one fsync and a few bulk inserts per chunk


def import_records(differences: Iterable[Difference], *, clerk: str = "") -> ImportResult:
    """Import what the platform holds and this store lacks; record acceptances the store missed.

    Each record is checked by the desk's rules first: one refused is reported (with why) and the
    rest go in, in chunks of IMPORT_CHUNK per IMMEDIATE transaction. A record whose number or
    official number is in the store already is reported and left alone.
    """
    result = ImportResult()
    todo = [d for d in differences if d.can_import]
    unrecorded = [d for d in todo if d.kind == UNRECORDED]
    if unrecorded:
        result.recorded += _record_acceptances(unrecorded)
    missing = [d for d in todo if d.kind == MISSING_LOCALLY]
    for start in range(0, len(missing), IMPORT_CHUNK):
        checked: list[tuple[PlatformRecord, Invoice]] = []
        for difference in missing[start:start + IMPORT_CHUNK]:
            record = difference.platform
            assert record is not None  # can_import
            try:
                checked.append((record, _parse_record(record)))
            except ValidationFailed as failed:
                result.failed.append((difference.number, str(failed)))
        with database.atomic("IMMEDIATE"):
            numbers = [inv.number for _, inv in checked]
            officials = [str(r.get("official_number")) for r, _ in checked]
            present = {r.provisional_number for r in InvoiceRow.select(InvoiceRow.provisional_number)
                       .where(InvoiceRow.provisional_number.in_(numbers))}
            present_official = {r.official_number for r in InvoiceRow.select(InvoiceRow.official_number)
                                .where(InvoiceRow.official_number.in_(officials))}
            fresh: list[tuple[PlatformRecord, Invoice]] = []
            seen: set[str] = set()
            for record, invoice in checked:
                if (invoice.number in present or str(record.get("official_number")) in present_official
                        or invoice.number in seen):
                    result.failed.append((invoice.number, "already in the store"))
                    continue
                seen.add(invoice.number)
                fresh.append((record, invoice))
            result.imported += _import_many(fresh, clerk)
    return result


def rebuild_from_platform(client: PlatformClient, date_from: str, date_to: str, *, clerk: str = ""
                          ) -> tuple[ReconcileReport, ImportResult]:
    """A lost or old store brought up to what the platform holds for the period."""
    report = reconcile(client, date_from, date_to)
    return report, import_records(report.differences, clerk=clerk)

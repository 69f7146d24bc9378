"""Reconciliation: the store against the platform's records (protocol v2) for a period, and the fixes.

reconcile(client, D1, D2) downloads every record of the seller issued in [D1, D2] (paged
GET /v2/invoices, client.iter_invoices: the client checks each record's shape) and compares it
with the store's invoices of the period. Every record is checked again here before it is believed:
its envelope (number, channel, status, accepted_at, key) and its body, parsed by the desk's rules
as an invoice (parse_record); a record refused is never matched, recorded or imported, and the
difference names why.

Matching, by channel:
- direct (直连): the local invoice's number is official from issue (provisional == official), so it
  is matched by that number.
- platform (平台开具): a local invoice with its official number is matched by it; a pre-issue record
  (预开单) the desk holds no number for yet is matched by the record's `key` == its queue entry's
  idempotency key (the platform issued it while its answer was lost).

Kinds of difference:
- missing_on_platform: issued here (not cancelled, rejected or too late) and the platform holds no
  record of it. Fix: requeue() puts its queue entry back to pending under the same key; the worker
  uploads it again (direct: the same number, which the platform may refuse as too late) or sends
  it to POST /v2/issue (platform: the platform replays a known key, so it is issued once).
- missing_locally: the platform holds it, the store does not (a store lost, restored from an old
  backup, or an invoice issued by another desk of this seller). Fix: import_records() stores it
  with its channel and number (provisional == official: the number is the only one it has), status
  accepted, an accepted queue entry (the record's key on the platform channel) and audit "imported";
  a direct number moves its held block past it, so the desk never issues it again. Importing every
  record of a period rebuilds a lost store (rebuild_from_platform()).
- mismatch: on both, but the amounts, the buyer, the channel, the number, the key or the content
  differ, the store says cancelled / rejected / too late while the platform holds it, or the
  platform's record does not parse as an invoice.
- unrecorded: the platform holds it, the store still waits (the answer was lost). Fix: the import
  step records the acceptance with the platform's number, as the worker records its own.
- duplicate: one number listed twice by the platform, or a local pre-issue record the platform
  issued under another key than its own (issued twice, or a re-made queue entry): never sent again
  nor imported; reverse the extra invoice with a red letter.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import peewee

from app.core import status
from app.core.clock import now_iso
from app.core.deadlines import period_of
from app.core.errors import FieldError, ValidationFailed
from app.core.invoice import Invoice
from app.core.money import ZERO, format_money
from app.core.official_numbers import is_official_number, parse_number, usable_for
from app.core.taxid import check_tax_id, normalize_tax_id
from app.core.validation import parse_received_invoice
from app.platform.client import PlatformClient
from app.services import queue as queue_service
from app.services.channel import DIRECT
from app.services.issuing import remember_buyer
from app.services.lifecycle import PlatformRecord
from app.services.queue import Outcome, record_outcomes
from app.services.seller import get_seller
from app.store import audit, invoice_search
from app.store import stock as stock_store
from app.store.models import Buyer, InvoiceLine, NumberBlock, UploadQueueEntry, database
from app.store.models import Invoice as InvoiceRow
from app.store.records import content_hash, invoice_row_fields, line_rows
from app.store.taxcodes import StoredTaxCodes

PLATFORM = "platform"
CHANNELS = (DIRECT, PLATFORM)
RECORD_STATUSES = ("accepted", "reversed_in_full", "reversed_in_part")
ENVELOPE = ("status", "accepted_at", "channel", "key")  # what a record adds to the invoice body
MAX_KEY = 100

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
# Here, but rightly not on the platform; when the platform holds one of these, the two sides contradict.
NOT_ON_PLATFORM = (status.CANCELLED, status.REJECTED, status.UPLOAD_TOO_LATE)


def kind_label(kind: str, lang: str = "zh") -> str:
    labels = KIND_LABELS.get(kind, (kind, kind))
    return labels[0] if lang == "zh" else labels[1]


@dataclass(frozen=True)
class LocalSide:
    number: str  # provisional_number: the official number on the direct channel, LX-... for a pre-issue record
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
    channel: str = PLATFORM
    content_hash: str = ""


@dataclass(frozen=True)
class Difference:
    kind: str
    number: str
    key: str | None
    local: LocalSide | None
    platform: PlatformRecord | None
    detail: str  # what differs, in Chinese and English
    refused: str = ""  # why the platform's record was not believed ("" when it parses as an invoice)
    invoice: Invoice | None = field(default=None, compare=False, repr=False)  # the record, as checked

    @property
    def can_requeue(self) -> bool:
        """Missing on the platform and not waiting in the queue already (that one goes up anyway)."""
        return (self.kind == MISSING_ON_PLATFORM and self.local is not None and self.local.key is not None
                and self.local.queue_state not in status.QUEUE_WAITING_STATES)

    @property
    def can_import(self) -> bool:
        return self.kind in (MISSING_LOCALLY, UNRECORDED) and self.platform is not None and not self.refused


@dataclass
class ReconcileReport:
    seller_tax_id: str
    date_from: str
    date_to: str
    made_at: str
    local_count: int
    platform_count: int
    matched: int  # here and on the platform, the same
    differences: list[Difference] = field(default_factory=list)
    # Cancelled, withdrawn, rejected or too late here and rightly absent from the platform: not 一致 (they
    # were never sent, or never taken), not a difference either.
    not_sent: int = 0

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
                     row.total_amount, row.total_tax, row.total_with_tax, row.channel, row.content_hash)


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


# --- a record, checked --------------------------------------------------------------------------

def _moment(value: Any) -> bool:
    if not isinstance(value, str) or len(value) < 19:
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


class _Rules:
    """What parsing a record needs from the store, read once per comparison or import."""

    def __init__(self) -> None:
        seller = get_seller()
        self.seller_tax_id = seller.party.tax_id if seller else ""
        self.taxpayer_type = seller.taxpayer_type if seller else "general"
        self.codes = StoredTaxCodes()


def parse_record(record: Any, rules: _Rules | None = None) -> Invoice:
    """The platform's record as the desk's Invoice, checked by the desk's rules; raises ValidationFailed naming
    each field that does not hold (the record's envelope first, then the invoice body)."""
    if not isinstance(record, dict):
        raise ValidationFailed([FieldError("record", "平台记录不是 JSON 对象", "the record is not a JSON object")])
    rules = rules or _Rules()
    errors: list[FieldError] = []
    number = record.get("number")
    if not is_official_number(number):
        errors.append(FieldError("number", f"“{number}”不是20位发票号码", f"{number!r} is not a 20-digit number"))
    channel = record.get("channel")
    if channel not in CHANNELS:
        errors.append(FieldError("channel", f"开具渠道“{channel}”应为 direct 或 platform",
                                 f"channel {channel!r} is neither direct nor platform"))
    if record.get("status") not in RECORD_STATUSES:
        errors.append(FieldError("status", f"状态“{record.get('status')}”不是平台记录的状态",
                                 f"{record.get('status')!r} is not a record's status"))
    if not _moment(record.get("accepted_at")):
        errors.append(FieldError("accepted_at", "接受时间不是带时区的时间", "is not a time with its offset"))
    key = record.get("key")
    if channel == PLATFORM and not (isinstance(key, str) and key.strip() and len(key) <= MAX_KEY):
        errors.append(FieldError("key", "平台开具的记录缺少幂等键", "a platform-channel record carries its key"))
    seller = record.get("seller")
    if rules.seller_tax_id and (not isinstance(seller, dict) or seller.get("tax_id") != rules.seller_tax_id):
        errors.append(FieldError("seller.tax_id", "不是本销售方的发票", "not this seller's invoice"))
    if errors:
        raise ValidationFailed(errors)
    body = {k: v for k, v in record.items() if k not in ENVELOPE}
    # The platform accepted it: an id whose check character fails was confirmed when it was issued.
    ids = [(body.get(p) or {}).get("tax_id") or "" for p in ("buyer", "seller") if isinstance(body.get(p), dict)]
    confirmed = [t for t in ids if isinstance(t, str) and t and not check_tax_id(normalize_tax_id(t)).ok]
    invoice = parse_received_invoice(body, codes=rules.codes, confirmed_tax_ids=confirmed,
                                     taxpayer_type=rules.taxpayer_type)
    if invoice.number != number:
        raise ValidationFailed([FieldError("number", f"发票号码“{invoice.number}”与记录号码 {number} 不同",
                                           f"the invoice's number {invoice.number!r} is not the record's {number}")])
    if invoice.issued_at is None or not usable_for(number, invoice.issued_at):
        raise ValidationFailed([FieldError("number", f"号码 {number} 不属于开票日期所在年度",
                                           f"number {number} is not of the year the invoice was issued in")])
    return invoice


@dataclass(frozen=True)
class _Checked:
    record: PlatformRecord
    invoice: Invoice | None
    refused: str

    @property
    def number(self) -> str:
        return str(self.record.get("number") or "")

    @property
    def key(self) -> str | None:
        key = self.record.get("key")
        return key if isinstance(key, str) and key else None

    @property
    def channel(self) -> str:
        return str(self.record.get("channel") or "")


def _check(record: PlatformRecord, rules: _Rules) -> _Checked:
    try:
        return _Checked(record, parse_record(record, rules), "")
    except ValidationFailed as failed:
        return _Checked(record, None, str(failed))


# --- the comparison -----------------------------------------------------------------------------

def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except Exception:
        return None


def _compare(local: LocalSide, checked: _Checked) -> list[str]:
    """What differs, each as 'zh / en'."""
    record = checked.record
    out: list[str] = []
    if checked.refused:
        out.append(f"平台记录不是有效发票：{checked.refused} / the platform's record does not parse as an invoice")
    if checked.channel != local.channel:
        out.append(f"开具渠道 本地 {local.channel} ≠ 平台 {checked.channel} / channel differs")
    for name, zh in (("total_amount", "金额"), ("total_tax", "税额"), ("total_with_tax", "价税合计")):
        theirs = _money(record.get(name))
        ours = getattr(local, name)
        if theirs != ours:
            out.append(f"{zh} 本地 {format_money(ours)} ≠ 平台 {record.get(name)} / {name} here {format_money(ours)}, "
                       f"platform {record.get(name)}")
    buyer = record.get("buyer")
    buyer = buyer if isinstance(buyer, dict) else {}
    if (buyer.get("name") or "") != local.buyer_name:
        out.append(f"购买方 本地“{local.buyer_name}” ≠ 平台“{buyer.get('name')}” / buyer differs")
    if str(buyer.get("tax_id") or "").upper() != local.buyer_tax_id.upper():
        out.append(f"购买方税号 本地 {local.buyer_tax_id} ≠ 平台 {buyer.get('tax_id')} / buyer tax id differs")
    mine = local.official_number or (local.number if local.channel == DIRECT else None)
    if mine and checked.number != mine:
        out.append(f"发票号码 本地 {mine} ≠ 平台 {checked.number} / the number differs")
    if local.channel == PLATFORM and checked.channel == PLATFORM and checked.key != local.key:
        out.append(f"幂等键 本地 {local.key} ≠ 平台 {checked.key} / the platform issued it under another key")
    # The record as this desk would have stored it: under the local number, every field compared.
    if (not out and checked.invoice is not None and local.content_hash
            and content_hash(dataclasses.replace(checked.invoice, number=local.number)) != local.content_hash):
        out.append("内容不同（明细、日期或其他项目）/ the content differs (lines, date or other fields)")
    if local.status in NOT_ON_PLATFORM:
        out.append(f"本地为“{status.status_label(local.status)}”，平台却有此发票 "
                   f"/ {status.status_label(local.status, 'en')} here, but the platform holds it")
    return out


def _find(side: LocalSide, by_number: dict[str, list[int]], by_key: dict[str, list[int]]) -> int | None:
    """The index of the record that stands for a local invoice, or None."""
    if side.channel == DIRECT:
        found = by_number.get(side.number)
    elif side.official_number:
        found = by_number.get(side.official_number) or (by_key.get(side.key) if side.key else None)
    else:
        found = by_key.get(side.key) if side.key else None
    return found[0] if found else None


def compare(seller_tax_id: str, date_from: str, date_to: str, records: Iterable[PlatformRecord]) -> ReconcileReport:
    """The comparison itself, given the platform's records of the period (no network here)."""
    rules = _Rules()
    checked = [_check(record, rules) for record in records]
    local = local_invoices(seller_tax_id, date_from, date_to)
    report = ReconcileReport(seller_tax_id, date_from, date_to, now_iso(), len(local), len(checked), 0)
    by_number: dict[str, list[int]] = defaultdict(list)
    by_key: dict[str, list[int]] = defaultdict(list)
    for index, one in enumerate(checked):
        by_number[one.number].append(index)
        if one.channel == PLATFORM and one.key:
            by_key[one.key].append(index)
    locals_by_number: dict[str, LocalSide] = {}
    for side in local:
        for number in (side.number, side.official_number):
            if number:
                locals_by_number.setdefault(number, side)

    def difference(kind: str, number: str, side: LocalSide | None, one: _Checked | None, detail: str) -> None:
        report.differences.append(Difference(
            kind, number, (side.key if side else None) if one is None else (one.key or (side.key if side else None)),
            side, one.record if one else None, detail, one.refused if one else "", one.invoice if one else None))

    used: set[int] = set()
    accounted: set[str] = set()  # local invoices a duplicate stands for: never counted as matching, nor requeued
    for number, indices in by_number.items():
        if len(indices) > 1:
            holder = locals_by_number.get(number)
            for index in indices:
                used.add(index)
                difference(DUPLICATE, holder.number if holder else number, holder, checked[index],
                           f"平台清单中号码 {number} 出现 {len(indices)} 次 / the platform lists this number "
                           f"{len(indices)} times")
            if holder is not None:
                accounted.add(holder.number)

    pairs: list[tuple[LocalSide, int]] = []
    unmatched: list[LocalSide] = []
    for side in local:
        if side.number in accounted:
            continue
        found = _find(side, by_number, by_key)
        if found is None:
            unmatched.append(side)
        else:
            used.add(found)
            pairs.append((side, found))

    # A platform-channel record under a key this store does not know may be one of its own pre-issue
    # records issued a second time: the same content (the local number put in the platform's place).
    left = [i for i in range(len(checked)) if i not in used]
    candidates: dict[tuple[str, Decimal | None, str], list[LocalSide]] = defaultdict(list)
    if any(checked[i].channel == PLATFORM for i in left):
        for side in local:
            if side.channel == PLATFORM:
                candidates[(side.issued_at, side.total_with_tax, side.buyer_tax_id.upper())].append(side)
    for index in left:
        one = checked[index]
        if one.channel != PLATFORM or one.invoice is None or one.invoice.issued_at is None:
            continue
        signature = (one.invoice.issued_at.isoformat(), one.invoice.total_with_tax, one.invoice.buyer.tax_id.upper())
        for side in candidates.get(signature, []):
            if content_hash(dataclasses.replace(one.invoice, number=side.number)) == side.content_hash:
                used.add(index)
                accounted.add(side.number)
                difference(DUPLICATE, side.number, side, one,
                           f"平台以另一个幂等键（{one.key}）开具了此预开单（号码 {one.number}），本地键为 {side.key}："
                           "不再上传，多开的发票请红冲 / the platform issued this pre-issue record under another key: "
                           "not sent again; reverse the extra invoice")
                break

    for side, index in pairs:
        one = checked[index]
        problems = _compare(side, one)
        if problems:
            difference(MISMATCH, side.number, side, one, "; ".join(problems))
        elif side.status != status.ACCEPTED:
            difference(UNRECORDED, side.number, side, one,
                       f"平台已接受（{one.number}），本地仍为 {status.status_label(side.status)} "
                       f"/ accepted as {one.number}, still {side.status} here")
        elif side.number not in accounted:
            report.matched += 1

    for side in unmatched:
        if side.number in accounted:
            continue
        if side.status in NOT_ON_PLATFORM:
            report.not_sent += 1  # rightly absent
            continue
        waiting = side.queue_state in status.QUEUE_WAITING_STATES
        difference(MISSING_ON_PLATFORM, side.number, side, None,
                   f"仍在上传队列（{side.queue_state}） / still in the upload queue" if waiting
                   else f"平台无此发票（本地 {side.status}，队列 {side.queue_state}） / the platform does not hold it")

    for index in range(len(checked)):
        if index in used:
            continue
        one = checked[index]
        detail = f"平台有记录（{one.channel}），本地没有 / the platform holds it, this store does not"
        if one.refused:
            detail += f"; 平台记录不是有效发票，不能导入：{one.refused} / the record does not parse as an invoice"
        difference(MISSING_LOCALLY, one.number, None, one, detail)
    order = {kind: i for i, kind in enumerate(KINDS)}
    report.differences.sort(key=lambda d: (order[d.kind], d.number))
    return report


def reconcile(client: PlatformClient, date_from: str, date_to: str, *, page_size: int = 500) -> ReconcileReport:
    """Download the platform's records for [date_from, date_to] and compare. Raises PlatformError when it cannot."""
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

    The key (platform channel) and the number (direct channel) never change, so however often this
    runs, the platform keeps one record. An entry still waiting in the queue is left alone (it goes
    up anyway). Returns the numbers requeued.
    """
    done = []
    for difference in differences:
        if difference.can_requeue and requeue_invoice(difference.number, clerk=clerk):
            done.append(difference.number)
    return done


def requeue_invoice(number: str, *, clerk: str = "") -> bool:
    """Back to pending under the same idempotency key, through the queue service; False when it is
    waiting already (it goes up anyway), cancelled or too late to upload."""
    with database.atomic("IMMEDIATE"):
        row = InvoiceRow.get_or_none(InvoiceRow.provisional_number == number)
        entry = UploadQueueEntry.get_or_none(UploadQueueEntry.invoice == row) if row else None
        if row is None or entry is None or row.status in (status.CANCELLED, status.UPLOAD_TOO_LATE):
            return False
        if entry.state in status.QUEUE_WAITING_STATES or entry.state in (status.Q_WITHDRAWN, status.Q_TOO_LATE):
            return False
        why = (f"reconciliation: missing on the platform (was {entry.state}/{row.status}, "
               f"channel {row.channel}, official number {row.official_number or '-'})")
        queue_service.requeue(number, clerk=clerk, why=why)
        UploadQueueEntry.update(batch=None).where(UploadQueueEntry.id == entry.id).execute()
        # The platform does not hold it: what this store believed about its acceptance is void (the audit
        # entry keeps it). A direct invoice keeps its number (it is the invoice's own) and goes up again;
        # a platform-channel one is a pre-issue record again, numbered by the platform when it issues it.
        if row.channel == DIRECT:
            InvoiceRow.update(status=status.PENDING_UPLOAD, platform_id=None, accepted_at=None).where(
                InvoiceRow.id == row.id).execute()
        else:
            InvoiceRow.update(status=status.PRE_ISSUE, official_number=None, platform_id=None,
                              accepted_at=None).where(InvoiceRow.id == row.id).execute()
        return True


def _quota_of(invoice: Invoice, channel: str) -> tuple[str | None, Decimal]:
    """The period and amount a direct-channel invoice drew of the month's quota (a red one draws nothing)."""
    if channel != DIRECT or invoice.issued_at is None:
        return None, ZERO
    return period_of(invoice.issued_at), invoice.total_amount if invoice.total_amount > 0 else ZERO


def _move_blocks_past(numbers: Iterable[str]) -> None:
    """Inside the caller's transaction: a held or retired block holding a direct number imported marks it
    (and those before it) used, so the desk never takes a number the platform holds already."""
    wanted = [parts for parts in (parse_number(n) for n in numbers) if parts is not None]
    if not wanted:
        return
    blocks = NumberBlock.select().where(NumberBlock.first.is_null(False) & NumberBlock.last.is_null(False)
                                        & NumberBlock.year.in_(sorted({p.year for p in wanted})))
    for block in blocks:
        first, last = parse_number(str(block.first)), parse_number(str(block.last))
        if first is None or last is None:
            continue
        inside = [p.sequence for p in wanted if (p.year, p.area, p.channel) == (first.year, first.area, first.channel)
                  and first.sequence <= p.sequence <= last.sequence]
        if inside:
            used = max(inside) - first.sequence + 1
            NumberBlock.update(used=used).where((NumberBlock.id == block.id) & (NumberBlock.used < used)).execute()


def _import_many(pairs: list[tuple[PlatformRecord, Invoice]], clerk: str) -> list[str]:
    """Inside the caller's transaction: records (already checked, none stored yet) as accepted invoices of
    their channel under their number, with lines, buyer directory, accepted queue entries (the platform's
    key on the platform channel, a new one on the direct channel), quota drawn, blocks moved, audit "imported"."""
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
    rows = []
    keys: dict[str, str] = {}
    drawn: dict[str, Decimal] = defaultdict(Decimal)
    held_periods: dict[str, bool] = {}
    for record, inv in pairs:
        channel = str(record["channel"])
        keys[inv.number] = str(record["key"]) if channel == PLATFORM else str(uuid.uuid4())
        period, amount = _quota_of(inv, channel)
        rows.append({"status": status.ACCEPTED, "buyer": buyer_ids[(inv.buyer.name, inv.buyer.tax_id)],
                     "channel": channel, "official_number": inv.number, "platform_id": None,
                     "accepted_at": record.get("accepted_at"), "quota_period": period, "quota_drawn": amount,
                     **invoice_row_fields(inv)})
        if period is not None and amount > 0:
            # Counted against the quota this store holds for the month, if it holds any (a restored store:
            # the invoice drew from it); a store rebuilt from nothing holds no slice it could have drawn.
            if period not in held_periods:
                held_periods[period] = stock_store.quota_held(period) > 0
            if held_periods[period]:
                drawn[period] += amount
    for start in range(0, len(rows), 500):
        InvoiceRow.insert_many(rows[start:start + 500]).execute()
    numbers = [inv.number for _, inv in pairs]
    ids: dict[str, tuple[int, str]] = {}
    for start in range(0, len(numbers), 500):
        ids.update({r.provisional_number: (r.id, r.content_hash) for r in
                    InvoiceRow.select(InvoiceRow.id, InvoiceRow.provisional_number, InvoiceRow.content_hash)
                    .where(InvoiceRow.provisional_number.in_(numbers[start:start + 500]))})
    lines = [row for _, inv in pairs for row in line_rows(ids[inv.number][0], inv)]
    for start in range(0, len(lines), 1000):
        InvoiceLine.insert_many(lines[start:start + 1000]).execute()
    invoice_search.index_new_invoices()
    stamp = now_iso()
    entries = [{"invoice": ids[inv.number][0], "idempotency_key": keys[inv.number], "state": status.Q_ACCEPTED,
                "created_at": stamp, "updated_at": stamp} for _, inv in pairs]
    for start in range(0, len(entries), 1000):
        UploadQueueEntry.insert_many(entries[start:start + 1000]).execute()
    for period, amount in drawn.items():
        stock_store.change_drawn(period, amount)
    _move_blocks_past(inv.number for record, inv in pairs if record["channel"] == DIRECT)
    audit.append_many([("imported", ids[inv.number][0], inv.number,
                        {"key": keys[inv.number], "official_number": inv.number, "channel": record["channel"],
                         "accepted_at": record.get("accepted_at"), "platform_status": record.get("status"),
                         "content_hash": ids[inv.number][1], "source": "platform"})
                       for record, inv in pairs], clerk=clerk)
    return numbers


def _checked_invoice(difference: Difference, rules: _Rules) -> Invoice:
    """The difference's record as an invoice: checked in the comparison, or here (raises ValidationFailed)."""
    if difference.refused:
        raise ValidationFailed([FieldError(
            "record", f"平台记录不是有效发票：{difference.refused}",
            f"the platform's record does not parse as an invoice: {difference.refused}")])
    if difference.invoice is not None:
        return difference.invoice
    return parse_record(difference.platform, rules)


def _record_acceptances(differences: list[Difference], result: ImportResult, rules: _Rules) -> None:
    """Acceptances the store missed, recorded by the queue service as the worker records its own: with the
    platform's number (for a pre-issue record, the number the platform issued it under)."""
    outcomes: list[Outcome] = []
    numbers: list[str] = []
    for difference in differences:
        record, side = difference.platform, difference.local
        if record is None or side is None:
            continue
        try:
            invoice = _checked_invoice(difference, rules)
        except ValidationFailed as failed:
            result.failed.append((difference.number, str(failed)))
            continue
        row = InvoiceRow.get_or_none(InvoiceRow.provisional_number == side.number)
        entry = UploadQueueEntry.get_or_none(UploadQueueEntry.invoice == row) if row is not None else None
        if row is None or entry is None:
            result.failed.append((difference.number, "no longer in the store"))
            continue
        if row.channel == PLATFORM and entry.idempotency_key != record.get("key"):
            result.failed.append((difference.number, "the record carries another key"))
            continue
        outcomes.append(Outcome(entry.id, True, official_number=invoice.number,
                                accepted_at=str(record.get("accepted_at") or ""), found_by="reconciliation"))
        numbers.append(difference.number)
    record_outcomes(outcomes)
    result.recorded += numbers


@dataclass
class ImportResult:
    imported: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)  # acceptances recorded
    failed: list[tuple[str, str]] = field(default_factory=list)  # (number, why)


IMPORT_CHUNK = 500  # records per transaction: one fsync and a few bulk inserts per chunk


def import_records(differences: Iterable[Difference], *, clerk: str = "") -> ImportResult:
    """Import what the platform holds and this store lacks; record acceptances the store missed.

    Each record is checked by the desk's rules first: one refused is reported (with why) and the
    rest go in, in chunks of IMPORT_CHUNK per IMMEDIATE transaction. A record whose number or key is
    in the store already is reported and left alone.
    """
    result = ImportResult()
    rules = _Rules()
    todo = [d for d in differences if d.kind in (MISSING_LOCALLY, UNRECORDED) and d.platform is not None]
    unrecorded = [d for d in todo if d.kind == UNRECORDED]
    if unrecorded:
        _record_acceptances(unrecorded, result, rules)
    missing = [d for d in todo if d.kind == MISSING_LOCALLY]
    for start in range(0, len(missing), IMPORT_CHUNK):
        checked: list[tuple[PlatformRecord, Invoice]] = []
        for difference in missing[start:start + IMPORT_CHUNK]:
            record = difference.platform
            assert record is not None
            try:
                checked.append((record, _checked_invoice(difference, rules)))
            except ValidationFailed as failed:
                result.failed.append((difference.number, str(failed)))
        with database.atomic("IMMEDIATE"):
            numbers = [inv.number for _, inv in checked]
            keys = [str(r["key"]) for r, _ in checked if r.get("channel") == PLATFORM]
            present = {r.provisional_number for r in InvoiceRow.select(InvoiceRow.provisional_number)
                       .where(InvoiceRow.provisional_number.in_(numbers))}
            present |= {str(r.official_number) for r in InvoiceRow.select(InvoiceRow.official_number)
                        .where(InvoiceRow.official_number.in_(numbers))}
            present_keys = {e.idempotency_key for e in UploadQueueEntry.select(UploadQueueEntry.idempotency_key)
                            .where(UploadQueueEntry.idempotency_key.in_(keys))}
            fresh: list[tuple[PlatformRecord, Invoice]] = []
            seen: set[str] = set()
            for record, invoice in checked:
                if invoice.number in present or invoice.number in seen:
                    result.failed.append((invoice.number, "already in the store"))
                    continue
                if record.get("channel") == PLATFORM and record["key"] in present_keys:
                    result.failed.append((invoice.number, "its key is in the store already (another invoice)"))
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

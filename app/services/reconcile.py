"""Reconciliation: the store against the platform's records (protocol v2) for a period, and the fixes.

reconcile(client, D1, D2) downloads every record of the seller issued in [D1, D2] (paged
GET /v2/invoices, client.iter_invoices: the client checks each record's shape) and compares it
with the store's invoices of the period, a page at a time as the pages come: each record is matched
against the store by its indexes, what was seen is marked by invoice id (one byte each), a record is
kept only while it is a difference, and the store's invoices of the period no record matched are then
listed from the store a page at a time; so memory does not grow with the period beyond the report's
differences (see "the comparison, streamed" below). Every record is checked again here before it is believed:
its envelope (number, channel, status, accepted_at, key) and its body: either the body is, field
for field, the invoice it is compared with (under the local number it hashes to that invoice's
content hash, so the check the desk made when it issued the invoice stands for it), or it is parsed
by the desk's rules as an invoice (parse_record); a record refused is never matched, recorded or
imported, and the difference names why.

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
from collections.abc import Callable, Iterable, Iterator
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
from app.core.validation import PartyMemo, parse_received_invoice
from app.platform.client import PlatformClient
from app.services import queue as queue_service
from app.services.channel import DIRECT
from app.services.issuing import remember_buyer
from app.services.lifecycle import PlatformRecord
from app.services.queue import Outcome, record_outcomes
from app.services.reconcile_pages import pages, pages_ahead
from app.services.seller import get_seller
from app.store import audit, invoice_search
from app.store import stock as stock_store
from app.store.models import Buyer, InvoiceLine, NumberBlock, UploadQueueEntry, database
from app.store.models import Invoice as InvoiceRow
from app.store.records import body_hash, content_hash, invoice_row_fields, line_rows
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


@dataclass(frozen=True)
class _Row:
    """An invoice of the store as the comparison reads it: its id, whether it is of the period, its side."""

    id: int
    in_period: bool
    side: LocalSide


# Read as plain rows by one SQL statement (no model instances, no query built per page): a page of the
# store in a few milliseconds.
def _column(field: Any, alias: str) -> str:
    return f'{alias}."{field.column_name}"'


_SELECT = ("SELECT " + ", ".join(_column(f, a) for f, a in (
    (InvoiceRow.id, "i"), (InvoiceRow.seller_tax_id, "i"), (InvoiceRow.issued_date, "i"),
    (InvoiceRow.provisional_number, "i"), (UploadQueueEntry.idempotency_key, "q"), (InvoiceRow.official_number, "i"),
    (InvoiceRow.status, "i"), (UploadQueueEntry.state, "q"), (InvoiceRow.issued_at, "i"), (InvoiceRow.buyer_name, "i"),
    (InvoiceRow.buyer_tax_id, "i"), (InvoiceRow.total_amount, "i"), (InvoiceRow.total_tax, "i"),
    (InvoiceRow.total_with_tax, "i"), (InvoiceRow.channel, "i"), (InvoiceRow.content_hash, "i")))
    + f' FROM "{InvoiceRow._meta.table_name}" AS i {{join}} JOIN "{UploadQueueEntry._meta.table_name}" AS q'
    + f" ON {_column(UploadQueueEntry.invoice, 'q')} = {_column(InvoiceRow.id, 'i')} WHERE ")
_PERIOD = (f"{_column(InvoiceRow.seller_tax_id, 'i')} = ? AND {_column(InvoiceRow.issued_date, 'i')} >= ? "
           f"AND {_column(InvoiceRow.issued_date, 'i')} <= ?")
_BY_ID = f" ORDER BY {_column(InvoiceRow.id, 'i')}"


def _yuan(fen: int) -> Decimal:
    """A money column (whole fen) as MoneyField reads it."""
    return Decimal(fen).scaleb(-2)  # exact: whole fen, two places


LOCAL_PAGE = 1000  # invoices of the store read at a time when listing those of the period
IN_CHUNK = 400  # numbers or keys looked up by one statement


class _Period:
    """The store's side of a period, read by index only (plain rows, no model instances).

    A look-up by number is one index range of each number column (a UNION ALL of two IN lists, each
    finding the ids by the column's index alone: an OR of the two, or the column's IN list beside the join,
    makes SQLite scan every invoice); the invoices of the period are listed a date at a time, each
    page an index range of the issued_date index (issued_date, id) from the last id read, so neither reads
    rows outside the period or before the page."""

    def __init__(self, seller_tax_id: str, date_from: str, date_to: str) -> None:
        self.seller_tax_id, self.date_from, self.date_to = seller_tax_id, date_from, date_to
        self.params = [seller_tax_id, date_from, date_to]

    def rows(self, where: str, params: list[Any], *, inner: bool = False) -> list[_Row]:
        sql = _SELECT.replace("{join}", "INNER" if inner else "LEFT OUTER") + where
        out = []
        seller_tax_id, date_from, date_to = self.seller_tax_id, self.date_from, self.date_to
        for (invoice_id, seller, day, number, key, official, state, queue_state, issued_at, buyer, buyer_tax_id,
             amount, tax, with_tax, channel, digest) in database.execute_sql(sql, params).fetchall():
            side = LocalSide(number, key, official, state, queue_state, issued_at, buyer, buyer_tax_id, _yuan(amount),
                             _yuan(tax), _yuan(with_tax), channel, digest)
            out.append(_Row(invoice_id, seller == seller_tax_id and date_from <= day <= date_to, side))
        return out

    def by_numbers(self, numbers: list[str]) -> list[_Row]:
        """The invoices (of any period) whose provisional or official number is one of these: an invoice holding
        one as both comes twice."""
        marks = ", ".join("?" * len(numbers))
        return self.rows(_BY_NUMBER.format(column=_PROVISIONAL, marks=marks) + " UNION ALL "
                         + _SELECT.replace("{join}", "LEFT OUTER")
                         + _BY_NUMBER.format(column=_OFFICIAL, marks=marks), [*numbers, *numbers])

    def by_keys(self, keys: list[str]) -> list[_Row]:
        return self.rows(f"{_column(UploadQueueEntry.idempotency_key, 'q')} IN ({', '.join('?' * len(keys))})",
                         keys, inner=True)

    def holder(self, number: str) -> _Row | None:
        """The first invoice of the period (by id) with this provisional or official number."""
        found = [row for row in self.by_numbers([number]) if row.in_period]
        return min(found, key=lambda row: row.id) if found else None

    def issued_at(self, moments: list[str], channel: str) -> list[_Row]:
        """The invoices of the period of this channel issued at one of these moments, by id."""
        return self.rows(f"{_PERIOD} AND {_column(InvoiceRow.issued_at, 'i')} IN ({', '.join('?' * len(moments))}) "
                         f"AND {_column(InvoiceRow.channel, 'i')} = ?{_BY_ID}", [*self.params, *moments, channel])

    def days(self) -> Iterator[str]:
        """The dates of the period on which the store holds invoices, in order: one seek each."""
        day = database.execute_sql(_FIRST_DAY, [self.date_from, self.date_to]).fetchone()
        while day is not None:
            yield str(day[0])
            day = database.execute_sql(_NEXT_DAY, [day[0], self.date_to]).fetchone()

    def pages(self) -> Iterator[list[_Row]]:
        """The store's invoices of the period, at most LOCAL_PAGE at a time: by date, and by id in a date."""
        for day in self.days():
            after = 0
            while True:
                page = self.rows(_OF_DAY, [day, after, LOCAL_PAGE])
                if not page:
                    break
                after = max(row.id for row in page)
                mine = [row for row in page if row.in_period]  # another seller's invoices are not of the period
                if mine:
                    yield mine
                if len(page) < LOCAL_PAGE:
                    break


_DATE = _column(InvoiceRow.issued_date, "i")
_ID = _column(InvoiceRow.id, "i")
_TABLE = f'"{InvoiceRow._meta.table_name}"'
# The dates of a period and the ids of a date after a cursor: ranges of the issued_date index alone (covering);
# the rows are then read by id.
_FIRST_DAY = (f'SELECT {_DATE} FROM {_TABLE} AS i WHERE {_DATE} >= ? AND {_DATE} <= ? ORDER BY {_DATE} LIMIT 1')
_NEXT_DAY = (f'SELECT {_DATE} FROM {_TABLE} AS i WHERE {_DATE} > ? AND {_DATE} <= ? ORDER BY {_DATE} LIMIT 1')
_PROVISIONAL = f'"{InvoiceRow.provisional_number.column_name}"'
_OFFICIAL = f'"{InvoiceRow.official_number.column_name}"'
_BY_NUMBER = f"{_ID} IN (SELECT {_ID} FROM {_TABLE} AS i WHERE i.{{column}} IN ({{marks}}))"
_OF_DAY = (f"{_ID} IN (SELECT {_ID} FROM {_TABLE} AS i WHERE {_DATE} = ? AND {_ID} > ? ORDER BY {_ID} LIMIT ?)"
           f"{_BY_ID}")


def local_invoices(seller_tax_id: str, date_from: str, date_to: str) -> Iterator[LocalSide]:
    """The store's invoices of the period, by date and by id in a date, read a page at a time."""
    for page in _Period(seller_tax_id, date_from, date_to).pages():
        for row in page:
            yield row.side


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
        self._valid_ids: dict[str, bool] = {}
        # The parties' checks, remembered (a period names the seller on every record and its buyers many times;
        # at most 256 parties of some kilobytes each: the memory stays flat whatever the period).
        self.parties = PartyMemo()

    def tax_id_valid(self, tax_id: str) -> bool:
        """check_tax_id(...).ok, remembered (a period names its buyers many times)."""
        valid = self._valid_ids.get(tax_id)
        if valid is None:
            if len(self._valid_ids) > 10_000:
                self._valid_ids.clear()
            valid = self._valid_ids[tax_id] = check_tax_id(normalize_tax_id(tax_id)).ok
        return valid


def _envelope_errors(record: dict[str, Any], rules: _Rules) -> list[FieldError]:
    """What the record adds to the invoice body, checked: number, channel, status, accepted_at, key, the seller."""
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
    return errors


def _number_of_its_year(number: str, issued_at: datetime | None) -> None:
    if issued_at is None or not usable_for(number, issued_at):
        raise ValidationFailed([FieldError("number", f"号码 {number} 不属于开票日期所在年度",
                                           f"number {number} is not of the year the invoice was issued in")])


def parse_record(record: Any, rules: _Rules | None = None) -> Invoice:
    """The platform's record as the desk's Invoice, checked by the desk's rules; raises ValidationFailed naming
    each field that does not hold (the record's envelope first, then the invoice body)."""
    if not isinstance(record, dict):
        raise ValidationFailed([FieldError("record", "平台记录不是 JSON 对象", "the record is not a JSON object")])
    rules = rules or _Rules()
    errors = _envelope_errors(record, rules)
    if errors:
        raise ValidationFailed(errors)
    number = record["number"]
    body = {k: v for k, v in record.items() if k not in ENVELOPE}
    # The platform accepted it: an id whose check character fails was confirmed when it was issued.
    ids = [(body.get(p) or {}).get("tax_id") or "" for p in ("buyer", "seller") if isinstance(body.get(p), dict)]
    confirmed = [t for t in ids if isinstance(t, str) and t and not rules.tax_id_valid(t)]
    invoice = parse_received_invoice(body, codes=rules.codes, confirmed_tax_ids=confirmed,
                                     taxpayer_type=rules.taxpayer_type, memo=rules.parties)
    if invoice.number != number:
        raise ValidationFailed([FieldError("number", f"发票号码“{invoice.number}”与记录号码 {number} 不同",
                                           f"the invoice's number {invoice.number!r} is not the record's {number}")])
    _number_of_its_year(number, invoice.issued_at)
    return invoice


def _issued_at(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


class _Checked:
    """A record, checked before anything is believed of it, in one of two ways.

    Against the invoice it is compared with (same_as): its envelope checked, and its body, with the local number
    in the number's place, hashing to that invoice's content hash: then the record is, field for field, the
    invoice this desk checked by its rules when it issued it and stored, and that check stands for this one
    (most records of a period, and no parsing). Otherwise by parsing it by the desk's rules (parse_record):
    on first use of `invoice` or `refused`, which only a record differing from the store, or matching none of
    its invoices, comes to."""

    __slots__ = ("_invoice", "_parsed", "_refused", "_same", "record", "rules")

    def __init__(self, record: PlatformRecord, rules: _Rules) -> None:
        self.record, self.rules = record, rules
        self._invoice: Invoice | None = None
        self._refused = ""
        self._parsed = False
        self._same: dict[str, bool] = {}  # content hash -> whether the record's body is that invoice's

    def _parse(self) -> None:
        if not self._parsed:
            self._parsed = True
            try:
                self._invoice = parse_record(self.record, self.rules)
            except ValidationFailed as failed:
                self._refused = str(failed)

    @property
    def invoice(self) -> Invoice | None:
        self._parse()
        return self._invoice

    @property
    def refused(self) -> str:
        self._parse()
        return self._refused

    def same_as(self, local: LocalSide) -> bool:
        """Whether the record is the invoice stored here as `local`, content for content (its envelope valid)."""
        if not local.content_hash or not isinstance(self.record, dict):
            return False
        same = self._same.get(local.content_hash)
        if same is None:
            same = self._same[local.content_hash] = self._identical(local)
        return same

    def _identical(self, local: LocalSide) -> bool:
        record = self.record
        if _envelope_errors(record, self.rules):
            return False
        body = {k: v for k, v in record.items() if k not in ENVELOPE}
        body["number"] = local.number
        if body_hash(body) != local.content_hash:
            return False
        try:
            _number_of_its_year(record["number"], _issued_at(record.get("issued_at")))
        except ValidationFailed:
            return False
        return True

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
    identical = checked.same_as(local)  # then it holds by the desk's own check (_Checked), not parsed again
    if not identical and checked.refused:
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
    if (not out and not identical and checked.invoice is not None and local.content_hash
            and content_hash(dataclasses.replace(checked.invoice, number=local.number)) != local.content_hash):
        out.append("内容不同（明细、日期或其他项目）/ the content differs (lines, date or other fields)")
    if local.status in NOT_ON_PLATFORM:
        out.append(f"本地为“{status.status_label(local.status)}”，平台却有此发票 "
                   f"/ {status.status_label(local.status, 'en')} here, but the platform holds it")
    return out


# --- the comparison, streamed --------------------------------------------------------------------
#
# The platform's records are read a page at a time and each is matched, as it comes, against the store
# by its indexes (the number: provisional or official; the key: the queue entry's idempotency key). What
# was seen is remembered as one byte of flags per invoice id of the store (_Marks), never as the records:
# a record is kept only while it is, or may become, a difference. The store's invoices of the period
# that no record matched are then listed from the store, a page at a time. The outcome is the one of
# matching the whole list at once: a local invoice stands for the first record of its number (direct
# channel; platform channel with an official number) or, on the platform channel, for the first record
# of its key (no official number yet, or none listed under it); a number listed more than once makes
# every record of it a duplicate (the records of those numbers are read again: the listing is read a
# second time only when the platform lists a number twice).

PROV_SEEN, OFF_SEEN, KEY_SEEN, PAIRED, CLEAN = 1, 2, 4, 8, 16


class _Marks:
    """One byte of flags per invoice id: a record of its provisional / official number or of its key was
    seen; it stands for a record (PAIRED), and the two agree (CLEAN, counted as matched)."""

    def __init__(self, size: int) -> None:
        self.flags = bytearray(size + 1)

    def has(self, invoice_id: int, flag: int) -> bool:
        return invoice_id < len(self.flags) and bool(self.flags[invoice_id] & flag)

    def set(self, invoice_id: int, flag: int) -> None:
        if invoice_id >= len(self.flags):  # an invoice issued while the comparison runs
            self.flags.extend(bytes(invoice_id + 1024 - len(self.flags)))
        self.flags[invoice_id] |= flag

    def clear(self, invoice_id: int, flag: int) -> None:
        if invoice_id < len(self.flags):
            self.flags[invoice_id] &= 0xFF ^ flag


@dataclass
class _Pair:
    """A local invoice and the record it stands for, kept while they differ (or may yet change)."""

    index: int
    one: _Checked
    difference: Difference | None
    claimed_otherwise: bool  # by the number of another invoice of the period, or a number listed before


def _codes_of(records: list[PlatformRecord]) -> list[str]:
    """The tax codes a page's lines name (read by one statement, not one a code)."""
    codes = []
    for record in records:
        lines = record.get("lines") if isinstance(record, dict) else None
        for line in lines if isinstance(lines, list) else ():
            code = line.get("tax_code") if isinstance(line, dict) else None
            if isinstance(code, str):
                codes.append(code)
    return codes


@dataclass(frozen=True, slots=True)
class _Missing:
    """A record missing here, as a rebuild remembers it until it reads the record again to import it."""

    number: str
    key: str | None
    channel: str
    refused: str


class _Comparison:
    def __init__(self, seller_tax_id: str, date_from: str, date_to: str, *, light: bool = False) -> None:
        self.rules = _Rules()
        self.period = _Period(seller_tax_id, date_from, date_to)
        self.report = ReconcileReport(seller_tax_id, date_from, date_to, now_iso(), 0, 0, 0)
        self.marks = _Marks(InvoiceRow.select(peewee.fn.MAX(InvoiceRow.id)).scalar() or 0)
        self.read = 0  # records read
        self.without_row: dict[str, int] = {}  # numbers no invoice here holds (their records are kept): times listed
        self.listed_twice: dict[str, int] = {}  # number -> times listed, when more than once
        self.pairs: dict[int, _Pair] = {}  # invoice id -> its record, when they differ
        self.tentative: dict[int, _Pair] = {}  # invoice id -> the record of its key, until one of its number comes
        self.light = light  # a rebuild: a record missing here is remembered by its number only (_Missing)
        self.left: dict[int, _Checked | _Missing] = {}  # index -> a record no invoice of the period stands for
        self.reissued: dict[int, tuple[_Row, _Checked]] = {}  # index -> the pre-issue record it is a second issue of
        self.unclaimed: list[tuple[int, _Checked]] = []  # of the page being compared, not yet looked at
        self.holders: set[int] = set()  # invoices a number listed twice stands for
        self.accounted: set[int] = set()  # those and the invoices a duplicate stands for: never matching, nor missing
        self.uncounted: set[int] = set()  # matched invoices a duplicate stands for, taken out of `matched`
        self.found: list[tuple[tuple[Any, ...], Difference]] = []  # (order, difference)

    # --- records, a page at a time

    def page(self, records: list[PlatformRecord]) -> None:
        """One page (emptied as it goes): the store's invoices its numbers and keys name, read first (a few
        statements a page), then each record taken from the page, checked by the desk's rules and matched, one
        at a time; a record and the invoice parsed from it are kept only while they are, or may become, a
        difference, so a page's records and invoices are not all alive at once."""
        self.rules.codes.prefetch(_codes_of(records))
        heads = [_Checked(record, self.rules) for record in records]  # number, key and channel, as given
        numbers = list({one.number for one in heads})
        keys = list({one.key for one in heads if one.channel == PLATFORM and one.key})
        del heads
        by_provisional: dict[str, _Row] = {}
        by_official: dict[str, _Row] = {}
        wanted = set(numbers)
        for start in range(0, len(numbers), IN_CHUNK):
            for row in self.period.by_numbers(numbers[start:start + IN_CHUNK]):
                if row.side.number in wanted:
                    by_provisional[row.side.number] = row
                if row.side.official_number in wanted:
                    by_official[row.side.official_number] = row
        # A key is unique to one queue entry: an invoice the numbers found under the key it carries is the one its
        # key names (most records of a period, once their acceptance is recorded); the other keys are looked up.
        by_key: dict[str, _Row] = {}
        wanted_keys = set(keys)
        for row in (*by_provisional.values(), *by_official.values()):
            if row.side.key in wanted_keys:
                by_key[row.side.key] = row
        keys = [key for key in keys if key not in by_key]
        for start in range(0, len(keys), IN_CHUNK):
            for row in self.period.by_keys(keys[start:start + IN_CHUNK]):
                if row.side.key is not None:
                    by_key[row.side.key] = row
        records.reverse()  # taken from the page as they are compared: a record matched is let go at once
        while records:
            one = _Checked(records.pop(), self.rules)  # every record checked before anything is believed of it
            key_row = by_key.get(one.key) if one.channel == PLATFORM and one.key else None
            self.one(one, by_provisional.get(one.number), by_official.get(one.number), key_row)
        self.no_invoice_here()

    def _first_of_number(self, number: str, provisional: _Row | None, official: _Row | None) -> bool:
        """Whether no record of this number came before (and remember that one has)."""
        if provisional is None and official is None:
            times = self.without_row.get(number, 0)
            self.without_row[number] = times + 1
            first = times == 0
        else:
            first = not ((provisional is not None and self.marks.has(provisional.id, PROV_SEEN))
                         or (official is not None and self.marks.has(official.id, OFF_SEEN)))
            if provisional is not None:
                self.marks.set(provisional.id, PROV_SEEN)
            if official is not None:
                self.marks.set(official.id, OFF_SEEN)
        if not first:
            self.listed_twice[number] = self.listed_twice.get(number, 1) + 1
        return first

    def one(self, one: _Checked, provisional: _Row | None, official: _Row | None, key_row: _Row | None) -> None:
        index = self.read
        self.read += 1
        number = one.number
        first = self._first_of_number(number, provisional, official)
        by_number: list[_Row] = []
        if first:
            if provisional is not None and provisional.in_period and provisional.side.channel == DIRECT:
                by_number.append(provisional)
            if (official is not None and official.in_period and official.side.channel != DIRECT
                    and official.side.official_number == number and official not in by_number):
                by_number.append(official)
        for row in by_number:
            before = self.tentative.pop(row.id, None)
            if before is not None:  # it stood for the record of its key until this one of its number came
                self._unpair(row.id)
                if not before.claimed_otherwise:
                    self.unclaimed.append((before.index, before.one))
            self._pair(row, index, one)
        claimed = bool(by_number)
        if key_row is not None and not self.marks.has(key_row.id, KEY_SEEN):
            self.marks.set(key_row.id, KEY_SEEN)  # the first record of this key
            side = key_row.side
            if key_row.in_period and side.channel != DIRECT and not self.marks.has(key_row.id, PAIRED):
                if not side.official_number:
                    self._pair(key_row, index, one)
                    claimed = True
                elif not self.marks.has(key_row.id, OFF_SEEN):  # none of its number listed yet
                    pair = self._pair(key_row, index, one)
                    pair.claimed_otherwise = bool(by_number) or not first
                    self.tentative[key_row.id] = pair
                    claimed = True
        if first and not claimed:
            self.unclaimed.append((index, one))

    def _pair(self, row: _Row, index: int, one: _Checked) -> _Pair:
        side = row.side
        problems = _compare(side, one)
        difference = None
        if problems:
            difference = self._difference(MISMATCH, side.number, side, one, "; ".join(problems))
        elif side.status != status.ACCEPTED:
            difference = self._difference(UNRECORDED, side.number, side, one,
                                          f"平台已接受（{one.number}），本地仍为 {status.status_label(side.status)} "
                                          f"/ accepted as {one.number}, still {side.status} here")
        self.marks.set(row.id, PAIRED)
        pair = _Pair(index, one, difference, False)
        if difference is not None:
            self.pairs[row.id] = pair
        else:
            self.marks.set(row.id, CLEAN)
            self.report.matched += 1
        return pair

    def _unpair(self, invoice_id: int) -> _Pair | None:
        if self.marks.has(invoice_id, CLEAN):
            self.report.matched -= 1
        self.marks.clear(invoice_id, PAIRED | CLEAN)
        return self.pairs.pop(invoice_id, None)

    def _uncount(self, invoice_id: int) -> None:
        """A matched invoice a duplicate stands for: not counted as matching (its difference, if any, stays)."""
        if self.marks.has(invoice_id, CLEAN) and invoice_id not in self.uncounted:
            self.uncounted.add(invoice_id)
            self.report.matched -= 1

    @staticmethod
    def _difference(kind: str, number: str, side: LocalSide | None, one: _Checked | None, detail: str) -> Difference:
        return Difference(
            kind, number, (side.key if side else None) if one is None else (one.key or (side.key if side else None)),
            side, one.record if one else None, detail, one.refused if one else "", one.invoice if one else None)

    def add(self, order: tuple[Any, ...], difference: Difference) -> None:
        self.found.append((order, difference))

    # --- once every page is read

    def numbers_listed_twice(self, reread: Callable[[], Iterable[PlatformRecord]] | None) -> None:
        """Every record of a number the platform lists more than once is a duplicate; the invoice of that
        number is neither matching nor missing. Its records are read again (the first of them was not kept)."""
        if not self.listed_twice:
            return
        if reread is None:
            raise ValueError("a number is listed twice: the records must be read again")
        wanted = self.listed_twice
        records: dict[str, list[tuple[int, _Checked]]] = {number: [] for number in wanted}
        for index, record in enumerate(reread()):
            number = str(record.get("number") or "") if isinstance(record, dict) else ""
            if number in records:
                records[number].append((index, _Checked(record, self.rules)))
        for number, times in wanted.items():
            holder = self.period.holder(number)
            group = records[number][0][0] if records[number] else 0
            for index, one in records[number]:
                self.add((DUPLICATE, holder.side.number if holder else number, 0, group, index), self._difference(
                    DUPLICATE, holder.side.number if holder else number, holder.side if holder else None, one,
                    f"平台清单中号码 {number} 出现 {times} 次 / the platform lists this number {times} times"))
            if holder is not None:
                self.holders.add(holder.id)
                self.accounted.add(holder.id)
                self.tentative.pop(holder.id, None)
                pair = self._unpair(holder.id)
                if pair is not None and pair.one.number != number and not pair.claimed_otherwise:
                    self.unclaimed.append((pair.index, pair.one))  # the record of its key, no longer stood for
        self.no_invoice_here()
        for index in [i for i, one in self.left.items() if one.number in wanted]:
            del self.left[index]
        for index in [i for i, (_, one) in self.reissued.items() if one.number in wanted]:
            del self.reissued[index]

    def no_invoice_here(self) -> None:
        """The records of the page no invoice of the period stands for. A platform-channel one, under a key this
        store does not know, may be one of its own pre-issue records issued a second time: the same content
        (the local number in its place); looked for now, while the record is at hand. The others are missing
        here (kept whole, or by number only in a rebuild)."""
        found, self.unclaimed = self.unclaimed, []
        moments = {one.invoice.issued_at.isoformat() for _, one in found if one.channel == PLATFORM
                   and one.invoice is not None and one.invoice.issued_at is not None}
        candidates: dict[str, list[_Row]] = defaultdict(list)
        listed = sorted(moments)
        for start in range(0, len(listed), IN_CHUNK):
            for row in self.period.issued_at(listed[start:start + IN_CHUNK], PLATFORM):
                candidates[row.side.issued_at].append(row)
        for index, one in found:
            invoice = one.invoice
            if one.channel == PLATFORM and invoice is not None and invoice.issued_at is not None:
                tax_id = invoice.buyer.tax_id.upper()
                for row in candidates.get(invoice.issued_at.isoformat(), []):
                    side = row.side
                    if (side.total_with_tax == invoice.total_with_tax and side.buyer_tax_id.upper() == tax_id
                            and content_hash(dataclasses.replace(invoice, number=side.number)) == side.content_hash):
                        self.reissued[index] = (row, one)
                        break
                if index in self.reissued:
                    continue
            self.left[index] = _Missing(one.number, one.key, one.channel, one.refused) if self.light else one

    def issued_twice(self) -> None:
        """Those found by no_invoice_here: duplicates; the invoice they were issued for is neither matching nor
        missing."""
        for index in sorted(self.reissued):
            row, one = self.reissued[index]
            side = row.side
            self.accounted.add(row.id)
            self._uncount(row.id)
            self.add((DUPLICATE, side.number, 1, index, index), self._difference(
                DUPLICATE, side.number, side, one,
                f"平台以另一个幂等键（{one.key}）开具了此预开单（号码 {one.number}），本地键为 {side.key}："
                "不再上传，多开的发票请红冲 / the platform issued this pre-issue record under another key: "
                "not sent again; reverse the extra invoice"))

    def unmatched(self) -> None:
        """The store's invoices of the period no record stands for, a page at a time."""
        for page in self.period.pages():
            for row in page:
                self.report.local_count += 1
                side = row.side
                if row.id in self.accounted or self.marks.has(row.id, PAIRED):
                    continue
                if side.status in NOT_ON_PLATFORM:
                    self.report.not_sent += 1  # rightly absent
                    continue
                state = side.queue_state
                detail = (f"仍在上传队列（{state}） / still in the upload queue" if state in status.QUEUE_WAITING_STATES
                          else f"平台无此发票（本地 {side.status}，队列 {state}） / the platform does not hold it")
                self.add((MISSING_ON_PLATFORM, side.number, 0, row.id, row.id),
                         self._difference(MISSING_ON_PLATFORM, side.number, side, None, detail))

    def finish(self, reread: Callable[[], Iterable[PlatformRecord]] | None) -> ReconcileReport:
        self.numbers_listed_twice(reread)
        self.issued_twice()
        for invoice_id, pair in self.pairs.items():
            if invoice_id not in self.holders and pair.difference is not None:
                self.add((pair.difference.kind, pair.difference.number, 0, invoice_id, invoice_id), pair.difference)
        self.unmatched()
        details: dict[str, str] = {}  # one text a channel, shared
        for index, left in sorted(self.left.items()):
            detail = details.get(left.channel) or details.setdefault(
                left.channel, f"平台有记录（{left.channel}），本地没有 / the platform holds it, this store does not")
            if left.refused:
                detail += f"; 平台记录不是有效发票，不能导入：{left.refused} / the record does not parse as an invoice"
            if isinstance(left, _Missing):  # a rebuild reads the record again to import it
                difference = Difference(MISSING_LOCALLY, left.number, left.key, None, None, detail, left.refused)
            else:
                difference = self._difference(MISSING_LOCALLY, left.number, None, left, detail)
            self.add((MISSING_LOCALLY, left.number, 0, index, index), difference)
        order = {kind: i for i, kind in enumerate(KINDS)}
        self.found.sort(key=lambda found: (order[found[0][0]], *found[0][1:]))
        self.report.differences = [difference for _, difference in self.found]
        self.report.platform_count = self.read
        return self.report


def compare(seller_tax_id: str, date_from: str, date_to: str, records: Iterable[PlatformRecord], *,
            page_size: int = 500, reread: Callable[[], Iterable[PlatformRecord]] | None = None,
            light: bool = False) -> ReconcileReport:
    """The comparison itself, given the platform's records of the period (no network here), read page_size
    at a time: records may be a generator, consumed as the comparison goes. reread gives the records again
    (needed only when the platform lists a number twice; a list or tuple is read again by itself). With
    light (a rebuild), a record missing here is reported by its number, key and channel, without the record."""
    if reread is None and isinstance(records, (list, tuple)):
        listed = records
        reread = lambda: listed  # noqa: E731
    return _compare_pages(seller_tax_id, date_from, date_to, pages(records, page_size), reread=reread, light=light)


def _compare_pages(seller_tax_id: str, date_from: str, date_to: str, listed: Iterable[list[PlatformRecord]], *,
                   reread: Callable[[], Iterable[PlatformRecord]] | None, light: bool) -> ReconcileReport:
    comparison = _Comparison(seller_tax_id, date_from, date_to, light=light)
    for page in listed:
        comparison.page(page)
    return comparison.finish(reread)


def reconcile(client: PlatformClient, date_from: str, date_to: str, *, page_size: int = 500,
              light: bool = False) -> ReconcileReport:
    """Download the platform's records for [date_from, date_to] and compare them as they come, a page at a
    time (light: see compare). Raises PlatformError when it cannot."""
    _check_period(date_from, date_to)
    seller = get_seller()
    if seller is None:
        raise ValidationFailed([FieldError("seller", "销售方信息未设置", "no seller profile yet")])
    tax_id = seller.party.tax_id

    def records() -> Iterator[PlatformRecord]:
        return client.iter_invoices(tax_id, date_from, date_to, page_size=page_size)

    # The next page is read while this one is checked (reconcile_pages): the platform's work and the desk's overlap.
    return _compare_pages(tax_id, date_from, date_to, pages_ahead(records(), page_size), reread=records, light=light)


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
        _import_chunk(checked, result, clerk)
    return result


def _import_chunk(checked: list[tuple[PlatformRecord, Invoice]], result: ImportResult, clerk: str) -> None:
    """Records checked by the desk's rules, imported in one IMMEDIATE transaction; one whose number or key the
    store holds already is reported and left alone."""
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


def rebuild_from_platform(client: PlatformClient, date_from: str, date_to: str, *, clerk: str = "",
                          page_size: int = 500) -> tuple[ReconcileReport, ImportResult]:
    """A lost or old store brought up to what the platform holds for the period, in memory that does not grow
    with it: the period is compared as reconcile() compares it (light: a record missing here is remembered by
    its number), the acceptances the store missed are recorded, then the listing is read a second time and
    the records missing here are checked and imported as they come, IMPORT_CHUNK per transaction. The report
    lists those missing without the records themselves (they are in the store now, or in result.failed with
    why). Raises PlatformError when it cannot read the listing."""
    report = reconcile(client, date_from, date_to, page_size=page_size, light=True)
    result = ImportResult()
    rules = _Rules()
    unrecorded = [d for d in report.differences if d.kind == UNRECORDED and d.platform is not None]
    if unrecorded:
        _record_acceptances(unrecorded, result, rules)
    wanted = {d.number: d.refused for d in report.differences if d.kind == MISSING_LOCALLY}
    if not wanted:
        return report, result
    pending: list[tuple[str, PlatformRecord]] = []

    def import_pending() -> None:
        rules.codes.prefetch(_codes_of([record for _, record in pending]))
        checked: list[tuple[PlatformRecord, Invoice]] = []
        for number, record in pending:
            try:
                checked.append((record, parse_record(record, rules)))
            except ValidationFailed as failed:
                refused = str(failed)
                result.failed.append((number, str(ValidationFailed([FieldError(
                    "record", f"平台记录不是有效发票：{refused}",
                    f"the platform's record does not parse as an invoice: {refused}")]))))
        _import_chunk(checked, result, clerk)
        pending.clear()

    listed = client.iter_invoices(report.seller_tax_id, date_from, date_to, page_size=page_size)
    for page in pages_ahead(listed, page_size):  # the next page is read while this one is imported
        for record in page:
            number = str(record.get("number") or "") if isinstance(record, dict) else ""
            if number in wanted:
                del wanted[number]  # its first record, the one compared
                pending.append((number, record))
                if len(pending) >= IMPORT_CHUNK:
                    import_pending()
    if pending:
        import_pending()
    for number in wanted:  # listed the first time, no longer the second
        result.failed.append((number, "no longer listed by the platform"))
    return report, result

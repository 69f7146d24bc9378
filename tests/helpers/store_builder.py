"""Realistic stores of many invoices, fast, through the row builders the services use.

A store built here is what years of a desk leave behind: the shipped tax code table and a seller
profile (written by the real services), a customer book, invoices of 1 to 5 lines with real codes,
each with its queue entry and its "issued" audit entry, most of them accepted (an "accepted" entry
with the platform's number), a configurable number still waiting to upload, a few red-letter and
cancelled ones (written by the real services, app/services/lifecycle.py), both channels: direct
invoices numbered from blocks (NumberBlock rows, one run per year), platform ones with LX numbers.

The rows come from app.store.records (invoice_row_fields, line_rows, content_hash) and the chain
from app.store.audit (entry_hash, canonical_json), exactly as issuing, the queue worker and
append_many write them; only the inserts are bulk (executemany, one transaction per chunk). So
app.services.integrity.verify_store reports such a store whole.

The builder refuses to write into the clerk's own store: the default data dir (FAPIAO_DESK_DATA or
platformdirs), or any folder that already holds a store unless force is given (then the old store
files there are removed first; never the default data dir).
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import platformdirs
from stdnum.cn import uscc

from app.core import status
from app.core.clock import BEIJING
from app.core.errors import ValidationFailed
from app.core.invoice import Invoice
from app.core.official_numbers import MAX_BLOCK
from app.services.issuing import issue_invoices, prepare_invoice, remember_buyer
from app.services.lifecycle import cancel_invoice
from app.services.seller import SellerSettings, get_seller, set_seller
from app.services.store_access import open_store
from app.store import audit, invoice_search
from app.store.database import APP_NAME, STORE_FILE, Store, default_data_dir
from app.store.models import (
    AuditEntry,
    InvoiceLine,
    NumberBlock,
    NumberCounter,
    QuotaSlice,
    QuotaUse,
    TaxCode,
    UploadQueueEntry,
    database,
)
from app.store.models import (
    Invoice as InvoiceRow,
)
from app.store.records import invoice_row_fields, line_rows
from tests.helpers.red import red_on_form

SELLER_TAX_ID = "91110108MA0123456G"
CLERK = "张三"
SYNC_CLERK = "sync"
CHUNK = 2000  # invoices per transaction
PER_DAY = 400  # a busy desk: the history spans invoices / PER_DAY days
TEMPLATES = 600  # distinct drafts validated by prepare_invoice; each invoice is one of them, renumbered and redated
MAX_SINGLE = Decimal("90000")
WAITING_SPAN_HOURS = 20  # the waiting invoices are issued within the last hours (inside the offline limit)
UNITS = ("个", "件", "台", "套", "项", "次", "千克", "箱")
CITIES = ("北京", "上海", "天津", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安")
TRADES = ("贸易", "科技", "咨询", "物流", "建材", "食品", "电子", "文化传媒", "机械设备", "医药")


class RefusedTarget(Exception):
    """The folder given must not be written to (the clerk's own store, or a store already there)."""


@dataclass
class BuildReport:
    path: Path
    invoices: int = 0
    lines: int = 0
    entries: int = 0
    buyers: int = 0
    accepted: int = 0
    waiting: int = 0
    direct: int = 0
    platform: int = 0
    red: int = 0
    cancelled: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        return (f"{self.path}: {self.invoices} invoices ({self.accepted} accepted, {self.waiting} waiting, "
                f"{self.red} red, {self.cancelled} cancelled; {self.direct} direct, {self.platform} platform), "
                f"{self.lines} lines, {self.entries} audit entries, {self.buyers} buyers in {self.seconds:.1f} s")


def _clerk_dirs() -> list[Path]:
    dirs = [default_data_dir(), Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))]
    override = os.environ.get("FAPIAO_DESK_DATA")
    if override:
        dirs.append(Path(override))
    return [d.expanduser().resolve() for d in dirs]


def check_target(out: Path, force: bool = False) -> Path:
    """The folder to build in, resolved; raises RefusedTarget for the clerk's store or a store already there."""
    target = Path(out).expanduser().resolve()
    for clerk_dir in _clerk_dirs():
        if target == clerk_dir or clerk_dir in target.parents or target in clerk_dir.parents:
            raise RefusedTarget(f"out（输出目录）：{target} 是本机开票数据目录，拒绝写入 / "
                                f"out: {target} is (or holds) the clerk's own data dir ({clerk_dir}); refused")
    held = target / STORE_FILE
    if held.exists() and not force:
        raise RefusedTarget(f"out（输出目录）：{target} 已有数据库，拒绝覆盖（确认是测试目录时加 --force）/ "
                            f"out: {target} already holds a store; refused (give --force if it is a scratch folder)")
    if target.exists() and not target.is_dir():
        raise RefusedTarget(f"out（输出目录）：{target} 不是目录 / out: {target} is not a folder")
    return target


def _remove_store_files(target: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        (target / f"{STORE_FILE}{suffix}").unlink(missing_ok=True)


# --- drafts ---------------------------------------------------------------------------------------

def _tax_id(rng: random.Random) -> str:
    body = "9111" + "".join(rng.choice("0123456789") for _ in range(4)) + "MA" + "".join(
        rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(7))
    return body + uscc.calc_check_digit(body)


def _buyers(rng: random.Random, count: int) -> list[dict[str, Any]]:
    buyers: list[dict[str, Any]] = []
    for i in range(count):
        if i % 10 == 9:  # some natural persons
            buyers.append({"name": f"{rng.choice('王李张刘陈杨赵黄周吴')}{rng.choice('伟芳娜敏静丽强磊军洋')}{i}",
                           "natural_person": True})
            continue
        name = f"{rng.choice(CITIES)}{rng.choice('华盛鑫博安信达恒')}{rng.choice(TRADES)}有限公司第{i}分公司"
        buyer: dict[str, Any] = {"name": name, "tax_id": _tax_id(rng)}
        if i % 3 == 0:
            buyer.update(address=f"{rng.choice(CITIES)}市某区某路{i}号", phone=f"010-6{i:07d}",
                         bank="中国工商银行某支行", account=f"0200{i:015d}")
        buyers.append(buyer)
    return buyers


def _codes(rng: random.Random) -> list[tuple[str, str, str]]:
    """(code, name, rate) of usable leaf codes of the shipped table, with a non-zero rate."""
    found: list[tuple[str, str, str]] = []
    rows: Iterable[tuple[str, str, str]] = (TaxCode.select(TaxCode.code, TaxCode.name, TaxCode.rates)
                                            .where(TaxCode.usable & ~TaxCode.summary).tuples().iterator())
    for code, name, rates in rows:
        usable = [r for r in rates.split(",") if r and r not in ("0", "0.00") and r.startswith("0.")]
        if usable:
            found.append((code, name, usable[0]))
    rng.shuffle(found)
    return found[:400]


def _templates(rng: random.Random, seller: SellerSettings, count: int) -> list[Invoice]:
    """Drafts checked by the issuing service's prepare_invoice: real codes, rates and buyers."""
    codes = _codes(rng)
    buyers = _buyers(rng, max(count // 3, 10))
    drafts: list[Invoice] = []
    attempts = 0
    while len(drafts) < count and attempts < count * 5:
        attempts += 1
        lines = []
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 5))):
            code, name, rate = rng.choice(codes)
            lines.append({"tax_code": code, "item_name": name[:20] or "商品", "unit": rng.choice(UNITS),
                          "quantity": str(rng.randint(1, 50)),
                          "unit_price": f"{rng.randint(1, 3000)}.{rng.randint(0, 99):02d}", "tax_rate": rate})
        body: dict[str, Any] = {"kind": "normal", "buyer": dict(rng.choice(buyers)), "lines": lines}
        if rng.random() < 0.2:
            body["remarks"] = f"合同号 HT-{rng.randint(2016, 2026)}-{rng.randint(1, 9999):04d}"
        try:
            draft = prepare_invoice(body, seller)
        except ValidationFailed:  # a code the table refuses for this draft: try another
            continue
        if draft.total_amount <= MAX_SINGLE:  # under the desk's single-invoice limit (app.core.limits)
            drafts.append(draft)
    if len(drafts) < count // 2:
        raise RuntimeError(f"only {len(drafts)} of {count} drafts passed prepare_invoice")
    return drafts


# --- bulk rows ------------------------------------------------------------------------------------

def _converters(model: type[Any]) -> dict[str, tuple[str, Callable[[Any], Any] | None]]:
    """field name -> (column, db_value when the stored form differs from the Python one)."""
    out: dict[str, tuple[str, Callable[[Any], Any] | None]] = {}
    for name, fld in model._meta.fields.items():
        kind = type(fld).__name__
        out[name] = (fld.column_name, fld.db_value if kind in ("MoneyField", "DecimalTextField") else None)
    return out


class _Inserter:
    def __init__(self, model: type[Any]) -> None:
        self.model = model
        self.conv = _converters(model)
        self.names: list[str] | None = None
        self.sql = ""

    def __call__(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self.names is None:
            self.names = list(rows[0])
            columns = ", ".join(f'"{self.conv[n][0]}"' for n in self.names)
            marks = ", ".join("?" for _ in self.names)
            self.sql = f'INSERT INTO "{self.model._meta.table_name}" ({columns}) VALUES ({marks})'
        convs = [self.conv[n][1] for n in self.names]
        names = self.names
        tuples = [tuple(row[n] if c is None else c(row[n]) for n, c in zip(names, convs, strict=True))
                  for row in rows]
        database.connection().executemany(self.sql, tuples)


@dataclass
class _Numbers:
    """The numbers of the run: LX counter, the platform's official numbers, the direct blocks by year."""

    lx: int = 0
    platform_seq: dict[int, int] = dataclasses.field(default_factory=dict)
    direct_used: dict[int, int] = dataclasses.field(default_factory=dict)  # year -> numbers taken

    def next_lx(self) -> str:
        self.lx += 1
        return f"LX-{self.lx:07d}"

    def platform_number(self, year: int) -> str:
        seq = self.platform_seq.get(year, 0) + 1
        self.platform_seq[year] = seq
        return f"{year % 100:02d}110{seq:015d}"

    def direct_number(self, year: int) -> str:
        used = self.direct_used.get(year, 0)
        self.direct_used[year] = used + 1
        return f"{year % 100:02d}112{100000000 + used:015d}"


def _ms(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _period(moment: datetime) -> str:
    return moment.strftime("%Y%m")


class _Writer:
    def __init__(self, rng: random.Random, templates: list[Invoice], buyer_ids: dict[tuple[str, str], int],
                 direct_share: float, report: BuildReport) -> None:
        self.rng = rng
        self.templates = templates
        self.buyer_ids = buyer_ids
        self.direct_share = direct_share
        self.report = report
        self.numbers = _Numbers()
        self.drawn: dict[str, Decimal] = {}
        self.invoices = _Inserter(InvoiceRow)
        self.lines = _Inserter(InvoiceLine)
        self.queue = _Inserter(UploadQueueEntry)
        self.next_id = 1
        self.sync_numbers()

    def sync_numbers(self) -> None:
        """After the services wrote invoices: the next row id and LX number follow theirs."""
        self.next_id = max(self.next_id, (InvoiceRow.select(InvoiceRow.id).order_by(InvoiceRow.id.desc())
                                          .scalar() or 0) + 1)
        counter = NumberCounter.get_or_none(NumberCounter.seller_tax_id == SELLER_TAX_ID)
        self.numbers.lx = max(self.numbers.lx, counter.last_value if counter else 0)

    def write(self, moments: list[datetime], accepted: bool) -> None:
        """Invoices issued at moments (ascending), in chunks of CHUNK per transaction."""
        for start in range(0, len(moments), CHUNK):
            with database.atomic():
                self._chunk(moments[start:start + CHUNK], accepted)
                NumberCounter.insert(seller_tax_id=SELLER_TAX_ID, last_value=self.numbers.lx).on_conflict(
                    conflict_target=[NumberCounter.seller_tax_id],
                    update={NumberCounter.last_value: self.numbers.lx}).execute()

    def _chunk(self, moments: list[datetime], accepted: bool) -> None:
        rng = self.rng
        invoice_rows: list[dict[str, Any]] = []
        line_list: list[dict[str, Any]] = []
        queue_rows: list[dict[str, Any]] = []
        issued_entries: list[tuple[str, str, str, int, str, str]] = []  # at, clerk, action, id, number, detail
        accepted_entries: list[tuple[str, str, str, int, str, str]] = []
        last_at = moments[-1]
        for moment in moments:
            template = rng.choice(self.templates)
            direct = rng.random() < self.direct_share
            year = moment.year
            number = self.numbers.direct_number(year) if direct else self.numbers.next_lx()
            issued = dataclasses.replace(template, number=number, issued_at=moment)
            invoice_id = self.next_id
            self.next_id += 1
            fields = invoice_row_fields(issued)
            key = str(uuid.uuid4())
            stamp = _ms(moment + timedelta(milliseconds=rng.randint(0, 900)))
            row: dict[str, Any] = {"id": invoice_id, **fields, "buyer": self.buyer_ids.get(
                (issued.buyer.name, issued.buyer.tax_id)), "channel": "direct" if direct else "platform",
                "reissue_of": None, "platform_id": None, "accepted_at": None, "official_number": None,
                "quota_period": None, "quota_drawn": Decimal(0)}
            detail: dict[str, Any] = {"content_hash": fields["content_hash"],
                                      "total_with_tax": f"{issued.total_with_tax}",
                                      "confirmed_tax_ids": sorted(issued.confirmed_tax_ids), "queued_key": key,
                                      "channel": row["channel"]}
            if direct:
                drawn = issued.total_amount if issued.total_amount > 0 else Decimal(0)
                period = _period(moment)
                row.update(official_number=number, quota_period=period, quota_drawn=drawn)
                self.drawn[period] = self.drawn.get(period, Decimal(0)) + drawn
                detail["quota"] = {"period": period, "drawn": f"{drawn:f}"}
                row["status"] = status.PENDING_UPLOAD
                self.report.direct += 1
            else:
                detail["pre_issue"] = True
                row["status"] = status.PRE_ISSUE
                self.report.platform += 1
            issued_entries.append((stamp, CLERK, "issued", invoice_id, number, audit.canonical_json(detail)))
            queue_state = status.Q_PENDING
            if accepted:
                accepted_at = _ms(last_at + timedelta(seconds=rng.randint(5, 120)))
                official = number if direct else self.numbers.platform_number(year)
                platform_id = None  # neither /v2/issue nor the upload results give one
                row.update(status=status.ACCEPTED, official_number=official, platform_id=platform_id,
                           accepted_at=accepted_at)
                accepted_entries.append((accepted_at, SYNC_CLERK, "accepted", invoice_id, number, audit.canonical_json(
                    {"official_number": official, "platform_id": platform_id, "accepted_at": accepted_at,
                     "found_by": "results" if direct else "send"})))
                queue_state = status.Q_ACCEPTED
                self.report.accepted += 1
            else:
                self.report.waiting += 1
            invoice_rows.append(row)
            line_list += line_rows(invoice_id, issued)
            queue_rows.append({"invoice": invoice_id, "idempotency_key": key, "state": queue_state, "attempts":
                               1 if accepted else 0, "last_error": "", "next_try_at": None, "created_at": stamp,
                               "updated_at": stamp, "batch": None})
        self.invoices(invoice_rows)
        self.lines(line_list)
        invoice_search.index_new_invoices()  # as the issuing transaction does
        self.queue(queue_rows)
        _chain(issued_entries + sorted(accepted_entries))
        self.report.invoices += len(invoice_rows)
        self.report.lines += len(line_list)


def _chain(entries: list[tuple[str, str, str, int, str, str]]) -> None:
    """Append entries (at, clerk, action, invoice id, number, detail) to the chain as append_many does."""
    last = AuditEntry.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).first()
    prev = last.hash if last else audit.GENESIS
    rows = []
    for at, clerk, action, invoice_id, number, detail in entries:
        digest = audit.entry_hash(prev, at, clerk, action, number, detail)
        rows.append((at, clerk, action, invoice_id, detail, prev, digest))
        prev = digest
    database.connection().executemany(
        'INSERT INTO "audit_entry" ("at", "clerk", "action", "invoice_id", "detail", "prev_hash", "hash") '
        "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def _moments(rng: random.Random, count: int, start: datetime, end: datetime) -> Iterator[datetime]:
    """count moments from start to end, ascending, in office hours where the span allows."""
    if count <= 0:
        return
    step = (end - start) / count
    for i in range(count):
        yield (start + step * i + timedelta(seconds=rng.randint(0, max(int(step.total_seconds()) - 1, 0)))).replace(
            microsecond=0)


def _blocks_and_quota(writer: _Writer, now: datetime) -> None:
    """NumberBlock rows covering the direct numbers taken (past years retired), QuotaSlice and QuotaUse rows."""
    stamp = _ms(now)
    for year, used in sorted(writer.numbers.direct_used.items()):
        for offset in range(0, used, MAX_BLOCK):
            taken = min(MAX_BLOCK, used - offset)
            current = year == now.year
            size = MAX_BLOCK if current else taken
            first = f"{year % 100:02d}112{100000000 + offset:015d}"
            last = f"{year % 100:02d}112{100000000 + offset + size - 1:015d}"
            NumberBlock.create(request_id=str(uuid.uuid4()), requested_count=size, first=first, last=last, year=year,
                               used=taken, state="held" if current else "retired", requested_at=stamp,
                               granted_at=stamp, retired_at=None if current else stamp)
    this_period = _period(now)
    periods = set(writer.drawn) | {this_period}
    for period in sorted(periods):
        drawn = writer.drawn.get(period, Decimal(0))
        year, month = int(period[:4]), int(period[4:])
        first_day = date(year, month, 1)
        last_day = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1))
        amount = drawn + (Decimal("5000000.00") if period == this_period else Decimal("1000.00"))
        QuotaSlice.create(request_id=str(uuid.uuid4()), action="download", amount=amount, period=period,
                          valid_from=first_day.isoformat(), valid_to=last_day.isoformat(), state="granted",
                          requested_at=stamp, granted_at=stamp)
        if drawn:
            QuotaUse.insert(period=period, drawn=drawn).on_conflict_replace().execute()


def build_store(out: Path | str, invoices: int, *, waiting: int = 0, red: int | None = None,
                cancelled: int | None = None, direct_share: float = 0.3, seed: int = 13, force: bool = False,
                progress: Callable[[str], None] | None = None) -> BuildReport:
    """Build a store of `invoices` invoices in out (refused: see check_target); returns what it holds.

    `waiting` of them wait to upload (issued in the last hours, with pending queue entries); `red`
    red-letter invoices (waiting too: they are pre-issue records until uploaded) and `cancelled` ones
    are made by the real services; the rest are accepted."""
    began = time.perf_counter()
    target = check_target(Path(out), force)
    if force:
        _remove_store_files(target)
    red = min(max(1, invoices // 2000), waiting) if red is None else red
    cancelled = max(1, invoices // 5000) if cancelled is None else cancelled
    if invoices < waiting + cancelled or min(invoices, waiting, red, cancelled) < 0 or red > waiting:
        raise ValueError("invoices（发票数）：须不少于 waiting + cancelled，红字发票不多于 waiting / invoices: must be "
                         "at least waiting + cancelled, and red at most waiting (a red invoice waits to upload)")
    report = BuildReport(target)
    rng = random.Random(seed)
    say = progress or (lambda _text: None)
    store: Store = open_store(target)
    try:
        database.connection().execute("PRAGMA synchronous = OFF")
        if get_seller() is None:
            set_seller(name="北京某某科技有限公司", tax_id=SELLER_TAX_ID, drawer=CLERK,
                       address="北京市海淀区中关村大街1号", phone="010-62345678",
                       bank="中国工商银行北京中关村支行", account="0200001234567890123")
        seller = get_seller()
        assert seller is not None
        templates = _templates(rng, seller, min(TEMPLATES, max(invoices, 20)))
        buyer_ids: dict[tuple[str, str], int] = {}
        with database.atomic():
            for template in templates:
                key = (template.buyer.name, template.buyer.tax_id)
                if key not in buyer_ids:
                    buyer_ids[key] = remember_buyer(template).id
        report.buyers = len(buyer_ids)
        writer = _Writer(rng, templates, buyer_ids, direct_share, report)
        now = datetime.now(BEIJING).replace(microsecond=0)
        waiting_start = now - timedelta(hours=WAITING_SPAN_HOURS)
        history_start = waiting_start - timedelta(days=max(invoices / PER_DAY, 2))
        old = invoices - waiting - cancelled
        say(f"writing {old} accepted invoices")
        writer.write(list(_moments(rng, old, history_start, waiting_start - timedelta(hours=1))), accepted=True)
        # Red-letter and cancelled invoices through the services (they write what a desk writes). They wait
        # to upload like any pre-issue record: above the default offline limits for the moment they are written.
        from app.core.limits import OfflineLimits
        from app.services.limits import get_limits, set_limits

        limits = get_limits()
        set_limits(OfflineLimits(max_hours=limits.max_hours, max_count=10 ** 9, max_amount=Decimal("1e15"),
                                 max_single=limits.max_single))
        say(f"{red} red-letter, {cancelled} cancelled through the services")
        accepted: Iterable[tuple[str]] = (InvoiceRow.select(InvoiceRow.provisional_number)
                                          .where(InvoiceRow.status == status.ACCEPTED)
                                          .order_by(InvoiceRow.id.desc()).limit(red * 5).tuples().iterator())
        originals = [n for (n,) in accepted]
        for number in rng.sample(originals, min(red, len(originals))):
            red_on_form(number, "开票有误", clerk=CLERK)
            report.red += 1
        writer.sync_numbers()
        for draft in rng.sample(templates, min(cancelled, len(templates))):
            body = _body_of(draft)
            issued = issue_invoices([body], clerk=CLERK)[0]
            if cancel_invoice(issued.number, "开票有误", clerk=CLERK).cancelled:
                report.cancelled += 1
        writer.sync_numbers()
        set_limits(limits)
        bulk_waiting = max(waiting - report.red, 0)
        say(f"writing {bulk_waiting} waiting invoices")
        writer.write(list(_moments(rng, bulk_waiting, waiting_start, now - timedelta(minutes=1))), accepted=False)
        with database.atomic():
            _blocks_and_quota(writer, now)
            database.execute_sql("UPDATE buyer SET use_count = (SELECT count(*) FROM invoice "
                                 "WHERE invoice.buyer_id = buyer.id)")
        report.invoices = InvoiceRow.select().count()
        report.lines = InvoiceLine.select().count()
        report.entries = AuditEntry.select().count()
        report.waiting = InvoiceRow.select().where(InvoiceRow.status.in_(status.WAITING_STATUSES)).count()
        report.accepted = InvoiceRow.select().where(InvoiceRow.status == status.ACCEPTED).count()
        database.connection().execute("PRAGMA synchronous = NORMAL")
        database.execute_sql("ANALYZE")
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    report.seconds = time.perf_counter() - began
    return report


def _body_of(invoice: Invoice) -> dict[str, Any]:
    """A draft body of a validated invoice (the cancelled ones are issued through issue_invoices)."""
    buyer: dict[str, Any] = {"name": invoice.buyer.name, "tax_id": invoice.buyer.tax_id,
                             "natural_person": invoice.buyer.natural_person}
    lines = [{"tax_code": line.tax_code, "item_name": line.item_name, "unit": line.unit,
              "quantity": f"{line.quantity}", "unit_price": f"{line.unit_price}", "tax_rate": line.tax_rate}
             for line in invoice.lines]
    return {"kind": "normal", "buyer": buyer, "lines": lines}

"""Delivering accepted 数电 invoices to the buyer: the face (PDF) and the XML must reach the buyer within 48
hours of the upload (shudian-rules.md section 5). The clerk chooses a folder (setting `deliver.folder`: a
shared or synchronised folder the buyers' mail-out or portal picks up); each accepted invoice is written
into it as `<20-digit number>.pdf` and `<20-digit number>.xml` (app.services.export.export_invoices, each
file renamed into place whole) and an audit entry `delivered` records it.

What is still to deliver is a read model over the audit log, never a scan of the invoices:
- every acceptance is an audit entry `accepted` (app.services.queue.record_outcomes), appended in order;
- the bookkeeping value `deliver.cursor` (a Setting row, kept without an audit entry of its own: it is the
  desk's place in its own log, not a clerk's choice) is an audit id: every `accepted` entry up to it is
  delivered, refused or no longer concerns an accepted invoice;
- the pending invoices are the `accepted` entries after the cursor (a rowid range) whose invoice is still
  accepted and has no `delivered`/`delivery_refused` entry (audit_entry_invoice_id index).
The first time anything asks (the folder set, a pass, a listing) the desk starts at the first audit entry of
the last 48 hours, found by bisection on the audit ids (their `at` grows with them), and keeps that start:
invoices accepted earlier were past their delivery time before the desk tracked delivery, and were the
clerk's to send.

An accepted invoice that has no XML (a legacy one: export_refusal) is recorded `delivery_refused` with the
reason and listed in the result: it does not hold the cursor back. A write that fails (the folder went
away, the disk is full) leaves the invoice pending; the next pass writes it again (the same names,
written whole: a second write replaces the first).

The PDF goes through printing as every export does: it is recorded as a print, and an invoice printed
before carries the 副本 mark.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from app.core import status
from app.core.clock import in_beijing, now
from app.core.errors import BadInput, DeskError, FieldError, ValidationFailed
from app.printing.einvoice_xml import export_refusal
from app.services.settings import get_setting, set_setting
from app.store import audit
from app.store.models import AuditEntry, Setting, database
from app.store.models import Invoice as InvoiceRow
from app.store.queries import load_invoice

FOLDER_KEY = "deliver.folder"
CURSOR_KEY = "deliver.cursor"
DELIVERED = "delivered"
REFUSED = "delivery_refused"
ACCEPTED_ACTION = "accepted"
DEADLINE_HOURS = 48  # shudian-rules.md section 5: within 48 hours of the upload
DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class PendingDelivery:
    """An accepted invoice not delivered yet."""

    invoice_id: int
    number: str  # the 20-digit official number
    provisional_number: str
    accepted_at: datetime  # the platform's acceptance time (the desk's record of it when the platform gave none)
    audit_id: int  # its `accepted` entry

    def hours_since(self, at: datetime | None = None) -> float:
        return ((at or now()) - self.accepted_at).total_seconds() / 3600

    def hours_left(self, at: datetime | None = None) -> float:
        return DEADLINE_HOURS - self.hours_since(at)


@dataclass
class DeliverResult:
    folder: Path | None  # None: no folder set, nothing done
    delivered: list[str] = field(default_factory=list)  # official numbers written and recorded
    refused: list[tuple[str, str]] = field(default_factory=list)  # (number, why), recorded delivery_refused
    failed: list[tuple[str, str]] = field(default_factory=list)  # (number, error): still pending
    remaining: int = 0  # pending invoices left for a later call (past the limit, or failed)


def _folder_error(folder: object, zh: str, en: str) -> BadInput:
    return BadInput(f"deliver.folder（交付文件夹）：{folder} {zh}", f"deliver.folder (delivery folder): {folder} {en}")


def check_folder(folder: str | Path) -> Path:
    """The folder, made absolute, once it is shown to exist and to take a file; raises BadInput naming
    deliver.folder otherwise."""
    text = str(folder).strip()
    if not text:
        raise BadInput("deliver.folder（交付文件夹）：请指定文件夹", "deliver.folder (delivery folder): give a folder")
    path = Path(text).expanduser().absolute()
    if not path.is_dir():
        raise _folder_error(path, "不存在或不是文件夹", "does not exist or is not a folder")
    try:
        handle, probe = tempfile.mkstemp(prefix=".deliver-probe-", dir=path)
    except OSError as error:
        raise _folder_error(path, f"不能写入（{error.strerror or error}）",
                            f"cannot be written ({error.strerror or error})") from error
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return path


def deliver_folder() -> Path | None:
    """The folder the clerk chose, or None."""
    value = get_setting(FOLDER_KEY)
    return Path(value) if isinstance(value, str) and value else None


def set_deliver_folder(folder: str | Path | None, *, clerk: str = "") -> Path | None:
    """Choose the folder (checked: BadInput naming deliver.folder), or clear it with None or ""."""
    if folder is None or not str(folder).strip():
        set_setting(FOLDER_KEY, "", clerk=clerk)
        return None
    path = check_folder(folder)
    _cursor()  # delivery starts here at the latest
    set_setting(FOLDER_KEY, str(path), clerk=clerk)
    return path


# --- the read model --------------------------------------------------------------------------------

def _stored_cursor() -> int | None:
    value = get_setting(CURSOR_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _store_cursor(value: int) -> None:
    Setting.insert(key=CURSOR_KEY, value=str(value)).on_conflict_replace().execute()


def _starting_cursor(at: datetime) -> int:
    """The id before the first audit entry of the last DEADLINE_HOURS: bisection over the ids (a few lookups)."""
    cutoff = at - timedelta(hours=DEADLINE_HOURS)
    low: int = AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id).limit(1).scalar() or 0
    high: int = AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1).scalar() or 0
    if high == 0:
        return 0
    # The smallest id whose `at` is at or after the cutoff (ids may have gaps: look at the next one up).
    lo, hi = low, high + 1
    while lo < hi:
        middle = (lo + hi) // 2
        entry = (AuditEntry.select(AuditEntry.id, AuditEntry.at).where(AuditEntry.id >= middle)
                 .order_by(AuditEntry.id).limit(1).first())
        if entry is None or _moment(entry.at) >= cutoff:
            hi = middle
        else:
            lo = entry.id + 1
    return lo - 1


def _cursor() -> int:
    """The cursor kept, or, the first time anything asks, the start (the last 48 hours of the log), kept from
    then on: the start does not move with the clock, so what was not delivered stays listed."""
    stored = _stored_cursor()
    if stored is not None:
        return stored
    with database.atomic("IMMEDIATE"):
        stored = _stored_cursor()
        if stored is None:
            stored = _starting_cursor(now())
            _store_cursor(stored)
    return stored


def _moment(text: str) -> datetime:
    """An ISO time (the desk's own with +08:00, the platform's with any offset or Z) on Beijing's clock."""
    return in_beijing(datetime.fromisoformat(text.replace("Z", "+00:00")))


# CROSS JOIN: SQLite keeps the audit range as the outer loop (the rows after the cursor), never the invoices.
PENDING_SQL = (
    'SELECT a."id", a."at", i."id", i."official_number", i."provisional_number", i."accepted_at" '
    'FROM "audit_entry" a CROSS JOIN "invoice" i ON i."id" = a."invoice_id" '
    'WHERE a."id" > ? AND a."action" = ? AND i."status" = ? '
    'AND NOT EXISTS (SELECT 1 FROM "audit_entry" d WHERE d."invoice_id" = i."id" AND d."action" IN (?, ?)) '
    'ORDER BY a."id"')


def _pending_after(cursor: int) -> tuple[list[PendingDelivery], int]:
    """The pending invoices after the cursor, oldest acceptance first, and the newest audit id of the same read."""
    with database.atomic():
        newest: int = AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1).scalar() or 0
        rows = database.execute_sql(PENDING_SQL, (cursor, ACCEPTED_ACTION, status.ACCEPTED, DELIVERED,
                                                  REFUSED)).fetchall()
    seen: set[int] = set()
    pending: list[PendingDelivery] = []
    for audit_id, recorded_at, invoice_id, official, provisional, accepted_at in rows:
        if invoice_id in seen:
            continue  # accepted twice (found again by a look-up): delivered once
        seen.add(invoice_id)
        try:
            when = _moment(accepted_at) if accepted_at else _moment(recorded_at)
        except ValueError:
            when = _moment(recorded_at)
        pending.append(PendingDelivery(invoice_id, official or provisional, provisional, when, audit_id))
    return pending, newest


def pending_deliveries(*, older_than_hours: float = 0, at: datetime | None = None) -> list[PendingDelivery]:
    """Accepted invoices not delivered yet, accepted at least older_than_hours ago, oldest first."""
    moment = at or now()
    pending, _ = _pending_after(_cursor())
    return [p for p in pending if p.hours_since(moment) >= older_than_hours]


# --- delivering ------------------------------------------------------------------------------------

def _deliver_one(item: PendingDelivery, folder: Path, clerk: str, result: DeliverResult) -> bool:
    """Write and record one invoice; True when it is done with (delivered or refused)."""
    loaded = load_invoice(item.number)
    if loaded is None:
        result.failed.append((item.number, "not found"))
        return False
    record, invoice = loaded
    refusal = export_refusal(invoice, record.official_number, item.number, record.status)
    row = InvoiceRow.get_by_id(item.invoice_id)
    if refusal is not None:
        with database.atomic("IMMEDIATE"):
            audit.append(REFUSED, clerk=clerk, invoice=row, detail={"reason": refusal[1]})
        result.refused.append((item.number, refusal[0]))
        return True
    try:
        from app.services.export import export_invoices  # reportlab and the face: only once there is one to write

        written = export_invoices([item.number], xml_dir=folder, pdf_dir=folder, clerk=clerk)
    except (OSError, DeskError) as error:
        message = error.describe("en") if isinstance(error, DeskError) else f"{type(error).__name__}: {error}"
        result.failed.append((item.number, message))
        return False
    with database.atomic("IMMEDIATE"):
        # Another pass (the round and the clerk's 立即交付 at once) may have recorded it meanwhile: once is enough.
        again = AuditEntry.select(AuditEntry.id).where((AuditEntry.invoice == row.id)
                                                       & (AuditEntry.action == DELIVERED)).exists()
        if not again or not item.audit_id:
            audit.append(DELIVERED, clerk=clerk, invoice=row,
                         detail={"folder": str(folder), "files": [f.path.name for f in written],
                                 "accepted_at": item.accepted_at.isoformat()})
    result.delivered.append(item.number)
    return True


def deliver_pending(limit: int = DEFAULT_LIMIT, *, folder: str | Path | None = None,
                    clerk: str = "deliver") -> DeliverResult:
    """Deliver up to `limit` pending invoices, oldest acceptance first, into `folder` or the folder set.

    With no folder given nor set: nothing is done (DeliverResult.folder is None), so a round may call it
    whatever the settings. A folder that cannot be written raises BadInput naming deliver.folder."""
    chosen = folder if folder is not None else deliver_folder()
    if chosen is None:
        return DeliverResult(folder=None)
    target = check_folder(chosen)
    result = DeliverResult(folder=target)
    pending, newest = _pending_after(_cursor())
    first_left: int | None = None
    for index, item in enumerate(pending):
        if index >= limit:
            first_left = item.audit_id if first_left is None else first_left
            result.remaining = len(pending) - index + len(result.failed)
            break
        if not _deliver_one(item, target, clerk, result) and first_left is None:
            first_left = item.audit_id
    else:
        result.remaining = len(result.failed)
    # Everything before the first invoice still pending is done with: the next read starts there.
    with database.atomic("IMMEDIATE"):
        _store_cursor(first_left - 1 if first_left is not None else newest)
    return result


def deliver_numbers(numbers: Sequence[str], *, folder: str | Path | None = None,
                    clerk: str = "deliver") -> DeliverResult:
    """Deliver the named invoices now (again, if they were delivered before), into `folder` or the folder set."""
    chosen = folder if folder is not None else deliver_folder()
    if chosen is None:
        raise BadInput("deliver.folder（交付文件夹）：尚未设置交付文件夹，请先设置（deliver --set-folder DIR）",
                       "deliver.folder (delivery folder): no folder set yet (deliver --set-folder DIR)")
    target = check_folder(chosen)
    result = DeliverResult(folder=target)
    errors: list[FieldError] = []
    items: list[PendingDelivery] = []
    for given in numbers:
        loaded = load_invoice(given.strip())
        if loaded is None:
            errors.append(FieldError("number", f"没有号码为 {given} 的发票", f"no invoice numbered {given}"))
            continue
        record, invoice = loaded
        refusal = export_refusal(invoice, record.official_number, given, record.status)
        if refusal is None and record.status != status.ACCEPTED:
            refusal = (f"{given} 尚未被平台接受（{record.status}），上传被接受后才交付",
                       f"{given} is not accepted by the platform yet ({record.status}); it is delivered once accepted")
        if refusal is not None:
            errors.append(FieldError("number", *refusal))
            continue
        assert record.official_number is not None
        items.append(PendingDelivery(record.id, record.official_number, record.provisional_number,
                                     _moment(record.accepted_at) if record.accepted_at else now(), 0))
    if errors:
        raise ValidationFailed(errors)
    for item in items:
        _deliver_one(item, target, clerk, result)
    return result

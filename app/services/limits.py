"""Offline limits on the store: the settings, what is held now, and the check the issue service makes.

The rules are in app/core/limits.py. "Held" means issued here and not yet accepted by the
platform: a direct-channel invoice not yet accepted (pending_upload) or a pre-issue record not yet
issued (pre_issue); cancelled, rejected and too-late ones are not held.
check_can_issue() runs inside the issue service's IMMEDIATE transaction, so two app
instances cannot both squeeze past a limit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import peewee

from app.core import status
from app.core.clock import now
from app.core.errors import ValidationFailed
from app.core.limits import (
    OfflineLimits,
    OfflineUsage,
    Remaining,
    check_new_invoices,
    limits_from_settings,
    limits_to_settings,
    remaining,
)
from app.core.money import ZERO, to_money
from app.services.settings import get_setting, set_setting
from app.store.models import Invoice as InvoiceRow
from app.store.models import WaitingTotals

SETTING_KEY = "offline_limits"


class OfflineLimitReached(ValidationFailed):
    """Issuing refused: a limit is reached; the errors name it. Nothing was stored."""


def get_limits() -> OfflineLimits:
    return limits_from_settings(get_setting(SETTING_KEY))


def set_limits(limits: OfflineLimits) -> None:
    set_setting(SETTING_KEY, limits_to_settings(limits))


def current_usage() -> OfflineUsage:
    """Count and amount from the triggers' totals (app/store/models.WaitingTotals); the oldest by index seeks,
    so that issuing stays as quick with 100,000 invoices waiting as with none."""
    totals = WaitingTotals.get_or_none(WaitingTotals.id == 1)
    count, amount, odd = (totals.count, totals.amount, totals.odd_offsets) if totals is not None else (0, ZERO, 0)
    candidates: list[datetime] = []
    for waiting in status.WAITING_STATUSES:
        # Times in Beijing's offset sort as text; the rare one with another offset is compared as a time.
        first = (InvoiceRow.select(peewee.fn.MIN(InvoiceRow.issued_at))
                 .where((InvoiceRow.status == waiting) & InvoiceRow.issued_at.endswith("+08:00")).scalar())
        if first:
            candidates.append(datetime.fromisoformat(first))
    if odd:
        candidates += [datetime.fromisoformat(r.issued_at) for r in InvoiceRow.select(InvoiceRow.issued_at).where(
            InvoiceRow.status.in_(status.WAITING_STATUSES) & ~InvoiceRow.issued_at.endswith("+08:00"))]
    return OfflineUsage(count=count, amount=to_money(amount), oldest_issued_at=min(candidates) if candidates else None)


def current_remaining(at: datetime | None = None) -> Remaining:
    """What the main window shows: time, count and amount left, with warnings."""
    return remaining(get_limits(), current_usage(), at or now())


def check_can_issue(amounts: list[Decimal]) -> None:
    """Raise OfflineLimitReached naming the limit; amounts are the new totals excluding tax."""
    errors = check_new_invoices(get_limits(), current_usage(), now(), amounts)
    if errors:
        raise OfflineLimitReached(errors)


def upload_deadline(issued_at: str, limits: OfflineLimits | None = None) -> datetime:
    return (limits or get_limits()).deadline(datetime.fromisoformat(issued_at))


def is_overdue(row_status: str, issued_at: str, at: datetime | None = None,
               limits: OfflineLimits | None = None) -> bool:
    """An invoice still held past its upload deadline."""
    return row_status in status.WAITING_STATUSES and (at or now()) > upload_deadline(issued_at, limits)


def overdue_invoices(at: datetime | None = None) -> list[InvoiceRow]:
    limits = get_limits()
    moment = at or now()
    rows = InvoiceRow.select().where(InvoiceRow.status.in_(status.WAITING_STATUSES)).order_by(InvoiceRow.issued_at)
    return [r for r in rows if moment > limits.deadline(datetime.fromisoformat(r.issued_at))]

"""Offline limits on the store: the settings, what is held now, and the check the issue service makes.

The rules are in app/core/limits.py. "Held" means issued here and not yet accepted by the
platform: a direct-channel invoice not yet accepted (pending_upload) or a pre-issue record not yet
issued (pre_issue); cancelled, rejected and too-late ones are not held.
check_can_issue() runs inside the issue service's IMMEDIATE transaction, so two app
instances cannot both squeeze past a limit.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

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
from app.core.money import to_money
from app.services.settings import get_setting, set_setting
from app.store.models import Invoice as InvoiceRow
from app.store.models import Setting, WaitingTotals

SETTING_KEY = "offline_limits"


class OfflineLimitReached(ValidationFailed):
    """Issuing refused: a limit is reached; the errors name it. Nothing was stored."""


def get_limits() -> OfflineLimits:
    return limits_from_settings(get_setting(SETTING_KEY))


def set_limits(limits: OfflineLimits) -> None:
    set_setting(SETTING_KEY, limits_to_settings(limits))


BEIJING_OFFSET = "+08:00"
# In one read: the limits' setting, the triggers' totals (app/store/models.WaitingTotals, absent: none) and
# for each waiting status the oldest issue time in Beijing's offset (one seek each on (status, issued_at)).
# The statuses and the pattern are constants written into the SQL: a LIKE pattern bound as a parameter makes
# SQLite prepare the statement again at every run (its plan may depend on the pattern).
assert all(waiting.isidentifier() for waiting in status.WAITING_STATUSES)
_OLDEST_SQL = (f'(SELECT MIN("issued_at") FROM "{InvoiceRow._meta.table_name}" '
               f"WHERE \"status\" = '{{status}}' AND \"issued_at\" LIKE '%{BEIJING_OFFSET}')")
_USAGE_SQL = (f'SELECT (SELECT "value" FROM "{Setting._meta.table_name}" WHERE "key" = ?), '
              't."count", t."amount", t."odd_offsets", '
              f'{", ".join(_OLDEST_SQL.format(status=waiting) for waiting in status.WAITING_STATUSES)} '
              f'FROM (SELECT 1) LEFT JOIN "{WaitingTotals._meta.table_name}" AS t ON t."id" = 1')


def _money(fen: int) -> Decimal:
    value = WaitingTotals.amount.python_value(fen)
    assert value is not None
    return value


def _limits_and_usage() -> tuple[OfflineLimits, OfflineUsage]:
    """get_limits() and current_usage(), read in one statement (two when some issue time has another offset)."""
    row = InvoiceRow._meta.database.execute_sql(_USAGE_SQL, (SETTING_KEY,)).fetchone()
    setting, count, amount, odd, *firsts = row
    limits = limits_from_settings(json.loads(setting) if setting is not None else None)
    if count is None:  # no totals row: nothing counted
        count, amount, odd = 0, 0, 0
    candidates = [datetime.fromisoformat(first) for first in firsts if first]
    if odd:
        # Times in Beijing's offset sort as text; the rare one with another offset is compared as a time.
        candidates += [datetime.fromisoformat(r.issued_at) for r in InvoiceRow.select(InvoiceRow.issued_at).where(
            InvoiceRow.status.in_(status.WAITING_STATUSES) & ~InvoiceRow.issued_at.endswith(BEIJING_OFFSET))]
    usage = OfflineUsage(count=int(count), amount=to_money(_money(amount)),
                         oldest_issued_at=min(candidates) if candidates else None)
    return limits, usage


def current_usage() -> OfflineUsage:
    """Count and amount from the triggers' totals (app/store/models.WaitingTotals); the oldest by index seeks,
    so that issuing stays as quick with 100,000 invoices waiting as with none."""
    return _limits_and_usage()[1]


def current_remaining(at: datetime | None = None) -> Remaining:
    """What the main window shows: time, count and amount left, with warnings."""
    return remaining(get_limits(), current_usage(), at or now())


def check_can_issue(amounts: list[Decimal]) -> None:
    """Raise OfflineLimitReached naming the limit; amounts are the new totals excluding tax."""
    limits, usage = _limits_and_usage()
    errors = check_new_invoices(limits, usage, now(), amounts)
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

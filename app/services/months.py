"""The monthly summary (汇总确认, shudian-rules.md section 5): from the 1st, the count, amount and tax of last
month's invoices are confirmed with the platform, once every invoice of it has its answer; from the 10th
the desk warns while it cannot; at 00:00 on the 13th the platform closes the month whatever the desk did.
A forgotten invoice of a confirmed month (the platform answers month_confirmed) withdraws the confirmation,
is uploaded, and the month is confirmed again.

`python -m app month-close [--period YYYYMM]`, the sync runtime (daily) and the tests call these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

import peewee

from app.core import clock, status
from app.core.deadlines import first_day, has_ended, month_close, next_period, parse_period, period_of, previous_period
from app.core.errors import FieldError, ValidationFailed
from app.core.money import ZERO, to_money
from app.platform.client import MonthClosed, PlatformError, SummaryAnswer
from app.store import audit
from app.store.models import Invoice as InvoiceRow
from app.store.models import MonthSummary, database

CONFIRMED = "confirmed"
MISMATCH = "mismatch"
WITHDRAWN = "withdrawn"
CLOSED = "closed"
WARN_FROM_DAY = 10  # warn from the 10th while last month is not confirmed


class SummaryClient(Protocol):
    def confirm_month(self, period: str, count: int, total_amount: Decimal, total_tax: Decimal) -> SummaryAnswer: ...

    def withdraw_month(self, period: str) -> None: ...


@dataclass(frozen=True)
class MonthFigures:
    period: str
    count: int  # invoices the platform holds (accepted), blue and red
    total_amount: Decimal
    total_tax: Decimal
    waiting: int  # invoices of the month still without the platform's answer


@dataclass(frozen=True)
class MonthResult:
    period: str
    state: str  # confirmed / mismatch / waiting / closed / withdrawn
    figures: MonthFigures
    platform: dict[str, Any] | None = None
    message: str = ""


def _dates(period: str) -> tuple[str, str]:
    start = first_day(period)
    end = first_day(next_period(period))
    return start.isoformat(), end.isoformat()


def figures(period: str) -> MonthFigures:
    """The month's figures as the store holds them: accepted invoices dated in it (issued_date is indexed)."""
    start, end = _dates(period)
    in_month = (InvoiceRow.issued_date >= start) & (InvoiceRow.issued_date < end)
    row = (InvoiceRow.select(peewee.fn.COUNT(InvoiceRow.id), peewee.fn.SUM(InvoiceRow.total_amount).coerce(False),
                             peewee.fn.SUM(InvoiceRow.total_tax).coerce(False))
           .where(in_month & (InvoiceRow.status == status.ACCEPTED)).tuples().first())
    count, amount, tax = row if row is not None else (0, None, None)
    waiting = InvoiceRow.select().where(in_month & InvoiceRow.status.in_(status.WAITING_STATUSES)).count()
    return MonthFigures(period, int(count or 0), _fen(amount), _fen(tax), waiting)


def _fen(value: Any) -> Decimal:
    return to_money(Decimal(value) / 100) if value else ZERO


def summary(period: str) -> MonthSummary | None:
    return MonthSummary.get_or_none(MonthSummary.period == period)


def _record(period: str, state: str, numbers: MonthFigures, platform: dict[str, Any] | None, clerk: str,
            action: str) -> None:
    stamp = clock.now_iso()
    with database.atomic("IMMEDIATE"):
        values = {"state": state, "count": numbers.count, "total_amount": numbers.total_amount,
                  "total_tax": numbers.total_tax, "platform_figures": json.dumps(platform or {}, ensure_ascii=False),
                  "updated_at": stamp}
        if state == CONFIRMED:
            values["confirmed_at"] = stamp
        MonthSummary.insert(period=period, **values).on_conflict(
            conflict_target=[MonthSummary.period], update=values).execute()
        audit.append(action, clerk=clerk, detail={"period": period, "count": numbers.count,
                                                  "total_amount": f"{numbers.total_amount:f}",
                                                  "total_tax": f"{numbers.total_tax:f}", "platform": platform or {}})


def check_period(text: object, at: datetime | None = None) -> str:
    """A period the clerk typed (YYYYMM) that has ended; ValidationFailed naming `period` otherwise."""
    if parse_period(text) is None:
        raise ValidationFailed([FieldError("period", f"所属期应为 YYYYMM（如 202611），不能是“{text}”",
                                           f"period must be YYYYMM (e.g. 202611), not {text!r}")])
    period = str(text)
    if not has_ended(period, clock.in_beijing(at or clock.now())):
        raise ValidationFailed([FieldError("period", f"{period} 尚未结束，月度汇总只能确认已结束的月份",
                                           f"{period} has not ended: only a past month can be confirmed")])
    return period


def confirm(client: SummaryClient, period: str | None = None, *, clerk: str = "",
            at: datetime | None = None) -> MonthResult:
    """Confirm a month (last month by default) once every invoice of it has the platform's answer."""
    moment = clock.in_beijing(at or clock.now())
    chosen = check_period(period or previous_period(period_of(moment)), moment)
    numbers = figures(chosen)
    if numbers.waiting:
        return MonthResult(chosen, "waiting", numbers, message=(
            f"{chosen} 还有 {numbers.waiting} 张发票未得到平台结果，全部上传后才能汇总确认 "
            f"({numbers.waiting} invoices of {chosen} still wait for the platform: confirm once all are uploaded)"))
    try:
        answer = client.confirm_month(chosen, numbers.count, numbers.total_amount, numbers.total_tax)
    except MonthClosed as closed:
        _record(chosen, CLOSED, numbers, closed.platform, clerk, "month_closed")
        return MonthResult(chosen, CLOSED, numbers, closed.platform,
                           f"{chosen} 已于 {month_close(chosen).date().isoformat()} 结账 (the month is closed)")
    if answer.confirmed:
        _record(chosen, CONFIRMED, numbers, None, clerk, "month_confirmed")
        return MonthResult(chosen, CONFIRMED, numbers, message=f"{chosen} 汇总已确认 (confirmed)")
    _record(chosen, MISMATCH, numbers, answer.platform, clerk, "month_mismatch")
    return MonthResult(chosen, MISMATCH, numbers, answer.platform, (
        f"{chosen} 汇总与平台不符：本机 {numbers.count} 张 / {numbers.total_amount:f} / {numbers.total_tax:f}，"
        f"平台 {answer.platform} (the platform's figures differ: reconcile the month)"))


def withdraw_for_late_upload(client: SummaryClient, period: str, clerk: str = "sync") -> None:
    """A forgotten invoice of a confirmed month: withdraw the confirmation so it can be uploaded."""
    client.withdraw_month(period)
    _record(period, WITHDRAWN, figures(period), None, clerk, "month_withdrawn")


def period_of_number_issue(invoice_id: int) -> str:
    row = InvoiceRow.get_by_id(invoice_id)
    return period_of(date.fromisoformat(row.issued_date))


@dataclass(frozen=True)
class MonthStatus:
    """What the status bar shows of last month's summary."""

    period: str  # last month
    state: str  # confirmed / mismatch / withdrawn / closed / open
    closes_at: datetime
    waiting: int
    warn: bool  # from the 10th while not confirmed


def month_status(at: datetime | None = None) -> MonthStatus:
    moment = clock.in_beijing(at or clock.now())
    period = previous_period(period_of(moment))
    row = summary(period)
    state = row.state if row is not None else "open"
    start, end = _dates(period)
    waiting = InvoiceRow.select().where((InvoiceRow.issued_date >= start) & (InvoiceRow.issued_date < end)
                                        & InvoiceRow.status.in_(status.WAITING_STATUSES)).count()
    closes = month_close(period)
    warn = state not in (CONFIRMED, CLOSED) and moment.day >= WARN_FROM_DAY and moment < closes
    return MonthStatus(period, state, closes, waiting, warn)


def confirm_if_due(client: SummaryClient, at: datetime | None = None, clerk: str = "sync") -> MonthResult | None:
    """From the 1st: last month, once it can be and while it is not confirmed (withdrawn included). A month in
    which this desk issued nothing on the direct channel is not this desk's to confirm."""
    status_now = month_status(at)
    if status_now.state in (CONFIRMED, CLOSED) or status_now.waiting:
        return None
    start, end = _dates(status_now.period)
    if not InvoiceRow.select().where((InvoiceRow.issued_date >= start) & (InvoiceRow.issued_date < end)
                                     & (InvoiceRow.channel == "direct")).exists():
        return None
    try:
        return confirm(client, status_now.period, clerk=clerk, at=at)
    except PlatformError:
        return None

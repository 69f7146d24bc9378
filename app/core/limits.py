"""Offline limits, as the tax-control systems (税控盘 / 税务UKey) enforce them.

Every invoice the desk issues is held locally until the platform accepts it. While some are
held, four limits apply:

- longest offline time (离线开票时限): hours since the oldest invoice not yet uploaded;
- most invoices not uploaded (离线发票张数);
- largest cumulative offline amount (离线正数发票累计金额): the sum of the totals excluding
  tax of the positive invoices not yet uploaded (red-letter ones do not free room);
- largest single invoice (单张发票开票限额): a positive invoice's total excluding tax, as the
  bureau's 万元版 / 十万元版 limits are reckoned.

Past a limit issuing is refused until the queue is uploaded; at WARN_FRACTION of one the
window warns. Pure: the store measures the usage (app/store/limits.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from app.core.errors import FieldError
from app.core.money import ZERO, format_money_grouped, parse_decimal, to_money

WARN_FRACTION = Decimal("0.8")
# Protocol v2: an invoice must reach the platform less than 48 hours after it was issued, so no
# offline time limit may be longer (a setting kept from v1's 72 hours is read as 48).
MAX_OFFLINE_HOURS = 48


@dataclass(frozen=True)
class OfflineLimits:
    max_hours: int = MAX_OFFLINE_HOURS
    max_count: int = 500
    max_amount: Decimal = Decimal("1000000.00")
    max_single: Decimal = Decimal("100000.00")

    def deadline(self, issued_at: datetime) -> datetime:
        """When an invoice issued at issued_at must be uploaded by."""
        return issued_at + timedelta(hours=self.max_hours)


@dataclass(frozen=True)
class OfflineUsage:
    """What is held locally: count, cumulative positive amount, the oldest issue time."""

    count: int = 0
    amount: Decimal = ZERO
    oldest_issued_at: datetime | None = None


@dataclass(frozen=True)
class Remaining:
    hours: Decimal | None  # None when nothing is held (the clock has not started)
    count: int
    amount: Decimal
    warnings: list[FieldError] = field(default_factory=list)  # at or past WARN_FRACTION
    exceeded: list[FieldError] = field(default_factory=list)  # past a limit: issuing refused

    @property
    def blocked(self) -> bool:
        return bool(self.exceeded)


def _limit_error(key: str, zh: str, en: str) -> FieldError:
    return FieldError(f"offline_limits.{key}", zh, en)


def remaining(limits: OfflineLimits, usage: OfflineUsage, now: datetime) -> Remaining:
    """What is left before each limit, with a warning at WARN_FRACTION and a block past it."""
    warnings: list[FieldError] = []
    exceeded: list[FieldError] = []
    hours_left: Decimal | None = None
    if usage.oldest_issued_at is not None:
        used = Decimal((now - usage.oldest_issued_at).total_seconds()) / 3600
        hours_left = (Decimal(limits.max_hours) - used).quantize(Decimal("0.1"))
        if used >= limits.max_hours:
            exceeded.append(_limit_error(
                "max_hours",
                f"最早一张未上传的发票已离线 {used:.1f} 小时，超过离线开票时限 {limits.max_hours} 小时；请先上传",
                f"the oldest invoice not uploaded has been offline {used:.1f} h, past the {limits.max_hours} h limit; "
                "upload first"))
        elif used >= limits.max_hours * WARN_FRACTION:
            warnings.append(_limit_error("max_hours", f"离线时间仅剩 {hours_left} 小时",
                                         f"only {hours_left} h of offline time left"))
    count_left = limits.max_count - usage.count
    if usage.count >= limits.max_count:
        exceeded.append(_limit_error(
            "max_count", f"未上传发票已达 {usage.count} 张，达到离线发票张数上限 {limits.max_count} 张；请先上传",
            f"{usage.count} invoices not uploaded, the limit is {limits.max_count}; upload first"))
    elif usage.count >= limits.max_count * WARN_FRACTION:
        warnings.append(_limit_error("max_count", f"离线发票仅剩 {count_left} 张",
                                     f"only {count_left} offline invoices left"))
    amount_left = limits.max_amount - usage.amount
    if usage.amount >= limits.max_amount:
        exceeded.append(_limit_error(
            "max_amount", f"离线累计金额 {format_money_grouped(usage.amount)} 已达上限 "
                          f"{format_money_grouped(limits.max_amount)}；请先上传",
            f"cumulative offline amount {format_money_grouped(usage.amount)} has reached the limit "
            f"{format_money_grouped(limits.max_amount)}; upload first"))
    elif usage.amount >= limits.max_amount * WARN_FRACTION:
        warnings.append(_limit_error("max_amount", f"离线累计金额仅剩 {format_money_grouped(amount_left)}",
                                     f"only {format_money_grouped(amount_left)} of cumulative offline amount left"))
    return Remaining(hours_left, max(count_left, 0), max(amount_left, ZERO), warnings, exceeded)


def check_new_invoices(limits: OfflineLimits, usage: OfflineUsage, now: datetime,
                       amounts: list[Decimal]) -> list[FieldError]:
    """Errors that refuse issuing invoices with these totals excluding tax (negative = red-letter)."""
    errors = list(remaining(limits, usage, now).exceeded)
    if errors:
        return errors
    for index, amount in enumerate(amounts):
        if amount > limits.max_single:
            prefix = f"[{index}]" if len(amounts) > 1 else ""
            errors.append(FieldError(
                f"{prefix}total_amount", f"不含税金额 {format_money_grouped(amount)} 超过单张发票开票限额 "
                f"{format_money_grouped(limits.max_single)}",
                f"{format_money_grouped(amount)} excluding tax exceeds the single-invoice limit "
                f"{format_money_grouped(limits.max_single)}"))
    if usage.count + len(amounts) > limits.max_count:
        errors.append(_limit_error(
            "max_count",
            f"再开 {len(amounts)} 张将超过离线发票张数上限 {limits.max_count} 张（未上传 {usage.count} 张）",
            f"{len(amounts)} more would pass the limit of {limits.max_count} invoices not uploaded "
            f"({usage.count} held)"))
    added = sum((a for a in amounts if a > 0), ZERO)
    if usage.amount + added > limits.max_amount:
        errors.append(_limit_error(
            "max_amount", f"开具后离线累计金额 {format_money_grouped(usage.amount + added)} 将超过上限 "
                          f"{format_money_grouped(limits.max_amount)}",
            f"the cumulative offline amount would be {format_money_grouped(usage.amount + added)}, past the limit "
            f"{format_money_grouped(limits.max_amount)}"))
    return errors


def limits_from_settings(value: Mapping[str, Any] | None) -> OfflineLimits:
    """Settings keep money as strings; missing keys take the defaults."""
    default = OfflineLimits()
    value = value or {}
    return OfflineLimits(
        max_hours=min(int(value.get("max_hours", default.max_hours)), MAX_OFFLINE_HOURS),
        max_count=int(value.get("max_count", default.max_count)),
        max_amount=Decimal(str(value.get("max_amount", default.max_amount))),
        max_single=Decimal(str(value.get("max_single", default.max_single))),
    )


def limits_to_settings(limits: OfflineLimits) -> dict[str, int | str]:
    """As kept in the settings (and shown to the clerk): counts as numbers, money as two-place strings."""
    return {"max_hours": limits.max_hours, "max_count": limits.max_count, "max_amount": f"{limits.max_amount:.2f}",
            "max_single": f"{limits.max_single:.2f}"}


def validate_limits(max_hours: object, max_count: object, max_amount: object,
                    max_single: object) -> tuple[OfflineLimits | None, list[FieldError]]:
    """Limits typed by a clerk: whole positive hours and counts, positive money."""

    errors: list[FieldError] = []
    whole: dict[str, int] = {}
    money: dict[str, Decimal] = {}
    for key, raw in (("max_hours", max_hours), ("max_count", max_count)):
        number = parse_decimal(raw)
        if number is None or number != number.to_integral_value() or number <= 0:
            errors.append(_limit_error(key, "应为正整数", "must be a positive whole number"))
        elif key == "max_hours" and number > MAX_OFFLINE_HOURS:
            errors.append(_limit_error(key, f"不能超过 {MAX_OFFLINE_HOURS} 小时（发票须在开具后 48 小时内上传）",
                                       f"cannot exceed {MAX_OFFLINE_HOURS} h (an invoice must be uploaded "
                                       "within 48 hours of issue)"))
        else:
            whole[key] = int(number)
    for key, raw in (("max_amount", max_amount), ("max_single", max_single)):
        number = parse_decimal(raw)
        if number is None or number <= 0 or number != to_money(number):
            errors.append(_limit_error(key, "应为正的金额（最多两位小数）",
                                       "must be a positive amount (two places at most)"))
        else:
            money[key] = to_money(number)
    if errors:
        return None, errors
    return OfflineLimits(max_hours=whole["max_hours"], max_count=whole["max_count"], max_amount=money["max_amount"],
                         max_single=money["max_single"]), []

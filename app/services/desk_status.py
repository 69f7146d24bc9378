"""What the desk shows of its channel, stock and deadlines (the status bar, the stock view): a read model.

desk_status(at) gathers, at one moment (Beijing):
- the channel (direct 直连 / platform 平台开具);
- direct: numbers left this year, until when (the year's end), the next number; quota left, held, drawn
  and valid until (app/services/stock.stock_view);
- the oldest invoice waiting to upload and the hours left to its 48-hour deadline (or its month's close,
  if sooner: app/core/deadlines.hours_left), invoices too late to upload, pre-issue records waiting;
- last month's summary state and close date (app/services/months.month_status);
- warnings, each a FieldError (field, Chinese, English).
Nothing here writes; every invoice query goes through the status index (app/store/deadline_queries.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from app.core import clock
from app.core.deadlines import hours_left as deadline_hours_left
from app.core.errors import FieldError
from app.core.money import ZERO, format_money_grouped
from app.core.official_numbers import REDRAW_SHARE
from app.services import months, stock
from app.services.channel import DIRECT, get_channel
from app.store import deadline_queries

DEADLINE_WARN_HOURS = 8.0  # warn when the oldest waiting invoice has this little of its 48 hours left

# Warning fields (FieldError.field): what the status bar and the stock view name.
W_NUMBERS = "numbers"
W_QUOTA = "quota"
W_DEADLINE = "upload_deadline"
W_TOO_LATE = "upload_too_late"
W_MONTH = "month_summary"


@dataclass(frozen=True)
class OldestWaiting:
    number: str
    issued_at: datetime
    deadline: datetime  # 48 hours after issue, or its month's close if sooner
    hours_left: float  # negative once past


@dataclass(frozen=True)
class DeskStatus:
    at: datetime
    channel: str
    # Numbers (direct channel): of the current year's held blocks.
    year: int
    numbers_left: int
    numbers_until: datetime  # the year's end: numbers left then are lost
    next_number: str | None
    # Quota (direct channel) of the current month.
    period: str
    quota_left: Decimal
    quota_held: Decimal
    quota_drawn: Decimal
    quota_valid_to: date | None
    requests_waiting: int  # number and quota requests asked and not answered yet
    # Invoices.
    waiting_upload: int  # direct-channel invoices not yet accepted (pending_upload)
    oldest_waiting: OldestWaiting | None
    too_late: int  # upload_too_late: never valid, to be issued again
    pre_issue: int  # platform channel: pre-issue records waiting for the platform
    # Last month's summary.
    month: months.MonthStatus
    warnings: tuple[FieldError, ...]

    @property
    def direct(self) -> bool:
        return self.channel == DIRECT

    def warning(self, field: str) -> FieldError | None:
        return next((w for w in self.warnings if w.field == field), None)


def _stamp(moment: datetime) -> str:
    return clock.in_beijing(moment).strftime("%Y-%m-%d %H:%M")


def desk_status(at: datetime | None = None) -> DeskStatus:
    moment = clock.in_beijing(at or clock.now())
    channel = get_channel()
    view = stock.stock_view(moment)
    settings = stock.get_stock_settings()
    oldest_row = deadline_queries.oldest_waiting_upload()
    oldest = None
    if oldest_row is not None:
        left = deadline_hours_left(oldest_row.issued_at, moment)
        oldest = OldestWaiting(oldest_row.number, clock.in_beijing(oldest_row.issued_at),
                               moment + timedelta(hours=left), left)
    too_late = deadline_queries.count_too_late()
    month = months.month_status(moment)

    warnings: list[FieldError] = []
    if channel == DIRECT:
        floor = max(settings.numbers_floor, view.current_block_count * REDRAW_SHARE)
        if view.numbers_left < floor:
            warnings.append(FieldError(
                W_NUMBERS, f"{view.year} 年发票号码仅剩 {view.numbers_left} 个，请联网补领号码段",
                f"only {view.numbers_left} invoice numbers of {view.year} are left: draw a block when online"))
        if view.quota_left < settings.quota_floor:
            left_text = format_money_grouped(max(view.quota_left, ZERO))
            warnings.append(FieldError(
                W_QUOTA, f"{view.period} 可用发票额度仅剩 ¥{left_text}，请联网下载额度",
                f"only ¥{left_text} of invoicing quota is left for {view.period}: download quota when online"))
    if oldest is not None and oldest.hours_left <= DEADLINE_WARN_HOURS:
        if oldest.hours_left > 0:
            warnings.append(FieldError(
                W_DEADLINE, f"发票 {oldest.number} 须在 {_stamp(oldest.deadline)} 前上传，仅剩 "
                            f"{oldest.hours_left:.1f} 小时；请尽快联网上传",
                f"invoice {oldest.number} must be uploaded by {_stamp(oldest.deadline)}, "
                f"{oldest.hours_left:.1f} h left: upload it soon"))
        else:
            warnings.append(FieldError(
                W_DEADLINE, f"发票 {oldest.number} 已过上传期限（{_stamp(oldest.deadline)}），平台将不再接受",
                f"invoice {oldest.number} is past its upload deadline ({_stamp(oldest.deadline)}): "
                f"the platform will refuse it"))
    if too_late:
        warnings.append(FieldError(
            W_TOO_LATE, f"{too_late} 张发票超期未上传，已失效，须重新开具",
            f"{too_late} invoices were not uploaded in time and are void: issue them again"))
    if month.warn:
        warnings.append(FieldError(
            W_MONTH, f"{month.period} 月度汇总尚未确认，{_stamp(month.closes_at)} 结账，请尽快上传并确认",
            f"the summary of {month.period} is not confirmed yet; the month closes {_stamp(month.closes_at)}"))

    return DeskStatus(
        at=moment, channel=channel, year=view.year, numbers_left=view.numbers_left, numbers_until=view.year_end,
        next_number=view.next_number, period=view.period, quota_left=view.quota_left, quota_held=view.quota_held,
        quota_drawn=view.quota_drawn, quota_valid_to=view.quota_valid_to,
        requests_waiting=len(view.numbers_waiting) + len(view.quota_waiting),
        waiting_upload=deadline_queries.count_waiting_upload(), oldest_waiting=oldest, too_late=too_late,
        pre_issue=deadline_queries.count_pre_issue(), month=month, warnings=tuple(warnings))


def reissued_as(invoice_id: int) -> str | None:
    """The number of the invoice that replaced a too-late one, or None while it has not been issued again."""
    return deadline_queries.reissued_as(invoice_id)

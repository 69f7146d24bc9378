"""The deadlines of 数电 invoicing (shudian-rules.md section 5), on Beijing's clock.

- An invoice issued through the direct channel reaches the platform less than 48 hours after it
  was issued, or it never becomes valid.
- A month closes at 00:00 on the 13th of the next month: its figures are fixed, later uploads of
  invoices dated in it are refused.
- Upload results can be read for 12 hours after the upload; after that, look the invoice up by number.
- Numbers of a year left unused at its end are lost.
Pure functions of the moments given.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from app.core.clock import BEIJING, in_beijing

UPLOAD_WINDOW = timedelta(hours=48)
RESULTS_KEPT = timedelta(hours=12)
MONTH_CLOSE_DAY = 13
# The filing deadline (申报期) the desk and the reference platform take as the end of a month's quota:
# the 15th of the next month (the official one moves with holidays; the platform's answer says which).
FILING_DAY = 15
SUMMARY_WARNING_DAY = 10  # from the 10th the desk warns while last month cannot be confirmed yet


def upload_deadline(issued_at: datetime) -> datetime:
    """The last moment an upload is still in time: strictly less than 48 hours after issue."""
    return in_beijing(issued_at) + UPLOAD_WINDOW


def period_of(moment: datetime | date) -> str:
    """YYYYMM of the Beijing month a moment (or a date) falls in."""
    day = in_beijing(moment).date() if isinstance(moment, datetime) else moment
    return f"{day.year:04d}{day.month:02d}"


def month_close(period: str) -> datetime:
    """00:00 Beijing on the 13th of the month after period (YYYYMM)."""
    year, month = _split(next_period(period))
    return datetime.combine(date(year, month, MONTH_CLOSE_DAY), time(0), BEIJING)


def is_month_closed(period: str, at: datetime) -> bool:
    return in_beijing(at) >= month_close(period)


def previous_period(period: str) -> str:
    year, month = _split(period)
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{year:04d}{month:02d}"


def year_end(year: int) -> datetime:
    """00:00 Beijing on 1 January of the next year: numbers of `year` are no longer issued from then."""
    return datetime.combine(date(year + 1, 1, 1), time(0), BEIJING)


def too_late(issued_at: datetime, uploaded_at: datetime) -> bool:
    """An upload at uploaded_at of an invoice issued at issued_at misses its 48-hour window, or its month."""
    return (in_beijing(uploaded_at) >= upload_deadline(issued_at)
            or is_month_closed(period_of(issued_at), uploaded_at))


def hours_left(issued_at: datetime, at: datetime) -> float:
    """Hours until the upload window of an invoice closes (the month's close, if sooner); negative once past."""
    deadline = min(upload_deadline(issued_at), month_close(period_of(issued_at)))
    return (deadline - in_beijing(at)).total_seconds() / 3600


def parse_period(text: object) -> tuple[int, int] | None:
    """(year, month) of a `YYYYMM`, or None when it is not one."""
    if not isinstance(text, str) or len(text) != 6 or not (text.isascii() and text.isdigit()):
        return None
    year, month = int(text[:4]), int(text[4:])
    if not (2000 <= year <= 2099 and 1 <= month <= 12):
        return None
    return year, month


def _split(period: str) -> tuple[int, int]:
    parsed = parse_period(period)
    if parsed is None:
        raise ValueError(f"period {period!r}")
    return parsed


def first_day(period: str) -> date:
    year, month = _split(period)
    return date(year, month, 1)


def filing_deadline(period: str) -> date:
    year, month = _split(next_period(period))
    return date(year, month, FILING_DAY)


def next_period(period: str) -> str:
    year, month = _split(period)
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}{month:02d}"


def has_ended(period: str, at: datetime) -> bool:
    return period < period_of(at)


def latest_close(at: datetime) -> datetime:
    """The last month-close moment at or before `at`."""
    local = in_beijing(at)
    this_month = datetime(local.year, local.month, MONTH_CLOSE_DAY, tzinfo=BEIJING)
    if local >= this_month:
        return this_month
    return month_close(previous_period(previous_period(period_of(local))))

"""The one clock of the desk: time in Beijing (CST, UTC+8), as invoices, deadlines and the audit log
record it, whatever the PC's own time zone. Nothing else calls datetime.now() or date.today()."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    """Now in Beijing, to the second (as an invoice's date and time are printed)."""
    return datetime.now(BEIJING).replace(microsecond=0)


def now_exact() -> datetime:
    """Now in Beijing, to the microsecond (for ordering and back-off)."""
    return datetime.now(BEIJING)


def now_iso() -> str:
    """Now in Beijing as ISO 8601 to the millisecond, as the audit log and the queue store it."""
    return datetime.now(BEIJING).isoformat(timespec="milliseconds")


def iso_in(seconds: float) -> str:
    """The moment `seconds` from now, as now_iso() writes it."""
    return (datetime.now(BEIJING) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def today() -> date:
    """Today's date in Beijing (a month closes at midnight CST, not at the PC's midnight)."""
    return datetime.now(BEIJING).date()


def in_beijing(moment: datetime) -> datetime:
    """The same moment on Beijing's clock (a naive moment is taken as Beijing time already)."""
    return moment.replace(tzinfo=BEIJING) if moment.tzinfo is None else moment.astimezone(BEIJING)

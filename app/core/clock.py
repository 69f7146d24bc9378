"""The one clock of the desk: time in Beijing (CST, UTC+8), as invoices, deadlines and the audit log
record it, whatever the PC's own time zone. Nothing else calls datetime.now() or date.today().

Tests move it with `shifted()` (an invoice's date is the desk's clock, never the body's: a test that needs an
invoice issued yesterday issues it on yesterday's clock, as the reference platform's clock moves by /_clock)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "CST")
_offset = timedelta(0)


def _now() -> datetime:
    return datetime.now(BEIJING) + _offset


@contextlib.contextmanager
def shifted(to: datetime) -> Iterator[None]:
    """Within the block the clock reads `to` (and runs on from there); afterwards it is real time again."""
    global _offset
    before = _offset
    _offset = in_beijing(to) - datetime.now(BEIJING)
    try:
        yield
    finally:
        _offset = before


def now() -> datetime:
    """Now in Beijing, to the second (as an invoice's date and time are printed)."""
    return _now().replace(microsecond=0)


def now_exact() -> datetime:
    """Now in Beijing, to the microsecond (for ordering and back-off)."""
    return _now()


def now_iso() -> str:
    """Now in Beijing as ISO 8601 to the millisecond, as the audit log and the queue store it."""
    return _now().isoformat(timespec="milliseconds")


def iso_in(seconds: float) -> str:
    """The moment `seconds` from now, as now_iso() writes it."""
    return (_now() + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def today() -> date:
    """Today's date in Beijing (a month closes at midnight CST, not at the PC's midnight)."""
    return _now().date()


def in_beijing(moment: datetime) -> datetime:
    """The same moment on Beijing's clock (a naive moment is taken as Beijing time already)."""
    return moment.replace(tzinfo=BEIJING) if moment.tzinfo is None else moment.astimezone(BEIJING)

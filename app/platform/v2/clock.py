"""The platform's clock: Beijing time, real time shifted by an offset that `POST /_clock` sets.

The clock keeps running after it is set: `{"now": T}` makes it read T now and T + 1 s a second later.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from app.core import clock


class PlatformClock:
    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return clock.now_exact() + offset

    def set(self, moment: datetime) -> datetime:
        with self._lock:
            self._offset = clock.in_beijing(moment) - clock.now_exact()
        return self.now()

    def advance(self, hours: float) -> datetime:
        with self._lock:
            self._offset += timedelta(hours=hours)
        return self.now()

    def reset(self) -> datetime:
        with self._lock:
            self._offset = timedelta(0)
        return self.now()

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset.total_seconds()


def stamp(moment: datetime) -> str:
    """A moment as stored and compared (Beijing, to the millisecond: one format, so text order is time order)."""
    return clock.in_beijing(moment).isoformat(timespec="milliseconds")


def shown(moment: datetime) -> str:
    """A moment as answered (Beijing, to the second, as the contract's examples)."""
    return clock.in_beijing(moment).isoformat(timespec="seconds")


def parse_stamp(text: str) -> datetime:
    return clock.in_beijing(datetime.fromisoformat(text))

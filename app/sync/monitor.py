"""The connectivity monitor: is the platform reachable, and since when is it not?

It polls GET /v2/health with the client's own request timeout (the one every upload waits): every
`interval` seconds while online, and with a growing back-off (`retry_min` doubling up to `retry_max`,
with jitter) while it is down. Plain Python callbacks, called on the monitor's thread (or, for an
upload's contact, the worker's; the UI marshals them to the GUI thread in app/ui/sync_runner.py); no Qt here.

States: ONLINE (health answers "ok" within the timeout; `slow` and `latency` say when it took longer than
`slow_after`: a slow platform is still there, and uploads to it work), DEGRADED (health says ok but uploads
keep failing: see report_upload_failure), OFFLINE (no good answer: a failure or a timeout).

Listeners (add_check_listener / add_state_listener / add_contact_listener):
    on_check(CheckResult)   after every poll: ok, error message, latency, slow, time
    on_state(StateChange)   when the state changes: previous, state, time, last good contact, error
    on_contact(datetime)    after every good contact (a good poll, an upload the platform answered)
A listener that raises is logged and skipped; it never stops the monitor.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from app.core import clock
from app.platform.client import PlatformClient, PlatformError, Unauthorized

log = logging.getLogger(__name__)

ONLINE, DEGRADED, OFFLINE = "online", "degraded", "offline"
UNKNOWN = "unknown"  # before the first check


@dataclass(frozen=True)
class CheckResult:
    at: datetime  # Beijing time of the check
    ok: bool  # the platform answered health with "ok"
    latency: float  # seconds
    error: str = ""  # why not, when not ok (never contains the token)
    slow: bool = False  # answered, but after more than the monitor's slow_after


@dataclass(frozen=True)
class StateChange:
    at: datetime
    previous: str
    state: str
    last_good_contact: datetime | None
    error: str = ""


def _now() -> datetime:
    return clock.now_exact()


class ConnectivityMonitor:
    def __init__(self, client_factory: Callable[[], PlatformClient], *, interval: float = 15.0,
                 retry_min: float = 2.0, retry_max: float = 60.0, slow_after: float = 2.0,
                 upload_failures_for_degraded: int = 3) -> None:
        self._client_factory = client_factory
        self._client: PlatformClient | None = None
        self.interval = interval
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.slow_after = slow_after
        self.upload_failures_for_degraded = upload_failures_for_degraded
        self.state = UNKNOWN
        self.last_good_contact: datetime | None = None
        self.last_error = ""
        self.latency: float | None = None  # of the last good poll, seconds
        self.slow = False  # the last good poll took longer than slow_after
        self._failed_in_row = 0
        self._upload_failures = 0
        self._check_listeners: list[Callable[[CheckResult], None]] = []
        self._state_listeners: list[Callable[[StateChange], None]] = []
        self._contact_listeners: list[Callable[[datetime], None]] = []
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- listeners -----------------------------------------------------------------------------

    def add_check_listener(self, listener: Callable[[CheckResult], None]) -> None:
        self._check_listeners.append(listener)

    def add_state_listener(self, listener: Callable[[StateChange], None]) -> None:
        self._state_listeners.append(listener)

    def add_contact_listener(self, listener: Callable[[datetime], None]) -> None:
        self._contact_listeners.append(listener)

    def _emit(self, listeners: list, event) -> None:
        for listener in list(listeners):
            try:
                listener(event)
            except Exception:
                log.exception("monitor listener failed")

    # --- checking ------------------------------------------------------------------------------

    def set_client_factory(self, client_factory: Callable[[], PlatformClient]) -> None:
        """A new URL or token: the next check uses it."""
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None
            self._client_factory = client_factory
        self.check_soon()

    def check(self) -> CheckResult:
        """Poll health once, now, on the calling thread; updates the state and calls the listeners."""
        with self._lock:
            if self._client is None:
                self._client = self._client_factory()
            client = self._client
        # The request runs outside the lock: the worker reporting an upload must never wait on it.
        started = time.monotonic()
        try:
            client.health()
            result = CheckResult(_now(), True, time.monotonic() - started)
        except Unauthorized as error:  # health needs no token; a 401 here is still an answer of sorts
            result = CheckResult(_now(), False, time.monotonic() - started, str(error))
        except PlatformError as error:
            result = CheckResult(_now(), False, time.monotonic() - started, str(error))
        except Exception as error:
            result = CheckResult(_now(), False, time.monotonic() - started, f"{type(error).__name__}: {error}")
        if result.ok and result.latency > self.slow_after:
            result = replace(result, slow=True)
        with self._lock:
            if result.ok:
                self._failed_in_row = 0
                self.latency, self.slow = result.latency, result.slow
                # Slow is not down: only a failure or a timeout (the client's) is offline.
                failing = self._upload_failures >= self.upload_failures_for_degraded
                new_state = DEGRADED if failing else ONLINE
                why = "uploads failing" if failing else ""
            else:
                self._failed_in_row += 1
                new_state = OFFLINE
                why = result.error
            self.last_error = why
            self._emit(self._check_listeners, result)
            if result.ok:
                self._contact(result.at)
            self._set_state(new_state, why, result.at)
            return result

    def _contact(self, at: datetime) -> None:
        """A good contact: 最近联系 moves on every one, not only when the state changes."""
        self.last_good_contact = at
        self._emit(self._contact_listeners, at)

    def _set_state(self, new_state: str, error: str, at: datetime) -> None:
        if new_state == self.state:
            return
        change = StateChange(at, self.state, new_state, self.last_good_contact, error)
        self.state = new_state
        self._emit(self._state_listeners, change)

    def report_upload_failure(self, message: str) -> None:
        """The worker saw a transient failure; enough of them while health is fine is DEGRADED."""
        with self._lock:
            self._upload_failures += 1
            if self.state == ONLINE and self._upload_failures >= self.upload_failures_for_degraded:
                self._set_state(DEGRADED, f"uploads failing: {message}", _now())

    def report_upload_success(self) -> None:
        """The platform answered an upload: a good contact, whatever the last poll said."""
        with self._lock:
            self._upload_failures = 0
            at = _now()
            self._contact(at)
            if self.state == DEGRADED:
                self._set_state(ONLINE, "", at)

    def next_delay(self) -> float:
        """Seconds to the next poll: the interval while answering, a jittered back-off while not."""
        if self._failed_in_row == 0:
            return self.interval
        delay = min(self.retry_max, self.retry_min * 2 ** (self._failed_in_row - 1))
        return delay * random.uniform(0.8, 1.0)

    # --- the thread ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="connectivity-monitor", daemon=True)
        self._thread.start()

    def check_soon(self) -> None:
        """Wake the thread to poll at once (e.g. the clerk pressed "upload now")."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check()
            self._wake.wait(self.next_delay())
            self._wake.clear()

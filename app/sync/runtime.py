"""The long-running loops wired together, without Qt: the connectivity monitor, the upload worker and
the outage feed. `python -m app sync` runs it in the foreground; the app runs it on background
threads (app/ui/sync_runner.py only turns its news into Qt signals). The wiring lives here once:

- a transient upload failure counts against the platform (monitor) and in the open outage (feed);
- an upload that works is a good contact; while the monitor still thinks the platform is down it
  looks again at once;
- when the platform answers again after an outage (or at first contact) everything waiting on its back-off is
  due at once and the worker runs a pass (QueueWorker.platform_back), and the daily round
  (app/sync/housekeeping.py: taxpayer, stock top-ups, tax codes, the monthly summary) runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from app.platform.client import PlatformClient
from app.services import stock
from app.sync.monitor import DEGRADED, OFFLINE, ONLINE, UNKNOWN, CheckResult, ConnectivityMonitor, StateChange
from app.sync.outage_feed import OutageFeed
from app.sync.worker import QueueWorker, WorkerEvent

ClientFactory = Callable[[], PlatformClient]
if TYPE_CHECKING:
    from app.sync.housekeeping import Housekeeping

REFILL_AT_MOST_EVERY = 300.0  # seconds


class SyncRuntime:
    def __init__(self, client_factory: ClientFactory, *, poll_interval: float = 15.0, retry_min: float = 2.0,
                 retry_max: float = 60.0, worker: QueueWorker | None = None, batch_size: int | None = None,
                 record_outages: bool = True, housekeeping: bool = True, housekeeping_interval: float = 600.0
                 ) -> None:
        self.client_factory = client_factory
        self.monitor = ConnectivityMonitor(client_factory, interval=poll_interval, retry_min=retry_min,
                                           retry_max=retry_max)
        if worker is None:
            worker = QueueWorker(client_factory) if batch_size is None else QueueWorker(client_factory,
                                                                                         batch_size=batch_size)
        self.worker = worker
        self.feed: OutageFeed | None = None
        # Built when started: its services (delivery, the XML file, the month, stock, tax codes) load then, after
        # the window shows, not while it is built.
        self.housekeeping: Housekeeping | None = None
        self._housekeeping_interval = housekeeping_interval if housekeeping else None
        self._refill_woken = -REFILL_AT_MOST_EVERY
        self._worker_thread: threading.Thread | None = None
        if record_outages:
            self.record_outages()
        self.monitor.add_state_listener(self._on_state)
        self.worker.add_listener(self._on_worker)

    # --- listeners (called on the monitor's or the worker's thread) --------------------------------

    def add_state_listener(self, listener: Callable[[StateChange], None]) -> None:
        self.monitor.add_state_listener(listener)

    def add_check_listener(self, listener: Callable[[CheckResult], None]) -> None:
        self.monitor.add_check_listener(listener)

    def add_contact_listener(self, listener: Callable[[datetime], None]) -> None:
        """Every good contact (a good poll, an upload the platform answered), on the thread that made it."""
        self.monitor.add_contact_listener(listener)

    def add_worker_listener(self, listener: Callable[[WorkerEvent], None]) -> None:
        self.worker.add_listener(listener)

    @property
    def state(self) -> str:
        return self.monitor.state

    # --- control ----------------------------------------------------------------------------------

    def record_outages(self) -> OutageFeed:
        """Feed the outage log from the monitor, and decide waiting cancellations when the platform
        answers again (once; a runtime built for a test may go without)."""
        if self.feed is None:
            self.feed = OutageFeed(self.monitor, self.client_factory)
        return self.feed

    def _start_housekeeping(self) -> None:
        if self.housekeeping is None and self._housekeeping_interval is not None:
            from app.sync.housekeeping import Housekeeping

            self.housekeeping = Housekeeping(self.client_factory, interval=self._housekeeping_interval)
        if self.housekeeping is not None:
            self.housekeeping.start()

    def start(self) -> None:
        """Poll and upload on background threads (the app)."""
        self.monitor.start()
        self._start_housekeeping()
        if self._worker_thread is None or not self._worker_thread.is_alive():
            self._worker_thread = threading.Thread(target=self.worker.run_forever, name="upload-worker",
                                                   daemon=True)
            self._worker_thread.start()

    def run_in_foreground(self) -> None:
        """Poll on a background thread and upload on this one until stop() (the `sync` command)."""
        self.monitor.start()
        self._start_housekeeping()
        try:
            self.worker.run_forever()
        finally:
            self.monitor.stop()
            if self.housekeeping is not None:
                self.housekeeping.stop()

    def stop(self, timeout: float = 10.0) -> None:
        self.worker.stop()
        self.monitor.stop()
        if self.housekeeping is not None:
            self.housekeeping.stop()
        if self._worker_thread is not None and self._worker_thread is not threading.current_thread():
            self._worker_thread.join(timeout)

    def wake(self) -> None:
        """Check the platform and run a pass at once."""
        self.monitor.check_soon()
        self.worker.wake()

    def set_client_factory(self, factory: ClientFactory) -> None:
        """A new platform URL or token: every loop uses it from now on."""
        self.client_factory = factory
        self.monitor.set_client_factory(factory)
        self.worker.set_client_factory(factory)
        if self.feed is not None:
            self.feed.client_factory = factory
        if self.housekeeping is not None:
            self.housekeeping.client_factory = factory
            self.housekeeping.wake()
        self.worker.wake()

    # --- the wiring --------------------------------------------------------------------------------

    def _on_state(self, change: StateChange) -> None:
        if change.state in (ONLINE, DEGRADED):
            if change.previous in (OFFLINE, UNKNOWN):
                # Back (or first contact): what waited out the outage goes now, not after its own back-off.
                self.worker.platform_back()
                if self.housekeeping is not None:
                    self.housekeeping.wake()  # refill the stock, look at the taxpayer and the month
            else:
                self.worker.wake()

    def _on_worker(self, event: WorkerEvent) -> None:
        if event.kind == "transient_failure":
            self.monitor.report_upload_failure(event.message)
            if self.feed is not None:
                self.feed.upload_failed(event.message)
        elif event.kind == "pass_done" and self.housekeeping is not None:
            # Issuing ran the stock low: refill while the platform answers (at most every few minutes, so a
            # month's quota that is spent is not asked for after every pass).
            if time.monotonic() - self._refill_woken >= REFILL_AT_MOST_EVERY and stock.needs_top_up():
                self._refill_woken = time.monotonic()
                self.housekeeping.wake()
        elif event.kind == "progress":
            self.monitor.report_upload_success()
            if self.monitor.state == OFFLINE:
                self.monitor.check_soon()  # uploads work again: let the monitor see it now

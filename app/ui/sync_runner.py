"""Runs the sync loops (app/sync/runtime.SyncRuntime: monitor, upload worker, outage feed) off the
GUI thread, and brings what they report to the GUI thread as Qt signals (queued connections: the
widgets only ever run on the GUI thread). No rules here: app.sync decides, this only carries the news.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.services import queue
from app.services.settings import make_client
from app.sync.monitor import DEGRADED, OFFLINE, ONLINE, UNKNOWN, CheckResult, ConnectivityMonitor, StateChange
from app.ui.tasks import BackgroundTask, Progress

if TYPE_CHECKING:
    from app.platform.client import PlatformClient
    from app.sync.outage_feed import OutageFeed
    from app.sync.runtime import SyncRuntime
    from app.sync.worker import QueueWorker, WorkerEvent


def default_client_factory() -> Callable[[], PlatformClient]:
    """The platform of the store's settings, read when called (a new URL or token applies at once)."""
    return lambda: make_client()


class SyncRunner(QObject):
    # state, last good contact (ISO or ""), why (error text or "")
    state_changed = Signal(str, str, str)
    # every good contact (a good poll, an upload the platform answered): its time, ISO
    contact_changed = Signal(str)
    # every good poll: how long health took (seconds), and whether that is slow
    latency_changed = Signal(float, bool)
    # waiting, needing attention (rejected)
    counts_changed = Signal(int, int)
    # invoices accepted or rejected since the last signal: the list should refresh
    progress = Signal(int, int)
    # the platform is back and the queue has drained: (went up, need attention)
    came_back = Signal(int, int)
    unauthorized = Signal(str)
    paused_changed = Signal(bool)
    # uploads are held after a restore (the reason), said once until released
    held = Signal(str)

    def __init__(self, client_factory: Callable[[], PlatformClient] | None = None, *, poll_interval: float = 15.0,
                 retry_min: float = 2.0, retry_max: float = 60.0, worker: QueueWorker | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runtime: SyncRuntime | None = None
        self._runtime_options = (client_factory, poll_interval, retry_min, retry_max, worker)
        self.state = UNKNOWN
        self.last_good_contact: datetime | None = None
        self.last_error = ""
        self._back_from_outage = False
        self._since_back = [0, 0]
        self._seen = [0, 0]  # accepted/rejected already reported by the current pass
        self._held_said: str | None = None
        self._tasks: list[BackgroundTask[int]] = []  # "upload now" store writes, kept alive while they run

    @property
    def runtime(self) -> SyncRuntime:
        """The loops, built on first use: the upload worker's modules (the platform client, the lifecycle
        services) load once the window is up, when the application starts them, not before its first paint."""
        if self._runtime is None:
            from app.sync.runtime import SyncRuntime

            client_factory, poll_interval, retry_min, retry_max, worker = self._runtime_options
            # The outage feed is added by start(record_outages=True): a runner built for a test may go without.
            runtime = SyncRuntime(client_factory or default_client_factory(), poll_interval=poll_interval,
                                  retry_min=retry_min, retry_max=retry_max, worker=worker, record_outages=False)
            runtime.add_state_listener(self._on_state)
            runtime.add_check_listener(self._on_check)
            runtime.add_contact_listener(self._on_contact)
            runtime.add_worker_listener(self._on_worker)
            self._runtime = runtime
        return self._runtime

    @property
    def monitor(self) -> ConnectivityMonitor:
        return self.runtime.monitor

    @property
    def worker(self) -> QueueWorker:
        return self.runtime.worker

    @property
    def feed(self) -> OutageFeed | None:
        return self.runtime.feed

    # --- control (GUI thread) ------------------------------------------------------------------

    def start(self, *, record_outages: bool = True) -> None:
        """Start polling and uploading. With record_outages the outage log is fed (app/sync/outage_feed)."""
        if record_outages:
            self.runtime.record_outages()
        self.runtime.start()
        self.refresh_counts()

    def stop(self) -> None:
        for task in list(self._tasks):
            task.wait()
        if self._runtime is not None:  # never built: nothing ran
            self._runtime.stop()

    def upload_now(self) -> BackgroundTask[int]:
        """Every row waiting to retry is due now (a store write, in a background thread: the upload
        worker may hold the write lock); then check the platform and run a pass at once."""
        def work(progress: Progress) -> int:
            return queue.make_due_now()

        task: BackgroundTask[int] = BackgroundTask(work, self)
        task.on_finished(self._upload_now_done)
        self._tasks.append(task)
        return task.start()

    def _upload_now_done(self) -> None:
        self._tasks = [t for t in self._tasks if not t.ended]
        self.runtime.wake()
        self.refresh_counts()

    def set_paused(self, paused: bool) -> None:
        self.worker.paused = paused
        if not paused:
            # Resuming is also how the clerk releases the hold a restore puts on uploads.
            queue.release_upload_hold(clerk="")
            self.worker.wake()
        self.paused_changed.emit(paused)

    @property
    def paused(self) -> bool:
        return self.worker.paused or queue.upload_hold() is not None

    def set_client_factory(self, factory: Callable[[], PlatformClient]) -> None:
        self.runtime.set_client_factory(factory)

    def refresh_counts(self) -> None:
        now = queue.waiting_counts()
        self.counts_changed.emit(now.waiting, now.rejected)

    def invoice_issued(self) -> None:
        """A new invoice waits: show it in the count, and send it if the platform is there."""
        self.refresh_counts()
        if self.state in (ONLINE, DEGRADED):
            self.worker.wake()

    # --- news from the other threads (emit only: Qt queues it to the GUI thread) ---------------

    def _on_check(self, result: CheckResult) -> None:
        if result.ok:
            self.latency_changed.emit(result.latency, result.slow)

    def _on_contact(self, at: datetime) -> None:
        self.last_good_contact = at
        self.contact_changed.emit(at.isoformat())

    def _on_state(self, change: StateChange) -> None:
        self.state = change.state
        self.last_error = change.error
        if change.state == OFFLINE:
            self._back_from_outage = True
            self._since_back = [0, 0]
        last = change.last_good_contact.isoformat() if change.last_good_contact else ""
        self.state_changed.emit(change.state, last, change.error)

    def _on_worker(self, event: WorkerEvent) -> None:
        report = event.report
        if event.kind == "progress":
            new = (report.accepted - self._seen[0], report.rejected - self._seen[1])
            self._seen = [report.accepted, report.rejected]
            self._since_back[0] += new[0]
            self._since_back[1] += new[1]
            self.progress.emit(*new)
        elif event.kind == "unauthorized":
            self.unauthorized.emit(event.message)
        elif event.kind == "held":
            if event.message != self._held_said:
                self._held_said = event.message
                self.held.emit(event.message)
        elif event.kind == "pass_done":
            self._seen = [0, 0]
            now = queue.waiting_counts()
            self.counts_changed.emit(now.waiting, now.rejected)
            if self._back_from_outage and self.state in (ONLINE, DEGRADED) and not report.transient_failures \
                    and (now.waiting == 0 or (report.accepted == 0 and report.rejected == 0)):
                self._back_from_outage = False
                self.came_back.emit(self._since_back[0], now.rejected)

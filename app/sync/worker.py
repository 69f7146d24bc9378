"""The upload queue worker: sends what was issued offline, in order, in batches, exactly once.

One pass (run_once):
 1. take the store's upload lock (only one worker sends at a time; a dead holder's lock is broken);
 2. rows left `sending` by a dead sender become unknown_outcome;
 3. every unknown_outcome row that is due is looked up by its key (GET /v1/invoices/{key}):
    found -> accepted; not found -> pending (sent again below); no answer -> stays, backed off;
 4. claim the next due rows (pending, retry_wait) oldest first, mark them `sending` (committed
    before the request leaves), POST them as one batch, record each result: accepted/duplicate ->
    accepted with the official number; rejected -> rejected with the platform's reasons (the
    others go on); a transient failure -> retry_wait, or unknown_outcome when the request may
    have arrived, with exponential back-off and jitter, never less than Retry-After;
 5. a 401 stops the pass: the rows go back to pending untouched and the report says why.
A pass ends when nothing is due, or at the first transient failure of a send (the platform is
struggling: the back-off decides when to try again).

run_forever() repeats passes until stopped, sleeping until the next row is due (or woken).
Listeners get WorkerEvent objects on the worker's thread; no Qt here.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from app.platform.client import (
    MAX_BATCH,
    BatchUnsupported,
    KeyConflict,
    PlatformClient,
    PlatformError,
    Rejected,
    SubmitResult,
    TransientFailure,
    Unauthorized,
)
from app.services import queue
from app.services.lifecycle import REQUEST_WAITING, resolve_cancellations
from app.store.models import CancellationRequest, UploadQueueEntry

log = logging.getLogger(__name__)


@dataclass
class PassReport:
    accepted: int = 0
    rejected: int = 0
    looked_up: int = 0
    transient_failures: int = 0
    last_error: str = ""
    unauthorized: str = ""  # the message, when the platform refused the token
    lock_busy: bool = False  # another worker holds the lock: this pass sent nothing
    held: str = ""  # uploads held after a restore (the reason): this pass sent nothing

    def add(self, other: PassReport) -> None:
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.looked_up += other.looked_up
        self.transient_failures += other.transient_failures
        self.last_error = other.last_error or self.last_error
        self.unauthorized = other.unauthorized
        self.lock_busy = other.lock_busy
        self.held = other.held


@dataclass(frozen=True)
class WorkerEvent:
    """kind: "progress" (some accepted/rejected), "transient_failure", "unauthorized", "lock_busy",
    "held" (uploads held after a restore), "pass_done"."""

    kind: str
    report: PassReport
    message: str = ""


@dataclass
class Backoff:
    base: float = 2.0  # seconds before the first retry
    cap: float = 300.0
    jitter: float = 0.5  # the delay is drawn from [(1 - jitter) × d, d]

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        exp = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        delay = exp * random.uniform(1 - self.jitter, 1.0)
        return max(delay, retry_after or 0.0)


class QueueWorker:
    def __init__(self, client_factory: Callable[[], PlatformClient], *, batch_size: int = MAX_BATCH,
                 backoff: Backoff | None = None, lock_ttl: float = 60.0, holder: str | None = None,
                 idle_poll: float = 5.0) -> None:
        self._client_factory = client_factory
        self._client: PlatformClient | None = None
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.backoff = backoff or Backoff()
        self.lock_ttl = lock_ttl
        self.holder = holder or f"worker-{uuid.uuid4().hex[:12]}"
        self.idle_poll = idle_poll
        self.batch_supported = True
        self.paused = False
        self._listeners: list[Callable[[WorkerEvent], None]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()

    def add_listener(self, listener: Callable[[WorkerEvent], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, kind: str, report: PassReport, message: str = "") -> None:
        for listener in list(self._listeners):
            try:
                listener(WorkerEvent(kind, report, message))
            except Exception:
                log.exception("worker listener failed")

    def set_client_factory(self, client_factory: Callable[[], PlatformClient]) -> None:
        self.close()
        self._client_factory = client_factory

    @property
    def client(self) -> PlatformClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- one pass ------------------------------------------------------------------------------

    def run_once(self) -> PassReport:
        report = PassReport()
        hold = queue.upload_hold()
        if hold is not None:
            report.held = hold.get("reason", "held")
            self._emit("held", report, report.held)
            self._emit("pass_done", report)
            return report
        if not queue.acquire_lock(self.holder, self.lock_ttl):
            report.lock_busy = True
            self._emit("lock_busy", report, "another worker is sending")
            return report
        try:
            queue.recover_in_flight(self.holder)
            while not self._stop.is_set():
                self._resolve_unknown(report)
                if report.unauthorized or report.transient_failures:
                    break
                if not queue.heartbeat(self.holder, self.lock_ttl):
                    raise queue.LockLost("上传锁已丢失", "lost the upload lock")
                items = queue.claim_batch(self.holder, self.batch_size)
                if not items:
                    break
                self._send(items, report)
                if report.unauthorized or report.transient_failures:
                    break
            self._resolve_cancellations()
        except queue.LockLost as error:
            report.lock_busy = True
            report.last_error = str(error)
        finally:
            queue.release_lock(self.holder)
        if report.unauthorized:
            self._emit("unauthorized", report, report.unauthorized)
        self._emit("pass_done", report)
        return report

    def _transient(self, report: PassReport, error: TransientFailure) -> None:
        report.transient_failures += 1
        report.last_error = str(error)
        self._emit("transient_failure", report, str(error))

    def _resolve_unknown(self, report: PassReport) -> None:
        failures_in_row = 0
        for index, item in enumerate(queue.due_unknown(limit=self.batch_size)):
            if index and index % 20 == 0 and not queue.heartbeat(self.holder, self.lock_ttl):
                raise queue.LockLost("上传锁已丢失", "lost the upload lock")  # many slow look-ups: keep the lock alive
            try:
                record = self.client.lookup(item.key)
            except Unauthorized as error:
                report.unauthorized = str(error)
                return
            except TransientFailure as error:
                wait = error.retry_after
                queue.record_failure([item.entry_id], f"look-up failed: {error}", outcome_unknown=True,
                                     delay_for=partial(self.backoff.delay, retry_after=wait))
                failures_in_row += 1
                if failures_in_row >= 3:  # the platform is struggling: stop asking for now
                    self._transient(report, error)
                    return
                continue
            except PlatformError as error:
                report.last_error = str(error)
                continue
            failures_in_row = 0
            report.looked_up += 1
            if record is None:
                queue.record_not_on_platform([item.entry_id])
            else:
                accepted, _ = queue.record_outcomes([queue.Outcome(
                    item.entry_id, True, record.get("official_number"), record.get("platform_id"),
                    record.get("accepted_at"), found_by="lookup")])
                report.accepted += accepted
                self._emit("progress", report)

    def _outcome(self, item: queue.QueueItem, result: SubmitResult) -> queue.Outcome:
        if result.is_accepted:
            return queue.Outcome(item.entry_id, True, result.official_number, result.platform_id, result.accepted_at)
        return queue.Outcome(item.entry_id, False, details=result.details)

    def _send(self, items: list[queue.QueueItem], report: PassReport) -> None:
        bodies = queue.invoice_bodies([i.invoice_id for i in items])
        try:
            if self.batch_supported:
                try:
                    results = self.client.submit_batch([(i.key, bodies[i.invoice_id]) for i in items])
                    outcomes = [self._outcome(i, r) for i, r in zip(items, results, strict=True)]
                except BatchUnsupported:
                    self.batch_supported = False
                    outcomes = self._send_one_by_one(items, bodies, report)
            else:
                outcomes = self._send_one_by_one(items, bodies, report)
        except Unauthorized as error:
            report.unauthorized = str(error)
            queue.release_unsent([i.entry_id for i in items], str(error))
            return
        except TransientFailure as error:
            wait = error.retry_after
            queue.record_failure([i.entry_id for i in items], str(error), outcome_unknown=error.outcome_unknown,
                                 delay_for=partial(self.backoff.delay, retry_after=wait))
            self._transient(report, error)
            return
        except Rejected as error:  # the batch as a whole was refused: a protocol problem, not the invoices'
            queue.record_failure([i.entry_id for i in items], f"batch refused: {error}", outcome_unknown=False,
                                 delay_for=lambda attempts: self.backoff.delay(attempts))
            self._transient(report, TransientFailure(str(error)))
            return
        accepted, rejected = queue.record_outcomes(outcomes)
        report.accepted += accepted
        report.rejected += rejected
        self._emit("progress", report)

    def _send_one_by_one(self, items, bodies, report: PassReport) -> list[queue.Outcome]:
        """For a platform without the batch endpoint. A transient failure part way records what
        was answered so far, then the rest waits."""
        outcomes: list[queue.Outcome] = []
        for index, item in enumerate(items):
            try:
                result = self.client.submit(item.key, bodies[item.invoice_id])
                outcomes.append(self._outcome(item, result))
            except Rejected as error:
                outcomes.append(queue.Outcome(item.entry_id, False, details=error.details))
            except KeyConflict as error:
                outcomes.append(queue.Outcome(item.entry_id, False,
                                              details=[{"field": "key", "message": "key_conflict",
                                                        "message_en": str(error)}]))
            except (TransientFailure, Unauthorized):
                queue.record_outcomes(outcomes)
                rest = [i.entry_id for i in items[index + 1:]]
                queue.release_unsent(rest, "not sent: an earlier invoice of the batch failed")
                items[:] = items[index:index + 1]
                raise
        return outcomes

    def _resolve_cancellations(self) -> None:
        """Cancellations waiting for an upload's outcome (app/services/lifecycle.py) can now be decided."""
        if not CancellationRequest.select().where(CancellationRequest.state == REQUEST_WAITING).exists():
            return

        def record_acceptance(entry: UploadQueueEntry, record: dict[str, Any]) -> None:
            queue.record_outcomes([queue.Outcome(entry.id, True, record.get("official_number"),
                                                 record.get("platform_id"), record.get("accepted_at"),
                                                 found_by="lookup")])

        try:
            resolve_cancellations(lookup=self.client.lookup, record_acceptance=record_acceptance)
        except PlatformError as error:
            log.info("cancellations wait: %s", error)

    # --- as a service ----------------------------------------------------------------------------

    def wake(self) -> None:
        """Run a pass now (the clerk pressed "upload now", or an invoice was just issued)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run_forever(self) -> None:
        """Passes until stop(); between them, sleep until the next row is due (at most idle_poll)."""
        self._stop.clear()
        try:
            while not self._stop.is_set():
                if not self.paused:
                    try:
                        report = self.run_once()
                    except Exception as error:
                        log.exception("upload pass failed")
                        report = PassReport(last_error=f"{type(error).__name__}: {error}")
                    wait = self.idle_poll
                    if not report.unauthorized and not report.lock_busy:
                        due = queue.next_due_in()
                        if due is not None:
                            wait = min(wait, max(due, 0.01))
                else:
                    wait = self.idle_poll
                self._wake.wait(wait)
                self._wake.clear()
        finally:
            self.close()

"""The upload queue worker: sends what was issued, in order, exactly once, by protocol v2.

One pass (run_once):
 1. take the store's upload lock (only one worker sends at a time; a dead holder's lock is broken);
 2. platform-channel entries left `sending` by a dead sender become unknown_outcome (sent again under
    the same key, which the platform answers with its first answer: never issued twice);
 3. direct channel (app/services/upload_batches.py): batches still `posting` are sent again as they are
    (same request id, same invoices); new batches of up to 100 due invoices are opened and posted, many
    before any result is read, so that the platform checks them meanwhile; the results of `awaiting`
    batches are read by acceptance id once due: accepted and duplicate are accepted, upload_too_late and
    month_closed mark the invoice too late for ever, month_confirmed withdraws the month's confirmation
    (app/services/months.py) and uploads again, other rejections are rejections; results that expired
    (410) are looked up by number;
 4. platform channel: pre-issue records are sent to POST /v2/issue one by one under their keys and become
    invoices with the platform's number, or are rejected with its reasons;
 5. a 401 stops the pass (nothing changes); a transient failure ends it with back-off and jitter, never
    less than Retry-After.
Every answer is checked by the client against what was sent (app/platform/http_client.py) before anything
of it is recorded: an answer that does not fit is a transient failure, never an acceptance.

run_forever() repeats passes until stopped, sleeping until the next entry or batch is due (or woken).
platform_back() (the monitor saw the platform answer again) makes every entry and open batch waiting on its
back-off due at once, on the worker's thread at the start of the next pass, and runs that pass now: the
back-off was the outage's, not the invoice's. Keys and request ids stay as they are (exactly once).
Listeners get WorkerEvent objects on the worker's thread; no Qt here.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from app.core import status as queue_status
from app.core.codec import pre_issue_body
from app.platform.client import (
    KeyConflict,
    PlatformClient,
    PlatformError,
    Rejected,
    ResultsExpired,
    TaxpayerRefused,
    TransientFailure,
    Unauthorized,
    UploadResult,
)
from app.platform.http_client import MAX_UPLOAD
from app.platform.transport import MAX_RETRY_AFTER
from app.services import months, queue, upload_batches
from app.services.lifecycle import REQUEST_WAITING, resolve_cancellations
from app.store.models import CancellationRequest, UploadQueueEntry
from app.store.models import Invoice as InvoiceRow

log = logging.getLogger(__name__)

TOO_LATE_ERRORS = ("upload_too_late", "month_closed")
MAX_OPEN_BATCHES = 50  # posted before their results are read: 5,000 invoices in flight at most


@dataclass
class PassReport:
    accepted: int = 0
    rejected: int = 0
    sent: int = 0  # direct-channel invoices the platform took for checking
    looked_up: int = 0
    transient_failures: int = 0
    last_error: str = ""
    unauthorized: str = ""  # the message, when the platform refused the token
    lock_busy: bool = False  # another worker holds the lock: this pass sent nothing
    held: str = ""  # uploads held after a restore (the reason): this pass sent nothing

    def add(self, other: PassReport) -> None:
        self.accepted += other.accepted
        self.sent += other.sent
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

    retry_after_cap: float = MAX_RETRY_AFTER  # a platform's Retry-After is honoured up to this (never days)

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        exp = min(self.cap, self.base * 2 ** max(0, min(attempts, 64) - 1))
        delay = exp * random.uniform(1 - self.jitter, 1.0)
        asked = retry_after if isinstance(retry_after, (int, float)) and math.isfinite(retry_after) else 0.0
        return max(delay, min(max(asked, 0.0), self.retry_after_cap))


def _number_taken(number: str, invoice_id: int) -> str:
    """Why the platform's number cannot be this invoice's ("" when it can): the desk holds it for another one."""
    other = InvoiceRow.select(InvoiceRow.provisional_number).where(
        ((InvoiceRow.official_number == number) | (InvoiceRow.provisional_number == number))
        & (InvoiceRow.id != invoice_id)).first()
    if other is None:
        return ""
    return f"number {number} is already the desk's invoice {other.provisional_number}"


class _NotPosted(Exception):
    """A batch not sent because the call before it failed."""


class QueueWorker:
    def __init__(self, client_factory: Callable[[], PlatformClient], *, batch_size: int = MAX_UPLOAD,
                 backoff: Backoff | None = None, lock_ttl: float = 60.0, holder: str | None = None,
                 idle_poll: float = 5.0, result_wait: float = 1.0, result_wait_cap: float = 60.0,
                 pass_wait: float = 30.0) -> None:
        self._client_factory = client_factory
        self._client: PlatformClient | None = None
        self.batch_size = max(1, min(batch_size, MAX_UPLOAD))
        self.backoff = backoff or Backoff()
        self.lock_ttl = lock_ttl
        self.holder = holder or f"worker-{uuid.uuid4().hex[:12]}"
        self.idle_poll = idle_poll
        self.result_wait = result_wait  # before the first read of an upload's results
        self.result_wait_cap = result_wait_cap
        self.pass_wait = pass_wait  # how long one pass waits for results still processing
        self.paused = False
        self._listeners: list[Callable[[WorkerEvent], None]] = []
        self._post_pool: ThreadPoolExecutor | None = None
        self._post_client: PlatformClient | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._back = threading.Event()  # the platform answers again: what waits is due now

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
        if self._post_pool is not None:
            self._post_pool.shutdown(wait=True)
            self._post_pool = None
        for client in (self._client, self._post_client):
            if client is not None:
                client.close()
        self._client = self._post_client = None

    # --- one pass ------------------------------------------------------------------------------

    def run_once(self) -> PassReport:
        report = PassReport()
        hold = queue.upload_hold()
        if hold is not None:
            report.held = hold.get("reason", "held")
            self._emit("held", report, report.held)
            self._emit("pass_done", report)
            return report
        self._catch_up()  # before the lock: another instance's sender (same store) finds them due too
        if not queue.acquire_lock(self.holder, self.lock_ttl):
            report.lock_busy = True
            self._emit("lock_busy", report, "another worker is sending")
            return report
        try:
            queue.recover_in_flight(self.holder)
            self._pass(report)
            self._resolve_cancellations()
        except queue.LockLost as error:
            report.lock_busy = True
            report.last_error = str(error)
        finally:
            if self._post_pool is not None:  # the poster thread lives for one pass (its client stays)
                self._post_pool.shutdown(wait=True)
                self._post_pool = None
            queue.release_lock(self.holder)
        if report.unauthorized:
            self._emit("unauthorized", report, report.unauthorized)
        self._emit("pass_done", report)
        return report

    def _stopped(self, report: PassReport) -> bool:
        return self._stop.is_set() or bool(report.unauthorized or report.transient_failures)

    def _keep_lock(self) -> None:
        if not queue.heartbeat(self.holder, self.lock_ttl):
            raise queue.LockLost("上传锁已丢失", "lost the upload lock")

    def _pass(self, report: PassReport) -> None:
        waited_since = time.monotonic()
        while not self._stopped(report):
            self._keep_lock()
            worked = self._post_batches(report)
            if not self._stopped(report):
                worked = self._read_results(report) or worked
            if not self._stopped(report):
                worked = self._look_up(report) or worked
            if not self._stopped(report):
                worked = self._issue_pre_issue_records(report) or worked
            if worked or self._catch_up():
                waited_since = time.monotonic()
                continue
            # Nothing to do now: what falls due within the pass's wait (results still processing, a short
            # back-off) is waited for, so that one pass ends drained; anything later is the next pass's.
            due = queue.next_due_in()
            budget = self.pass_wait - (time.monotonic() - waited_since)
            if due is None or due > budget:
                return
            self._wake.wait(min(0.2, max(0.01, due)))
            self._wake.clear()

    # --- direct channel --------------------------------------------------------------------------

    def _transient(self, report: PassReport, error: PlatformError) -> None:
        report.transient_failures += 1
        report.last_error = str(error)
        self._emit("transient_failure", report, str(error))

    def _post_batches(self, report: PassReport) -> bool:
        """Batches left `posting` first (as they are), then new ones, up to MAX_OPEN_BATCHES awaiting.

        While one batch is on its way (on the poster thread, with its own client), the next is opened and its
        bodies made here: the store's work overlaps the platform's. Every write stays on this thread."""
        worked = False
        in_flight: tuple[upload_batches.Batch, Future[str]] | None = None
        try:
            for batch in upload_batches.due_batches(queue_status.B_POSTING, limit=MAX_OPEN_BATCHES):
                worked = True
                if not self._settle(in_flight, report):
                    in_flight = None
                    return worked
                in_flight = self._start_post(batch)
            while upload_batches.open_count() < MAX_OPEN_BATCHES + (1 if in_flight else 0) \
                    and not self._stop.is_set():
                opened = upload_batches.open_batch(self.holder, self.batch_size)
                if opened is None:
                    break
                worked = True
                next_post = self._start_post(opened, after=in_flight[1] if in_flight else None)
                settled = self._settle(in_flight, report)
                in_flight = next_post
                if not settled:
                    break
            self._settle(in_flight, report)
            in_flight = None
        finally:
            if in_flight is not None:  # stopped by an error: wait for the call, its batch is asked again later
                in_flight[1].exception()
        return worked

    def _poster(self) -> ThreadPoolExecutor:
        if self._post_pool is None:
            self._post_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-poster")
        return self._post_pool

    def _poster_client(self) -> PlatformClient:
        if self._post_client is None:
            self._post_client = self._client_factory()
        return self._post_client

    def _start_post(self, batch: upload_batches.Batch, after: Future[str] | None = None
                    ) -> tuple[upload_batches.Batch, Future[str]]:
        bodies = queue.invoice_bodies([item.invoice_id for item in batch.items])
        sent = [bodies[item.invoice_id] for item in batch.items]

        def post() -> str:
            # One call at a time, in order; after a failure the next is not sent (it stays `posting`, first
            # of the next pass).
            if after is not None and after.exception() is not None:
                raise _NotPosted
            return self._poster_client().upload(batch.request_id, sent)

        return batch, self._poster().submit(post)

    def _settle(self, posted: tuple[upload_batches.Batch, Future[str]] | None, report: PassReport) -> bool:
        """Record what became of a posted batch; False when the pass must stop posting."""
        if posted is None:
            return True
        batch, future = posted
        try:
            acceptance = future.result()
        except _NotPosted:
            return False
        except Unauthorized as error:
            report.unauthorized = str(error)
            upload_batches.record_batch_failure(batch.id, str(error), self.idle_poll)
            return False
        except (Rejected, KeyConflict) as refusal:  # the call refused as a whole: nothing of it was kept
            upload_batches.dissolve(batch.id, f"upload refused: {refusal.describe('en')}")
            report.last_error = str(refusal)
            return True
        except (TransientFailure, TaxpayerRefused) as error:
            delay = self.backoff.delay(batch.attempts + 1, getattr(error, "retry_after", None))
            upload_batches.record_batch_failure(batch.id, str(error), delay)
            self._transient(report, error)
            return False
        upload_batches.record_answer(batch, acceptance, self.result_wait)
        report.sent += len(batch.items)
        return True

    def _read_results(self, report: PassReport) -> bool:
        worked = False
        for batch in upload_batches.due_batches(queue_status.B_AWAITING, limit=MAX_OPEN_BATCHES):
            assert batch.acceptance_id is not None
            try:
                results = self.client.upload_results(batch.acceptance_id, batch.numbers)
            except Unauthorized as error:
                report.unauthorized = str(error)
                return worked
            except ResultsExpired:
                upload_batches.expire(batch.id)
                worked = True
                continue
            except TransientFailure as error:
                upload_batches.record_batch_failure(batch.id, str(error),
                                                    self.backoff.delay(batch.attempts + 1, error.retry_after))
                self._transient(report, error)
                return worked
            worked = True
            self._record_results(batch, results, report)
        return worked

    def _record_results(self, batch: upload_batches.Batch, results: list[UploadResult], report: PassReport) -> None:
        outcomes: list[queue.Outcome] = []
        confirmed_months: dict[str, list[int]] = {}
        processing = 0
        for item, result in zip(batch.items, results, strict=True):
            if result.status == "processing":
                processing += 1
            elif result.is_accepted:
                outcomes.append(queue.Outcome(item.entry_id, True, item.number, accepted_at=result.accepted_at,
                                              found_by="results"))
            elif result.error == "month_confirmed":
                confirmed_months.setdefault(months.period_of_number_issue(item.invoice_id), []).append(item.entry_id)
            else:
                outcomes.append(queue.Outcome(item.entry_id, False, details=result.details, found_by="results",
                                              too_late=result.error in TOO_LATE_ERRORS, error=result.error))
        accepted, rejected = queue.record_outcomes(outcomes)
        report.accepted += accepted
        report.rejected += rejected
        for period, entry_ids in confirmed_months.items():
            # A forgotten invoice of a confirmed month: withdraw the confirmation, upload it again, confirm later.
            months.withdraw_for_late_upload(self.client, period)
            queue.send_again(entry_ids, f"month {period} was confirmed: confirmation withdrawn, uploaded again")
        if accepted or rejected:
            self._emit("progress", report)
        if processing:
            upload_batches.wait_again(batch.id, min(self.result_wait_cap,
                                                    self.result_wait * 2 ** min(batch.attempts + 1, 10)))
        else:
            upload_batches.close_if_done(batch.id)

    def _look_up(self, report: PassReport) -> bool:
        items = upload_batches.due_lookups(limit=self.batch_size)
        failures = 0
        for index, item in enumerate(items):
            if index and index % 20 == 0:
                self._keep_lock()
            try:
                record = self.client.invoice_by_number(item.number)
            except Unauthorized as error:
                report.unauthorized = str(error)
                return True
            except TransientFailure as error:
                upload_batches.record_lookup_failure(item.entry_id, f"look-up failed: {error}",
                                                     self.backoff.delay(item.attempts, error.retry_after))
                failures += 1
                if failures >= 3:  # the platform is struggling: stop asking for now
                    self._transient(report, error)
                    return True
                continue
            report.looked_up += 1
            if record is None:
                upload_batches.record_not_held([item.entry_id])
                continue
            mismatch = queue.record_mismatch(item.invoice_id, record)
            if mismatch:
                # Held under our number with another content: not ours to believe; the clerk reconciles.
                queue.record_outcomes([queue.Outcome(item.entry_id, False, found_by="lookup", error="number_used",
                                                     details=[{"field": "number", "message": mismatch}])])
                report.rejected += 1
            else:
                accepted, _ = queue.record_outcomes([queue.Outcome(
                    item.entry_id, True, item.number, accepted_at=str(record.get("accepted_at") or ""),
                    found_by="lookup")])
                report.accepted += accepted
            self._emit("progress", report)
        return bool(items)

    # --- platform channel ------------------------------------------------------------------------

    def _issue_pre_issue_records(self, report: PassReport) -> bool:
        items = queue.claim_batch(self.holder, self.batch_size, channel="platform")
        if not items:
            return False
        bodies = queue.invoice_bodies([item.invoice_id for item in items])
        for index, item in enumerate(items):
            if self._stop.is_set():
                queue.release_unsent([i.entry_id for i in items[index:]], "worker stopping")
                return True
            try:
                record = self.client.issue(item.key, pre_issue_body(bodies[item.invoice_id]))
            except Unauthorized as error:
                report.unauthorized = str(error)
                queue.release_unsent([i.entry_id for i in items[index:]], str(error))
                return True
            except (Rejected, KeyConflict) as refusal:
                details = refusal.details if isinstance(refusal, Rejected) else [
                    {"field": "key", "message": "key_conflict", "message_en": str(refusal)}]
                _, rejected = queue.record_outcomes([queue.Outcome(item.entry_id, False, details=details,
                                                                   error=getattr(refusal, "code", ""))])
                report.rejected += rejected
                self._emit("progress", report)
                continue
            except (TransientFailure, TaxpayerRefused) as error:
                unknown = isinstance(error, TransientFailure) and error.outcome_unknown
                wait = getattr(error, "retry_after", None)
                queue.record_failure([item.entry_id], str(error), outcome_unknown=unknown,
                                     delay_for=partial(self.backoff.delay, retry_after=wait))
                # The rest wait as long (never less than Retry-After): the platform is struggling.
                queue.postpone([i.entry_id for i in items[index + 1:]], self.backoff.delay(item.attempts, wait),
                               f"not sent: the platform failed on the record before ({error})")
                self._transient(report, error)
                return True
            taken = _number_taken(str(record["number"]), item.invoice_id)
            if taken:
                # An answer that gives us a number the desk already holds for another invoice is not of this one:
                # asked again later under the same key (the platform then answers its first answer).
                unfit = TransientFailure(f"平台应答不符合协议 (unexpected answer to issue: {taken})",
                                         outcome_unknown=True)
                queue.record_failure([item.entry_id], str(unfit), outcome_unknown=True,
                                     delay_for=self.backoff.delay)
                queue.postpone([i.entry_id for i in items[index + 1:]], self.backoff.delay(item.attempts),
                               f"not sent: the platform's answer to the record before did not fit ({unfit})")
                self._transient(report, unfit)
                return True
            accepted, _ = queue.record_outcomes([queue.Outcome(
                item.entry_id, True, str(record["number"]), accepted_at=str(record.get("accepted_at") or ""))])
            report.accepted += accepted
            self._emit("progress", report)
        return True

    def _resolve_cancellations(self) -> None:
        """Cancellations waiting for an upload's outcome (app/services/lifecycle.py) can now be decided."""
        if not CancellationRequest.select().where(CancellationRequest.state == REQUEST_WAITING).exists():
            return

        def record_acceptance(entry: UploadQueueEntry, record: dict[str, Any]) -> None:
            taken = _number_taken(str(record.get("number")), entry.invoice_id)
            if taken:
                raise TransientFailure(f"平台记录与本机发票不符，未采信 (the platform's record does not fit: {taken})")
            queue.record_outcomes([queue.Outcome(entry.id, True, record.get("number"),
                                                 accepted_at=record.get("accepted_at"), found_by="lookup")])

        try:
            resolve_cancellations(lookup=self._lookup_for_cancellation, record_acceptance=record_acceptance)
        except PlatformError as error:
            log.info("cancellations wait: %s", error)

    def _lookup_for_cancellation(self, entry: UploadQueueEntry) -> dict[str, Any] | None:
        return queue.look_up_entry(self.client, entry)

    # --- as a service ----------------------------------------------------------------------------

    def wake(self) -> None:
        """Run a pass now (the clerk pressed "upload now", or an invoice was just issued)."""
        self._wake.set()

    def platform_back(self) -> None:
        """The platform answers again after an outage: what waits on its back-off goes in a pass run now."""
        self._back.set()
        self._wake.set()

    def _catch_up(self) -> bool:
        """After platform_back(): every retry_wait / unknown_outcome / lookup entry and open batch due now (rejected
        and final ones are not touched). True when it was asked for."""
        if not self._back.is_set():
            return False
        self._back.clear()
        try:
            queue.make_due_now()
        except Exception:
            self._back.set()  # the store was busy: the next pass tries again
            raise
        return True

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
                    if self._back.is_set():
                        wait = 0.0  # came back during the pass: the next one at once
                    elif not report.unauthorized and not report.lock_busy:
                        due = queue.next_due_in()
                        if due is not None:
                            wait = min(wait, max(due, 0.01))
                else:
                    wait = self.idle_poll
                self._wake.wait(wait)
                self._wake.clear()
        finally:
            self.close()

"""The desk's daily round with the platform, while it answers (platform-api-v2.md, shudian-rules.md section 5):

- the taxpayer's status and risk (GET /v2/taxpayer): at the first contact, then about every 24 hours;
- the direct channel's stock: numbers and quota topped up below their floors (app/services/stock.top_up,
  which asks again under the same request id what an earlier lost answer left waiting);
- the tax classification table: about every 24 hours;
- the monthly summary: from the 1st, last month confirmed once every invoice of it has its answer;
- red-letter forms (app/services/red_forms.py): requests recorded while the platform was away sent in the order
  recorded (each under the request id committed before it was first sent), decisions waiting sent, then every
  form refreshed (the buyer's 03 forms appear, the desk's own move on: 04, 05, 07 after 72 hours); each outcome
  reached is a message for the clerk in the round's report (and kept on the form until shown);
- delivery: the face and XML of each invoice the platform accepted, into the deliver folder the clerk
  chose (app/services/deliver.py), within the 48 hours the buyer must have them.

One round (run_once) does what is due; the loop (run_forever) runs a round at start, when the platform
answers again after an outage (wake), and every `interval` seconds. A failure of one step is logged and
reported, never raised: the next round tries again. No Qt here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.core import clock
from app.platform.client import PlatformClient, PlatformError
from app.services import deliver, months, red_forms, stock, taxcodes, taxpayer
from app.services.channel import is_direct
from app.services.search_index import tidy_search_index
from app.services.settings import get_setting, set_setting

log = logging.getLogger(__name__)

TAX_CODES_CHECKED = "taxcodes.checked_at"
DAILY = timedelta(hours=24)


@dataclass
class RoundReport:
    at: datetime
    done: list[str] = field(default_factory=list)  # taxpayer / stock / tax_codes / month
    errors: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # what the clerk should read (a refusal, a mismatch)


def _tax_codes_due(at: datetime) -> bool:
    checked = get_setting(TAX_CODES_CHECKED)
    try:
        return not isinstance(checked, str) or at - datetime.fromisoformat(checked) >= DAILY
    except ValueError:
        return True


class Housekeeping:
    def __init__(self, client_factory: Callable[[], PlatformClient], *, interval: float = 600.0) -> None:
        self.client_factory = client_factory
        self.interval = interval
        self.last: RoundReport | None = None
        self._listeners: list[Callable[[RoundReport], None]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add_listener(self, listener: Callable[[RoundReport], None]) -> None:
        self._listeners.append(listener)

    def run_once(self, at: datetime | None = None) -> RoundReport:
        moment = clock.in_beijing(at or clock.now())
        report = RoundReport(moment)
        client = self.client_factory()
        try:
            self._step(report, "taxpayer", lambda: self._taxpayer(client, moment))
            if is_direct():
                self._step(report, "stock", lambda: self._stock(client, report))
            if _tax_codes_due(moment):
                self._step(report, "tax_codes", lambda: self._tax_codes(client, moment))
            if is_direct():
                self._step(report, "month", lambda: self._month(client, moment, report))
            self._step(report, "red_forms", lambda: self._red_forms(client, report))
            # The face and XML of what the platform accepted, into the deliver folder (when one is set).
            self._step(report, "deliver", lambda: bool(deliver.deliver_pending(limit=200).delivered))
            # The segments each issue added to the search index, merged here, off the issuing path.
            self._step(report, "search_index", tidy_search_index)
        finally:
            client.close()
        self.last = report
        for listener in list(self._listeners):
            try:
                listener(report)
            except Exception:
                log.exception("housekeeping listener failed")
        return report

    @staticmethod
    def _step(report: RoundReport, name: str, work: Callable[[], bool]) -> None:
        try:
            if work():
                report.done.append(name)
        except PlatformError as error:
            report.errors.append(f"{name}: {error.describe('en')}")
        except Exception as error:  # a bug must not stop the other steps, nor the loop
            log.exception("housekeeping step %s failed", name)
            report.errors.append(f"{name}: {type(error).__name__}: {error}")

    @staticmethod
    def _taxpayer(client: PlatformClient, at: datetime) -> bool:
        if not taxpayer.due(at):
            return False
        taxpayer.refresh(client, clerk="sync")
        return True

    @staticmethod
    def _stock(client: PlatformClient, report: RoundReport) -> bool:
        result = stock.top_up(client, clerk="sync")
        for refusal in result.refused:
            report.messages.append(f"{refusal.what}: {refusal.reason}")
        if result.error:
            report.errors.append(f"stock: {result.error}")
        return bool(result.drawn or result.downloaded or result.retired)

    @staticmethod
    def _red_forms(client: PlatformClient, report: RoundReport) -> bool:
        """Requests waiting sent in order, then every form refreshed; each outcome told in the report."""
        reached = red_forms.send_requests(client, clerk="sync")
        reached += red_forms.refresh(client, clerk="sync")
        for form in reached:
            if form.message and not form.told:
                report.messages.append(form.message)
        return bool(reached)

    @staticmethod
    def _tax_codes(client: PlatformClient, at: datetime) -> bool:
        taxcodes.refresh_from_platform(client, clerk="sync")
        set_setting(TAX_CODES_CHECKED, at.isoformat(timespec="seconds"))
        return True

    @staticmethod
    def _month(client: PlatformClient, at: datetime, report: RoundReport) -> bool:
        result = months.confirm_if_due(client, at=at)
        if result is None:
            return False
        if result.state != months.CONFIRMED:
            report.messages.append(result.message)
        return result.state == months.CONFIRMED

    # --- as a loop -------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self.run_forever, name="housekeeping", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("housekeeping round failed")
            self._wake.wait(self.interval)
            self._wake.clear()

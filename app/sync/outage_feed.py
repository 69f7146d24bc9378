"""Feeds the outage log (app/store/outages.py) from the connectivity monitor, and carries out
waiting cancellations once the platform answers again.

    feed = OutageFeed(monitor, client_factory)   # subscribes to the monitor

- every failed health check is a failure of the open outage (opening one if none is open);
- the first good check closes it;
- upload_failed(message) (the queue worker's transient failures) counts in the open outage;
- when the platform answers again, resolve_cancellations() runs with the client's lookup, so
  a cancellation requested offline is carried out (or refused) in the order requested.

The monitor calls these on its own thread; the store gives that thread its own connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from app.platform.client import PlatformClient
from app.services import outages, queue
from app.services.lifecycle import CancelOutcome, resolve_cancellations
from app.sync.monitor import DEGRADED, OFFLINE, ONLINE, UNKNOWN, CheckResult, ConnectivityMonitor, StateChange

log = logging.getLogger(__name__)


class OutageFeed:
    def __init__(self, monitor: ConnectivityMonitor,
                 client_factory: Callable[[], PlatformClient] | None = None) -> None:
        self.monitor = monitor
        self.client_factory = client_factory
        self.decided: list[CancelOutcome] = []  # cancellations carried out or refused, newest last
        monitor.add_check_listener(self.on_check)
        monitor.add_state_listener(self.on_state)

    def on_check(self, result: CheckResult) -> None:
        if result.ok:
            if outages.open_outage() is not None:
                outages.record_recovery(at=result.at)
        else:
            outages.record_failure(result.error, at=result.at)

    def on_state(self, change: StateChange) -> None:
        # Back from an outage, or answering at start: what was requested offline can be decided now.
        if change.state in (ONLINE, DEGRADED) and change.previous in (OFFLINE, UNKNOWN):
            self.resolve_waiting_cancellations()

    def upload_failed(self, message: str) -> None:
        """A failed upload counts in the open outage; it does not open one (health decides that)."""
        if outages.open_outage() is not None:
            outages.record_failure(message, upload=True)

    def resolve_waiting_cancellations(self) -> list[CancelOutcome]:
        lookup = None
        client = self.client_factory() if self.client_factory else None
        if client is not None:
            lookup = partial(queue.look_up_entry, client)
        try:
            decided = resolve_cancellations(lookup)
        finally:
            if client is not None:
                client.close()
        self.decided += decided
        return decided

"""Issue 15: when the platform comes back what waits goes at once (not after its own back-off); a platform
that answers slowly is online (slow, with its latency), not offline; 最近联系 moves with every good contact."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta

import pytest

from app.platform.http_client import HttpPlatformClient
from tests.helpers.platform import SYNC_TOKEN as TOKEN
from tests.helpers.platform import break_line_amount, issue_many, make_worker
from tests.sync.support import assert_issued_once_each

LONG_BACKOFF = 300  # seconds the platform asks (Retry-After) while down: minutes, far beyond any wait here
# How long a step may take on a loaded machine: generous, and still a fifth of the back-off that must not be
# waited out (a queue that waited it out would take LONG_BACKOFF).
STEP = 60


def _client(platform, timeout: float = 1.0):
    return lambda: HttpPlatformClient(platform.url, TOKEN, timeout=timeout, batch_timeout=timeout)


def _runtime(platform, **worker_options):
    from app.sync.runtime import SyncRuntime

    worker = make_worker(platform, idle_poll=0.2, **worker_options)
    return SyncRuntime(_client(platform), poll_interval=0.1, retry_min=0.05, retry_max=0.1, worker=worker,
                       housekeeping=False)


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _waiting_out_the_outage() -> bool:
    """Every entry has been tried and waits on a back-off of minutes (none due, none pending)."""
    from app.core import status
    from app.services.queue import counts, next_due_in

    due = next_due_in()
    return due is not None and due > LONG_BACKOFF - 60 and counts().by_state.get(status.Q_PENDING, 0) == 0


# --- 1. back from an outage: what waits goes at once ------------------------------------------------------------

def test_back_from_an_outage_sends_what_waits_at_once(store, seller, platform):
    """Platform channel: the records that waited out the outage on a Retry-After of minutes are issued as soon as
    the monitor sees the platform again, each once under its key; a rejected one is not revived."""
    from app.core import status
    from app.services.queue import counts
    from app.store.models import AuditEntry, Invoice, UploadQueueEntry

    bad = issue_many(1)[0]
    break_line_amount(bad.number)
    assert make_worker(platform).run_once().rejected == 1  # final: the clerk must correct it
    platform.set_faults(mode="down", retry_after=LONG_BACKOFF)
    issued = issue_many(6)
    runtime = _runtime(platform)
    runtime.start()
    try:
        _wait(_waiting_out_the_outage, STEP, "the worker tried during the outage")
        # The monitor's own probes decide "offline" (a few failures in a row): on a busy machine the worker's one
        # try can come first. Coming back is a change the monitor sees, so it must have seen the outage.
        _wait(lambda: runtime.state == "offline", STEP, "the monitor saw the platform down")
        platform.set_faults(mode="ok")
        _wait(lambda: counts().waiting == 0, STEP, "what waited went up when the platform came back")
    finally:
        runtime.stop()
    assert_issued_once_each(platform, [i.number for i in issued])  # each once; the rejected one never
    row = Invoice.get(Invoice.provisional_number == bad.number)
    assert row.status == status.REJECTED
    assert UploadQueueEntry.get(UploadQueueEntry.invoice == row).state == status.Q_REJECTED
    assert AuditEntry.select().where((AuditEntry.action == "sent") & (AuditEntry.invoice == row)).count() == 1


def test_back_from_an_outage_posts_waiting_batches_at_once(direct):
    """Direct channel: batches committed during the outage are posted as they are (same request id, same
    invoices) once the platform is back, not after their back-off; every number is held once."""
    from app.core import status
    from app.services.queue import counts
    from app.store.models import UploadBatch

    direct.set_faults(mode="down", retry_after=LONG_BACKOFF)
    issued = issue_many(30)
    runtime = _runtime(direct, batch_size=10)
    runtime.start()
    try:
        _wait(_waiting_out_the_outage, STEP, "the worker tried during the outage")
        posting = {b.request_id for b in UploadBatch.select().where(UploadBatch.state == status.B_POSTING)}
        assert posting
        _wait(lambda: runtime.state == "offline", STEP, "the monitor saw the platform down")
        direct.set_faults(mode="ok")
        _wait(lambda: counts().waiting == 0, STEP, "the batches went up when the platform came back")
    finally:
        runtime.stop()
    held = Counter(r["number"] for r in direct.v2_store.all("SELECT number FROM v2_invoice"))
    assert held == Counter(i.number for i in issued)
    batches = list(UploadBatch.select())
    assert {b.state for b in batches} == {status.B_DONE}
    posted = [r["request_id"] for r in direct.v2_store.all("SELECT request_id FROM v2_upload")]
    assert sorted(posted) == sorted(b.request_id for b in batches)  # one upload per batch
    assert posting <= set(posted)  # a batch committed offline went up under its own request id


# --- 2. a slow platform is online ----------------------------------------------------------------------------

def test_a_slow_answer_is_online_and_only_a_timeout_is_offline(platform):
    from app.sync.monitor import OFFLINE, ONLINE, ConnectivityMonitor, StateChange

    monitor = ConnectivityMonitor(_client(platform, timeout=1.0), slow_after=0.25)
    changes: list[StateChange] = []
    monitor.add_state_listener(changes.append)
    platform.set_faults(mode="slow", delay_ms=500)  # slower than usual, well within the 1 s timeout
    result = monitor.check()
    assert monitor.state == ONLINE  # not degraded, not offline
    assert result.ok and result.slow and result.latency >= 0.5
    assert monitor.slow and monitor.latency is not None and monitor.latency >= 0.5
    platform.set_faults(mode="ok")
    result = monitor.check()
    assert result.ok and not result.slow and monitor.state == ONLINE and not monitor.slow
    platform.set_faults(mode="slow", delay_ms=1500)  # past the timeout: no answer
    result = monitor.check()
    assert not result.ok and "timeout" in result.error and monitor.state == OFFLINE
    assert [(c.previous, c.state) for c in changes] == [("unknown", ONLINE), (ONLINE, OFFLINE)]
    monitor.stop()


@pytest.fixture
def zh(qapp):
    from app.ui.i18n import set_language

    set_language("zh")
    yield qapp
    set_language("zh")


def _runner(platform, *, poll_interval: float = 0.1, slow_after: float = 2.0, **worker_options):
    from app.ui.sync_runner import SyncRunner

    worker = make_worker(platform, idle_poll=0.2, **worker_options)
    runner = SyncRunner(_client(platform), poll_interval=poll_interval, retry_min=0.05, retry_max=0.1,
                        worker=worker)
    runner.monitor.slow_after = slow_after
    return runner


def test_status_bar_shows_a_slow_platform_online_with_its_latency(qtbot, zh, store, seller, platform):
    from app.ui.i18n import set_language
    from app.ui.sync_status import SyncStatusWidget

    platform.set_faults(mode="slow", delay_ms=500)
    runner = _runner(platform, slow_after=0.25)
    widget = SyncStatusWidget(runner)
    qtbot.addWidget(widget)
    runner.start(record_outages=False)
    try:
        qtbot.waitUntil(lambda: "响应慢" in widget.state_label.text(), timeout=10000)
        text = widget.state_label.text()
        assert widget.state == "online" and "平台在线" in text and "秒" in text
        assert "离线" not in text and "不稳定" not in text
        set_language("en")
        widget.set_state(widget.state)
        assert "Platform online" in widget.state_label.text() and "slow" in widget.state_label.text()
        set_language("zh")
        widget.set_state(widget.state)
        platform.set_faults(mode="ok")  # fast again: plain online
        qtbot.waitUntil(lambda: "响应慢" not in widget.state_label.text(), timeout=10000)
        assert "平台在线" in widget.state_label.text() and widget.state == "online"
    finally:
        runner.stop()


# --- 3. 最近联系 moves with every good contact --------------------------------------------------------------------

def _contact(widget) -> datetime:
    from app.core import clock

    assert widget.last_good
    return clock.in_beijing(datetime.fromisoformat(widget.last_good))


def test_last_contact_moves_with_every_probe_while_online(qtbot, zh, store, seller, platform):
    from app.core import clock
    from app.ui.sync_status import SyncStatusWidget

    runner = _runner(platform)
    widget = SyncStatusWidget(runner)
    qtbot.addWidget(widget)
    runner.start(record_outages=False)
    try:
        qtbot.waitUntil(lambda: widget.state == "online" and bool(widget.last_good), timeout=10000)
        first = _contact(widget)
        later = clock.now_exact() + timedelta(minutes=10)
        with clock.shifted(later):  # the next probes happen ten minutes on
            qtbot.waitUntil(lambda: _contact(widget) >= later, timeout=10000)
            shown = widget.contact_label.text()
        assert widget.state == "online"
        assert f"{_contact(widget):%H:%M}" in shown and f"{first:%H:%M:%S}" not in shown
    finally:
        runner.stop()


def test_last_contact_moves_with_every_upload_while_online(qtbot, zh, store, seller, platform):
    from app.core import clock
    from app.services.queue import counts
    from app.ui.sync_status import SyncStatusWidget

    issue_many(3)
    runner = _runner(platform, poll_interval=60)  # one probe at start, then none during the test
    widget = SyncStatusWidget(runner)
    qtbot.addWidget(widget)
    runner.set_paused(True)
    runner.start(record_outages=False)
    try:
        qtbot.waitUntil(lambda: widget.state == "online" and bool(widget.last_good), timeout=10000)
        later = clock.now_exact() + timedelta(minutes=10)
        with clock.shifted(later):  # the uploads happen ten minutes after the probe
            runner.set_paused(False)
            qtbot.waitUntil(lambda: counts().waiting == 0, timeout=10000)
            qtbot.waitUntil(lambda: _contact(widget) >= later, timeout=5000)
            shown = widget.contact_label.text()
        assert f"{_contact(widget):%H:%M}" in shown
    finally:
        runner.stop()

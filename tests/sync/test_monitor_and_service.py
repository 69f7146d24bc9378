"""The connectivity monitor's states, back-off and listeners; Retry-After; `sync` as a service."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest

from app.sync.monitor import CheckResult, StateChange
from tests.helpers.cli import ROOT, token_file_args
from tests.helpers.platform import SYNC_TOKEN as TOKEN
from tests.helpers.platform import issue_many, make_worker, platform_numbers


def _monitor(platform, **options):
    from app.platform.http_client import HttpPlatformClient
    from app.sync.monitor import ConnectivityMonitor

    return ConnectivityMonitor(lambda: HttpPlatformClient(platform.url, TOKEN, timeout=0.3), **options)


@pytest.mark.logged_errors_expected  # a listener that raises is logged, and the others still run
def test_monitor_states_backoff_and_listeners(platform):
    from app.sync.monitor import DEGRADED, OFFLINE, ONLINE

    monitor = _monitor(platform, interval=10, retry_min=1, retry_max=8, slow_after=0.15)
    checks: list[CheckResult] = []
    changes: list[StateChange] = []
    monitor.add_check_listener(checks.append)
    monitor.add_state_listener(changes.append)
    monitor.add_state_listener(lambda change: 1 / 0)  # a broken listener does not stop the others
    assert monitor.check().ok and monitor.state == ONLINE and monitor.next_delay() == 10
    good = monitor.last_good_contact
    platform.set_faults(mode="down")
    delays = []
    for _ in range(5):
        result = monitor.check()
        delays.append(monitor.next_delay())
    assert not result.ok and "503" in result.error and monitor.state == OFFLINE
    assert monitor.last_good_contact == good
    assert 0.8 <= delays[0] <= 1 and 6.4 <= delays[-1] <= 8  # doubling, capped, jittered
    platform.set_faults(mode="slow", delay_ms=250)
    monitor.check()
    assert monitor.state == ONLINE and monitor.slow  # slow within the timeout is online, said as slow
    platform.set_faults(mode="ok")
    monitor.check()
    assert monitor.state == ONLINE and not monitor.slow and monitor.last_good_contact > good
    for _ in range(3):
        monitor.report_upload_failure("HTTP 500")
    assert monitor.state == DEGRADED
    monitor.report_upload_success()
    assert monitor.state == ONLINE
    assert [(c.previous, c.state) for c in changes] == [
        ("unknown", ONLINE), (ONLINE, OFFLINE), (OFFLINE, ONLINE), (ONLINE, DEGRADED), (DEGRADED, ONLINE)]
    assert len(checks) == 8 and all(isinstance(c.at, datetime) for c in checks)


def test_monitor_thread_notices_the_platform_coming_back(platform):
    from app.sync.monitor import OFFLINE, ONLINE

    platform.set_faults(mode="down")
    monitor = _monitor(platform, interval=0.05, retry_min=0.05, retry_max=0.1)
    seen = []
    monitor.add_state_listener(lambda change: seen.append(change.state))
    monitor.start()
    try:
        deadline = time.monotonic() + 5
        while OFFLINE not in seen and time.monotonic() < deadline:
            time.sleep(0.02)
        platform.set_faults(mode="ok")
        while ONLINE not in seen and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        monitor.stop()
    assert seen[:2] == [OFFLINE, ONLINE]


def test_retry_after_is_honoured(store, seller, platform):
    from app.services.queue import next_due_in
    from app.store.models import UploadQueueEntry

    issue_many(3)
    platform.set_faults(mode="down", retry_after=4)
    make_worker(platform).run_once()  # back-off alone would wait at most 0.02 s
    due = next_due_in()
    assert due is not None and 3.5 < due <= 4.01
    assert all("503" in e.last_error for e in UploadQueueEntry.select())


def test_retry_after_is_honoured_on_the_direct_channel(direct):
    from app.services.queue import next_due_in

    issue_many(3)
    direct.set_faults(mode="down", retry_after=4)
    report = make_worker(direct).run_once()
    assert report.transient_failures == 1 and "503" in report.last_error
    due = next_due_in()
    assert due is not None and 3.5 < due <= 4.01


def test_sync_service_drains_then_stops_on_sigterm(store, seller, platform, data_dir):
    issue_many(6)
    child = subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data_dir), "sync", "--url", platform.url,
                              *token_file_args(TOKEN)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.monotonic() + 20
        while len(platform_numbers(platform)) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        issue_many(2)  # issued while the service runs: it picks them up on its next poll
        while len(platform_numbers(platform)) < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGTERM)
        _out, err = child.communicate(timeout=20)
    assert child.returncode == 0, err
    assert len(platform_numbers(platform)) == 8 and len(set(platform_numbers(platform))) == 8
    assert "platform online" in err

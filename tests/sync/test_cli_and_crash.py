"""The command line: `platform` prints its URL; `sync --once` exit codes; and the crash loop:
`sync` killed with SIGKILL at random points, many times, then restarted -> each invoice exactly once."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.helpers.cli import ROOT, run_cli
from tests.helpers.platform import SYNC_TOKEN as TOKEN
from tests.helpers.platform import issue_many, platform_numbers


def test_platform_command_prints_its_url_and_serves(tmp_path):
    from app.platform.http_client import HttpPlatformClient

    child = subprocess.Popen([sys.executable, "-m", "app", "platform", "--port", "0", "--db", str(tmp_path / "p.db"),
                              "--token", "secret-token-abc", "--mode", "ok"], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout is not None
    try:
        line = child.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        assert "secret-token-abc" not in line  # the token is masked
        assert HttpPlatformClient(match.group(1), "secret-token-abc").health()["status"] == "ok"
    finally:
        child.terminate()
        child.wait(10)


def test_sync_once_exit_codes(store, seller, platform, data_dir):
    from tests.helpers.platform import break_line_amount

    issued = issue_many(4)
    platform.set_faults(mode="down", retry_after=0)
    result = run_cli(data_dir, "sync", "--once", "--url", platform.url, "--token", TOKEN)
    assert result.returncode == 3, result.stderr
    assert "503" in result.stderr and "4" in result.stdout
    platform.set_faults(mode="ok")
    result = run_cli(data_dir, "sync", "--once", "--url", platform.url, "--token", "wrong-token-999")
    assert result.returncode == 3 and "401" in result.stderr and "wrong-token-999" not in result.stderr
    break_line_amount(issued[2].number)
    result = run_cli(data_dir, "sync", "--once", "--url", platform.url, "--token", TOKEN, "--save")
    assert result.returncode == 4, result.stderr
    listing = run_cli(data_dir, "queue")
    assert issued[2].number in listing.stdout and "lines[0].amount" in listing.stdout
    from app.services.lifecycle import cancel_invoice

    cancel_invoice(issued[2].number, "平台拒绝：金额有误")
    result = run_cli(data_dir, "sync", "--once")  # the saved URL and token
    assert result.returncode == 0, result.stderr
    assert sorted(platform_numbers(platform)) == sorted(i.number for n, i in enumerate(issued) if n != 2)
    assert run_cli(data_dir, "sync", "--once", "--url", "ftp://x").returncode == 2


@pytest.mark.slow
def test_sync_killed_at_random_points_uploads_each_invoice_exactly_once(store, seller, platform, data_dir):
    from app.core import status
    from app.services.queue import counts
    from app.store.audit import verify_chain
    from app.store.models import Invoice, UploadQueueEntry

    issued = issue_many(480)
    platform.set_faults(mode="slow", delay_ms=100)  # answers come after the platform acted: kills lose them
    rng = random.Random(20261129)
    kills = kills_mid_send = 0
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "app", "--data-dir", str(data_dir), "sync", "--url", platform.url, "--token",
               TOKEN, "--batch-size", "4"]
    started = time.monotonic()
    while counts().waiting and kills < 60 and time.monotonic() - started < 60:
        before = platform.records.count()
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.2))
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += 1
        if platform.records.count() > before:
            kills_mid_send += 1
    print(f"\ncrash loop: {kills} SIGKILLs, {kills_mid_send} while sending, "
          f"{platform.records.count()}/480 on the platform before the last restart")
    assert kills >= 20 and kills_mid_send >= 10
    in_doubt = Counter(e.state for e in UploadQueueEntry.select())
    platform.set_faults(mode="ok")
    result = run_cli(data_dir, "sync", "--once", "--url", platform.url, "--token", TOKEN)
    assert result.returncode == 0, (result.stdout, result.stderr, in_doubt)

    numbers = platform_numbers(platform)
    assert len(numbers) == 480 and sorted(numbers) == sorted(i.number for i in issued)  # each exactly once
    store.db.close()  # see what the killed processes left, through a fresh connection
    rows = {r.provisional_number: r for r in Invoice.select()}
    assert {r.status for r in rows.values()} == {status.ACCEPTED}
    assert {e.state for e in UploadQueueEntry.select()} == {status.Q_ACCEPTED}
    for key in platform.records.keys():  # noqa: SIM118  (RecordStore.keys() reads them; it is no dict)
        record = platform.records.find(key)
        entry = UploadQueueEntry.get(UploadQueueEntry.idempotency_key == key)
        assert rows[record["number"]].official_number == record["official_number"]
        assert entry.invoice.provisional_number == record["number"]
    assert verify_chain() is None
    from app.store.models import AuditEntry

    recovered = AuditEntry.select().where(AuditEntry.action == "send_outcome_unknown").count()
    print(f"rows found in flight after a kill and looked up: {recovered}")
    assert recovered > 0  # kills really landed between sending and recording the answer
    assert store.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"

"""The command line: `platform` prints its URL; `sync --once` exit codes and summary; and the crash loop on
the platform channel: `sync` killed with SIGKILL at random points, many times, then restarted -> each
pre-issue record issued by the platform exactly once (under its key), the desk holding the platform's
number. (The direct channel's crash loop: test_kill_direct_uploads.py.)"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest

from app.core.clock import BEIJING
from tests.helpers.cli import ROOT, run_cli, token_file_args
from tests.helpers.platform import SYNC_TOKEN as TOKEN
from tests.helpers.platform import issue_many
from tests.sync.support import assert_issued_once_each, issued_by_key, platform_keys


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
    result = run_cli(data_dir, "sync", "--once", "--url", platform.url, *token_file_args(TOKEN))
    assert result.returncode == 3, result.stderr
    assert "503" in result.stderr and "waiting 4" in result.stdout
    platform.set_faults(mode="ok")
    result = run_cli(data_dir, "sync", "--once", "--url", platform.url, *token_file_args("wrong-token-999"))
    assert result.returncode == 3 and "401" in result.stderr and "wrong-token-999" not in result.stderr
    break_line_amount(issued[2].number)
    result = run_cli(data_dir, "sync", "--once", "--url", platform.url, *token_file_args(TOKEN), "--save")
    assert result.returncode == 4, result.stderr
    listing = run_cli(data_dir, "queue")
    assert issued[2].number in listing.stdout and "lines[0].amount" in listing.stdout
    from app.services.lifecycle import cancel_invoice

    cancel_invoice(issued[2].number, "平台拒绝：金额有误")
    result = run_cli(data_dir, "sync", "--once")  # the saved URL and token
    assert result.returncode == 0, result.stderr
    assert "waiting 0" in result.stdout and "too late 0" in result.stdout
    assert_issued_once_each(platform, [i.number for n, i in enumerate(issued) if n != 2])
    bad_url = run_cli(data_dir, "sync", "--once", "--url", "ftp://x")
    assert bad_url.returncode == 2 and "url" in bad_url.stderr
    for size in ("0", "101", "500"):  # a v2 upload carries 100 invoices at most
        too_big = run_cli(data_dir, "sync", "--once", "--batch-size", size)
        assert too_big.returncode == 2 and "batch-size" in too_big.stderr and "100" in too_big.stderr, size


def test_sync_once_summary_counts_direct_uploads_and_too_late(direct, store, data_dir):
    """The direct channel: the summary names what went for checking, what was accepted, rejected and too late;
    an invoice the platform calls too late makes the exit 4 (the clerk must issue it again)."""
    from app.core import status
    from app.store.models import Invoice
    from tests.helpers.platform import break_line_amount

    issued = issue_many(5)
    break_line_amount(issued[1].number)
    result = run_cli(data_dir, "sync", "--once", "--batch-size", "2")
    assert result.returncode == 4, (result.stdout, result.stderr)
    assert "sent for checking 5, accepted 4, rejected 1" in result.stdout, result.stdout
    assert "送平台校验 5 张" in result.stdout
    assert Invoice.get(Invoice.provisional_number == issued[1].number).status == status.REJECTED
    held = sorted(r["number"] for r in direct.v2_store.all("SELECT number FROM v2_invoice"))
    assert held == sorted(i.number for n, i in enumerate(issued) if n != 1)
    listing = run_cli(data_dir, "queue", "--json")
    assert listing.returncode == 0
    assert [r["number"] for r in json.loads(listing.stdout)] == [issued[1].number]

    # the platform's clock three days on: an invoice issued now is too late to upload
    from tests.platform_v2.support import set_clock

    late = issue_many(1)[0]
    set_clock(direct, now=(datetime.now(BEIJING) + timedelta(hours=50)).isoformat())
    result = run_cli(data_dir, "sync", "--once")
    assert result.returncode == 4, (result.stdout, result.stderr)
    assert "too late 1" in result.stdout and "超期未上传 1 张" in result.stdout, result.stdout
    assert Invoice.get(Invoice.provisional_number == late.number).status == status.UPLOAD_TOO_LATE
    listing = run_cli(data_dir, "queue", "--json")
    assert {r["number"]: r["state"] for r in json.loads(listing.stdout)}[late.number] == status.Q_TOO_LATE
    # issued again (a new number, today), the too-late one no longer needs the clerk; the rejected one still does
    from app.services.reissue import reissue

    set_clock(direct, reset=True)
    again = reissue(late.number)
    result = run_cli(data_dir, "sync", "--once")
    assert result.returncode == 4 and "too late 0" in result.stdout, (result.stdout, result.stderr)
    assert Invoice.get(Invoice.provisional_number == again.number).status == status.ACCEPTED


COUNT = 200


@pytest.mark.slow
def test_sync_killed_at_random_points_uploads_each_invoice_exactly_once(store, seller, platform, data_dir):
    from app.core import status
    from app.services.queue import counts
    from app.store.audit import verify_chain
    from app.store.models import Invoice, UploadQueueEntry

    issued = issue_many(COUNT)
    platform.set_faults(mode="slow", delay_ms=100)  # answers come after the platform acted: kills lose them
    rng = random.Random(20261129)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "app", "--data-dir", str(data_dir), "sync", "--url", platform.url,
               *token_file_args(TOKEN), "--batch-size", "4"]
    # Kills are timed from how long a fresh `sync` takes to send its first batch on this machine (a first run,
    # killed as soon as the platform has it): with fixed delays a slow start had nearly every kill land before
    # anything was sent, and the test measured the machine instead of the desk.
    before = len(platform_keys(platform))
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    launched = time.monotonic()
    while len(platform_keys(platform)) == before and time.monotonic() - launched < 30:
        time.sleep(0.01)
    first_send = time.monotonic() - launched
    child.send_signal(signal.SIGKILL)
    child.wait()
    kills = 1
    kills_mid_send = int(len(platform_keys(platform)) > before)
    started = time.monotonic()
    while counts().waiting and kills < 30 and time.monotonic() - started < 30 + 30 * first_send:
        before = len(platform_keys(platform))
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.7 * first_send, first_send + 0.9))
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += 1
        if len(platform_keys(platform)) > before:
            kills_mid_send += 1
    print(f"\ncrash loop: first send {first_send:.2f} s after start; {kills} SIGKILLs, {kills_mid_send} while sending, "
          f"{len(platform_keys(platform))}/{COUNT} on the platform before the last restart")
    assert kills >= 20 and kills_mid_send >= 10
    in_doubt = Counter(e.state for e in UploadQueueEntry.select())
    platform.set_faults(mode="ok")
    result = run_cli(data_dir, "sync", "--once", "--url", platform.url, *token_file_args(TOKEN))
    assert result.returncode == 0, (result.stdout, result.stderr, in_doubt)

    store.db.close()  # see what the killed processes left, through a fresh connection
    assert len(issued_by_key(platform)) == COUNT  # each key issued once (issued_by_key checks), none lost
    assert_issued_once_each(platform, [i.number for i in issued])
    assert {r.status for r in Invoice.select()} == {status.ACCEPTED}
    assert {e.state for e in UploadQueueEntry.select()} == {status.Q_ACCEPTED}
    assert verify_chain() is None
    from app.store.models import AuditEntry

    recovered = AuditEntry.select().where(AuditEntry.action == "send_outcome_unknown").count()
    print(f"rows found in flight after a kill and looked up: {recovered}")
    assert recovered > 0  # kills really landed between sending and recording the answer
    assert store.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"

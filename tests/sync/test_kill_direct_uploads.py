"""The direct channel's uploads survive SIGKILL at any moment: `python -m app sync` is killed many times at
random, while it posts batches (POST /v2/uploads, answers slowed so that a kill lands after the platform
kept a batch and before the desk heard its acceptance id) and while it reads their results (GET
/v2/uploads/{A}, kept `processing` for a while so that a kill lands after results were ready and before
the desk recorded them). Then it is let finish: the platform holds every number exactly once, each the
invoice the desk issued under it; every local invoice is accepted; the audit chain verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import pytest

from tests.helpers.cli import ROOT, run_cli, token_file_args
from tests.helpers.platform import SYNC_TOKEN, issue_many

COUNT = 200
BATCH = 10  # 20 batches: many posts for kills to land in


@pytest.fixture
def platform_options() -> dict[str, Any]:
    return {"result_delay_ms": 700}  # results stay `processing` a while after each upload


def desk_batches() -> list[tuple[str, str]]:
    """(request id, state) of every upload batch the desk has committed, read through a fresh connection."""
    from app.store.models import UploadBatch, database

    database.close()
    rows = [(b.request_id, b.state) for b in UploadBatch.select()]
    database.close()
    return rows


def where_the_kill_landed(platform, batches: list[tuple[str, str]]) -> set[str]:
    """"upload": a batch the platform kept whose acceptance id the desk never recorded; "results": a
    batch whose results the platform had checked and the desk had not yet recorded."""
    from app.core import status

    uploads = {r["request_id"]: r["state"] for r in platform.v2_store.all("SELECT request_id, state FROM v2_upload")}
    landed = set()
    for request_id, state in batches:
        if state == status.B_POSTING and request_id in uploads:
            landed.add("upload")
        if state == status.B_AWAITING and uploads.get(request_id) == "done":
            landed.add("results")
    return landed


@pytest.mark.slow
def test_sync_killed_at_random_during_uploads_and_result_reads(direct, store, data_dir):
    from app.core import status
    from app.store.audit import verify_chain
    from app.store.models import AuditEntry, Invoice, UploadQueueEntry

    issued = issue_many(COUNT)
    numbers = [i.number for i in issued]
    assert len(set(numbers)) == COUNT and all(len(n) == 20 for n in numbers)  # the block's official numbers
    store.db.close()  # the child processes own the store from here; the test reads it afresh each time
    direct.set_faults(mode="slow", delay_ms=200)  # every answer comes 200 ms after the platform acted
    rng = random.Random(20261201)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "app", "--data-dir", str(data_dir), "sync", "--url", direct.url,
               *token_file_args(SYNC_TOKEN), "--batch-size", str(BATCH)]
    landed: Counter[str] = Counter()
    kills = 0
    started = time.monotonic()
    while time.monotonic() - started < 35 and kills < 30:
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.4, 1.4))  # the interpreter starts in ~0.3 s; then it posts and reads
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += 1
        batches = desk_batches()
        landed.update(where_the_kill_landed(direct, batches))
        if batches and all(state == status.B_DONE for _, state in batches) and len(batches) * BATCH >= COUNT:
            break  # nothing left to kill it in
    held = len(direct.v2_store.all("SELECT number FROM v2_invoice"))
    print(f"\n{kills} SIGKILLs: {landed['upload']} after the platform kept a batch and before its acceptance id "
          f"was recorded, {landed['results']} with results ready and unrecorded; {held}/{COUNT} held so far")
    assert kills >= 15
    assert landed["upload"] >= 2 and landed["results"] >= 2, landed

    direct.set_faults(mode="ok")
    result = run_cli(data_dir, "sync", "--once", "--url", direct.url, *token_file_args(SYNC_TOKEN))
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "accepted" in result.stdout and "too late 0" in result.stdout

    held_numbers = [r["number"] for r in direct.v2_store.all("SELECT number, channel FROM v2_invoice")]
    assert Counter(held_numbers) == Counter(numbers)  # every number exactly once, no other
    assert {r["channel"] for r in direct.v2_store.all("SELECT channel FROM v2_invoice")} == {"direct"}
    # each invoice went up in one call only: a batch cut short was sent again under its own request id
    uploaded = [r["number"] for r in direct.v2_store.all("SELECT number FROM v2_upload_item")]
    assert Counter(uploaded) == Counter(numbers)
    platform_requests = {r["request_id"] for r in direct.v2_store.all("SELECT request_id FROM v2_upload")}
    assert platform_requests <= {request_id for request_id, _ in desk_batches()}
    store.db.close()
    store.db.connect()
    rows = {r.provisional_number: r for r in Invoice.select()}
    assert set(rows) == set(numbers)
    assert {r.status for r in rows.values()} == {status.ACCEPTED}
    assert all(r.official_number == r.provisional_number and r.accepted_at for r in rows.values())
    assert {e.state for e in UploadQueueEntry.select()} == {status.Q_ACCEPTED}
    # each number held is the desk's invoice: the same totals and the same issue time
    for record in direct.v2_store.all("SELECT number, issued_at, with_tax_fen FROM v2_invoice"):
        row = rows[record["number"]]
        assert int(row.total_with_tax * 100) == record["with_tax_fen"], record["number"]
    assert verify_chain() is None
    accepted_audit = Counter(a.invoice_id for a in AuditEntry.select().where(AuditEntry.action == "accepted"))
    assert set(accepted_audit.values()) == {1}  # each acceptance recorded once
    assert store.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"

"""Only one worker sends at a time, even two instances on one store; a dead holder's lock is broken."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections import Counter

from tests.helpers.platform import issue_many, make_worker, platform_numbers
from tests.sync.support import assert_issued_once_each


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_second_worker_waits_while_the_first_holds_the_lock(store, seller, platform):
    from app.services import queue
    issue_many(5)
    assert queue.acquire_lock("instance-A", ttl=30)
    report = make_worker(platform, holder="instance-B").run_once()
    assert report.lock_busy and report.accepted == 0 and platform_numbers(platform) == []
    info = queue.lock_info()
    assert info is not None and info.holder == "instance-A"
    # A worker whose lock was taken over sends nothing, even mid-pass (claims check the lock).
    try:
        queue.claim_batch("instance-B")
        raise AssertionError("claim without the lock")
    except queue.LockLost:
        pass
    queue.release_lock("instance-A")
    assert make_worker(platform, holder="instance-B").run_once().accepted == 5
    assert queue.lock_info() is None  # released at the end of the pass


def test_lock_of_a_dead_process_on_this_host_is_broken(store, seller, platform):
    from app.store.models import AuditEntry, SyncLock

    issue_many(3)
    SyncLock.insert(name="upload", holder="crashed", host=socket.gethostname(), pid=_dead_pid(),
                    heartbeat_at=time.time(), expires_at=time.time() + 3600).execute()
    assert make_worker(platform).run_once().accepted == 3
    broken = AuditEntry.get(AuditEntry.action == "sync_lock_broken")
    assert "holder process gone" in broken.detail


def test_expired_lock_of_another_host_is_broken_but_a_live_one_is_not(store, seller, platform):
    from app.store.models import SyncLock

    issue_many(2)
    SyncLock.insert(name="upload", holder="other-pc", host="other-host", pid=1, heartbeat_at=time.time(),
                    expires_at=time.time() + 3600).execute()
    assert make_worker(platform).run_once().lock_busy  # alive elsewhere: we cannot check its pid; wait
    SyncLock.update(expires_at=time.time() - 1).execute()
    assert make_worker(platform).run_once().accepted == 2


def test_two_workers_racing_on_one_store_send_each_invoice_once(store, seller, platform):
    from app.core import status
    from app.services.queue import counts
    from app.store.models import Invoice

    issued = issue_many(200)
    platform.set_faults(mode="slow", delay_ms=5)
    workers = [make_worker(platform, batch_size=7, holder=f"instance-{n}") for n in range(2)]
    busy: Counter[str] = Counter()

    def run(worker):
        deadline = time.monotonic() + 30
        while counts().waiting and time.monotonic() < deadline:
            if worker.run_once().lock_busy:
                busy[worker.holder] += 1
                time.sleep(0.005)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_issued_once_each(platform, [i.number for i in issued])
    assert len(set(platform_numbers(platform))) == 200
    assert {r.status for r in Invoice.select()} == {status.ACCEPTED}
    assert sum(busy.values()) > 0  # they really contended

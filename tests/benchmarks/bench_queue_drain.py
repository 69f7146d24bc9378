"""Upload drain, protocol v2 direct channel: N invoices waiting, uploaded to the reference platform.

    .venv/bin/python tests/benchmarks/bench_queue_drain.py [--quick] [--count 5000] [--naive-count N]
                                                           [--delay-ms 50] [--result-delay-ms 10] [--in-process]

One store is filled with N direct-channel invoices waiting to upload (numbers and quota drawn from the
reference platform with the real stock service; the invoices put in fast as copies of one issued
through the service, see bench_issue_latency.fill_waiting), then the store folder and the platform's
SQLite file are copied for each run, so every run starts from the same state. Each run starts the
platform on its copy as `python -m app platform` in its own process (--in-process: a thread of this one,
sharing the desk's GIL):
  worker   the real QueueWorker (batches of 100, up to 50 posted before results are read, short
           result_wait) drains all N with one run_once();
  naive    the obvious loop on the same platform settings: take the next waiting invoice, POST
           /v2/uploads with it alone, read its result (GET /v2/uploads/{A}, again every 5 ms while it is
           processing), record it in the store; for --naive-count invoices (its rate is per invoice:
           the loop does the same for each), not all N.
Each pair runs twice: on plain loopback, and with the platform answering every call `--delay-ms` late
(faults mode "slow"). The platform checks uploads `--result-delay-ms` after it takes them.
Goals: worker >= 1,000 invoices/s on loopback, and >= 10x the naive client at 50 ms. Every run must
end with each invoice it sent accepted, once. Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_issue_latency import (  # noqa: E402  (after the path is set)
    PLATFORM_QUOTA,
    TOKEN,
    fill_waiting,
    set_up_desk,
    start_platform,
    top_up,
)

GOAL_RATE = 1000.0
GOAL_RATIO = 10.0


def platform_holds(db: Path) -> tuple[int, int]:
    """Invoices in the platform's own file once it stopped, and how many distinct numbers."""
    conn = sqlite3.connect(db)
    try:
        n, distinct = conn.execute("SELECT count(*), count(DISTINCT number) FROM v2_invoice").fetchone()
    finally:
        conn.close()
    return int(n), int(distinct)


class PlatformProcess:
    """`python -m app platform` in its own process (as a real platform is: not sharing the desk's CPU and GIL)."""

    def __init__(self, db: Path, result_delay_ms: int, delay_ms: int) -> None:
        command = [sys.executable, "-m", "app", "platform", "--port", "0", "--db", str(db), "--token", TOKEN,
                   "--quota", f"{PLATFORM_QUOTA}", "--result-delay-ms", str(result_delay_ms)]
        if delay_ms:
            command += ["--mode", "slow", "--delay-ms", str(delay_ms)]
        self.child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.child.stdout is not None
        line = self.child.stdout.readline()
        match = re.search(r"listening on (\S+)", line)
        if not match:
            self.child.kill()
            raise SystemExit(f"platform did not start: {line!r}")
        self.url = match.group(1)

    def stop(self) -> None:
        self.child.terminate()
        self.child.wait(10)


class PlatformThread:
    """The reference platform in this process (--in-process): it shares the desk's GIL."""

    def __init__(self, db: Path, result_delay_ms: int, delay_ms: int) -> None:
        self.server = start_platform(db, result_delay_ms=result_delay_ms)
        if delay_ms:
            self.server.set_faults(mode="slow", delay_ms=delay_ms)
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()


def make_client(url: str):
    from app.platform.http_client import HttpPlatformClient

    return HttpPlatformClient(url, TOKEN, timeout=30, batch_timeout=60)


def prepare(work: Path, count: int) -> float:
    """The store with `count` invoices waiting, and the platform that gave their numbers and quota."""
    work.mkdir(parents=True)
    server = start_platform(work / "platform.sqlite3")
    client = make_client(server.url)
    store = set_up_desk(work / "store", server.url)
    try:
        top_up(client)
        seconds = fill_waiting(client, count)
    finally:
        client.close()
        store.close()
        server.stop()
    return seconds


def drain_worker(url: str, expected: int) -> int:
    from app.services.queue import counts
    from app.sync.worker import Backoff, QueueWorker

    worker = QueueWorker(lambda: make_client(url), batch_size=100, backoff=Backoff(base=0.02, cap=0.2),
                         result_wait=0.02, result_wait_cap=0.2, pass_wait=30.0)
    report = worker.run_once()
    worker.close()
    assert report.accepted == expected and not report.rejected and not report.transient_failures, report
    assert counts().waiting == 0, counts()
    return report.accepted


def drain_naive(url: str, limit: int) -> int:
    """One invoice a call: POST it alone, read its result until checked, record it; the next one."""
    from app.core import status
    from app.services.queue import Outcome, invoice_bodies, record_outcomes
    from app.store.models import UploadQueueEntry

    client = make_client(url)
    accepted = 0
    try:
        for _ in range(limit):
            entry = (UploadQueueEntry.select().where(UploadQueueEntry.state == status.Q_PENDING)
                     .order_by(UploadQueueEntry.id).first())
            if entry is None:
                break
            body = invoice_bodies([entry.invoice_id])[entry.invoice_id]
            number = str(body["number"])
            acceptance = client.upload(uuid.uuid4().hex, [body])
            while True:
                result = client.upload_results(acceptance, [number])[0]
                if result.status != "processing":
                    break
                time.sleep(0.005)
            assert result.is_accepted, result
            accepted += record_outcomes([Outcome(entry.id, True, number, accepted_at=result.accepted_at,
                                                 found_by="results")])[0]
    finally:
        client.close()
    return accepted


def run(source: Path, folder: Path, kind: str, count: int, naive_count: int, delay_ms: int,
        result_delay_ms: int, in_process: bool) -> tuple[int, float]:
    """One drain from a fresh copy of the store and the platform; (invoices sent, seconds)."""
    from app.services.store_access import open_store

    shutil.copytree(source, folder)
    platform = (PlatformThread if in_process else PlatformProcess)(folder / "platform.sqlite3", result_delay_ms,
                                                                    delay_ms)
    store = open_store(folder / "store")
    try:
        started = time.perf_counter()
        sent = drain_worker(platform.url, count) if kind == "worker" else drain_naive(platform.url, naive_count)
        seconds = time.perf_counter() - started
    finally:
        store.close()
        platform.stop()
    try:
        held, distinct = platform_holds(folder / "platform.sqlite3")
        assert sent == held == distinct, (sent, held, distinct)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return sent, seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1,000 invoices, the naive client 50 of them")
    parser.add_argument("--count", type=int, default=None, help="invoices waiting (default 5,000)")
    parser.add_argument("--naive-count", type=int, default=None,
                        help="invoices the naive client sends (default 500 on loopback, 100 with the delay)")
    parser.add_argument("--delay-ms", type=int, default=50, help="the platform's delay on every answer")
    parser.add_argument("--in-process", action="store_true",
                        help="the platform in this process (a thread) rather than its own process")
    parser.add_argument("--result-delay-ms", type=int, default=10, help="before the platform's results are ready")
    args = parser.parse_args()
    count = args.count or (1000 if args.quick else 5000)

    work = Path(tempfile.mkdtemp(prefix="bench-drain-"))
    try:
        fill_s = prepare(work / "source", count)
        print(f"{count:,} invoices waiting (put in in {fill_s:.1f}s); platform checks uploads after "
              f"{args.result_delay_ms} ms", flush=True)
        rates: dict[tuple[str, int], float] = {}
        table: list[str] = []
        for delay in (0, args.delay_ms):
            naive_count = args.naive_count or (50 if args.quick else (500 if delay == 0 else 100))
            for kind in ("worker", "naive"):
                sent, seconds = run(work / "source", work / "run", kind, count, naive_count, delay,
                                    args.result_delay_ms, args.in_process)
                rates[(kind, delay)] = sent / seconds
                label = "worker (100 a call)" if kind == "worker" else "naive (1 a call)"
                table.append(f"{delay:>8} ms | {label:20s} | {sent:>7,} | {seconds:>8.2f} s | "
                             f"{sent / seconds:>9,.0f}/s")
                print(f"  {table[-1]}", flush=True)
        print()
        print(f"{'delay':>11} | {'client':20s} | {'sent':>7} | {'time':>10} | {'rate':>11}")
        for line in table:
            print(line)
        loop_rate = rates[("worker", 0)]
        slow_ratio = rates[("worker", args.delay_ms)] / rates[("naive", args.delay_ms)]
        print(f"worker / naive: {loop_rate / rates[('naive', 0)]:.1f}x on loopback, {slow_ratio:.1f}x at "
              f"{args.delay_ms} ms")
        print(f"goal >= {GOAL_RATE:,.0f}/s on loopback: {'met' if loop_rate >= GOAL_RATE else 'NOT met'} "
              f"({loop_rate:,.0f}/s); goal >= {GOAL_RATIO:.0f}x naive at {args.delay_ms} ms: "
              f"{'met' if slow_ratio >= GOAL_RATIO else 'NOT met'} ({slow_ratio:.1f}x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

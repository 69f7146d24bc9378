"""Queue drain: 10,000 invoices issued offline, uploaded to the reference platform on loopback.

    .venv/bin/python tests/benchmarks/bench_queue_drain.py [--count 10000]

Two stores with the same 10,000 queued invoices (issued through the real issue service, then
the file copied), two reference platforms (`python -m app platform`, each its own process and
SQLite file). The worker (batches of 500, store writes per batch) drains one; a naive client
drains the other, one POST /v1/invoices per invoice and one store transaction per answer (with a
keep-alive connection, so it is not handicapped by connection set-up). Goal: >= 1,000
invoices/s and >= 5x the naive client. Both must end with every invoice accepted, once.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token-0123456789"
SELLER_TAX_ID = "91110108MA0123456G"
BUYER_TAX_ID = "91110000600037341L"


def start_platform(db: Path) -> tuple[subprocess.Popen, str]:
    child = subprocess.Popen([sys.executable, "-m", "app", "platform", "--port", "0", "--db", str(db),
                              "--token", TOKEN], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    line = child.stdout.readline()
    match = re.search(r"listening on (\S+)", line)
    if not match:
        raise SystemExit(f"platform did not start: {line!r}")
    return child, match.group(1)


def fill_store(data_dir: Path, count: int) -> float:
    from app.core.limits import OfflineLimits
    from app.services.issuing import issue_invoices
    from app.services.limits import set_limits
    from app.services.seller import set_seller
    from app.services.store_access import open_store

    store = open_store(data_dir)
    set_seller(name="北京某某科技有限公司", tax_id=SELLER_TAX_ID, drawer="张三")
    set_limits(OfflineLimits(max_count=count + 1, max_amount=Decimal("100000000.00")))
    started = time.perf_counter()
    for start in range(0, count, 500):
        issue_invoices([{"kind": "normal", "buyer": {"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID},
                         "remarks": f"#{n}",
                         "lines": [{"tax_code": "3040201010000000000", "item_name": "软件开发", "unit": "项",
                                    "quantity": "1",
                                    "unit_price": f"{100 + n % 900}", "tax_rate": "0.06"}]}
                        for n in range(start, min(count, start + 500))])
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def open_only(data_dir: Path):
    from app.services.store_access import open_store

    return open_store(data_dir)


def drain_with_worker(url: str) -> int:
    from app.platform.http_client import HttpPlatformClient
    from app.services.queue import counts
    from app.sync.worker import QueueWorker

    worker = QueueWorker(lambda: HttpPlatformClient(url, TOKEN), batch_size=500)
    report = worker.run_once()
    worker.close()
    assert counts().waiting == 0, counts()
    return report.accepted


def drain_naive(url: str) -> int:
    """The obvious loop: read one, POST it, record its answer, next."""
    from app.core import status
    from app.platform.http_client import HttpPlatformClient
    from app.services.queue import Outcome, invoice_bodies, record_outcomes
    from app.store.models import UploadQueueEntry

    client = HttpPlatformClient(url, TOKEN)
    accepted = 0
    while True:
        entry = (UploadQueueEntry.select().where(UploadQueueEntry.state == status.Q_PENDING)
                 .order_by(UploadQueueEntry.id).first())
        if entry is None:
            break
        body = invoice_bodies([entry.invoice_id])[entry.invoice_id]
        result = client.submit(entry.idempotency_key, body)
        accepted += record_outcomes([Outcome(entry.id, True, result.official_number, result.platform_id,
                                             result.accepted_at)])[0]
    client.close()
    return accepted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-drain-"))
    try:
        fill_seconds = fill_store(work / "batch", args.count)
        print(f"issued {args.count} invoices through issue_invoices in {fill_seconds:.1f}s "
              f"({args.count / fill_seconds:,.0f}/s)")
        shutil.copytree(work / "batch", work / "naive")
        from app.platform.records import count_records

        results = {}
        for name, drain in (("worker (batches of 500)", drain_with_worker), ("naive (one POST each)", drain_naive)):
            folder = work / ("batch" if drain is drain_with_worker else "naive")
            platform, url = start_platform(folder / "platform.sqlite3")
            try:
                store = open_only(folder)
                started = time.perf_counter()
                accepted = drain(url)
                seconds = time.perf_counter() - started
                store.close()
            finally:
                platform.terminate()
                platform.wait(10)
            records, distinct = count_records(folder / "platform.sqlite3")
            assert accepted == records == distinct == args.count, (accepted, records, distinct)
            results[name] = args.count / seconds
            print(f"{name:26s} {seconds:7.2f}s  {results[name]:8,.0f} invoices/s  "
                  f"(platform holds {records}, each once)")
        worker_rate, naive_rate = results.values()
        print(f"ratio worker / naive: {worker_rate / naive_rate:.1f}x  "
              f"(goal >= 1,000/s: {'met' if worker_rate >= 1000 else 'NOT met'}; "
              f">= 5x: {'met' if worker_rate >= 5 * naive_rate else 'NOT met'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

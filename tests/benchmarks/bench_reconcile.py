"""Reconciliation of a large period against the reference platform on loopback, and a rebuild.

    .venv/bin/python tests/benchmarks/bench_reconcile.py [--count N]

Issues N invoices (default 20,000) through the issue service on the platform channel (pre-issue
records), has the queue worker send them to POST /v2/issue, then measures, in this process:
  download   paging GET /v2/invoices for the period alone (the baseline: what any reconciliation
             must fetch);
  reconcile  download + checking every record by the desk's rules + reading the store + comparing
             (app.services.reconcile.reconcile);
  rebuild    importing every record into an empty store (rebuild_from_platform).
Prints seconds, invoices per second and the ratios to the download. Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args()

    from app.core.clock import now
    from app.core.limits import OfflineLimits
    from app.platform.http_client import HttpPlatformClient
    from app.platform.server import PlatformServer
    from app.services import reconcile as rec
    from app.services.issuing import issue_invoices
    from app.services.limits import set_limits
    from app.services.seller import set_seller
    from app.services.store_access import open_store
    from app.sync.worker import QueueWorker
    from tests.helpers.bodies import SELLER_TAX_ID, invoice_body

    work = Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    server = PlatformServer(work / "platform.sqlite3", token=TOKEN, result_delay_ms=30).start()
    factory = lambda: HttpPlatformClient(server.url, TOKEN, timeout=30, batch_timeout=60)  # noqa: E731
    store = open_store(work / "store")
    set_seller(name="北京某某科技有限公司", tax_id=SELLER_TAX_ID, drawer="张三")
    set_limits(OfflineLimits(max_hours=72, max_count=10 ** 9, max_amount=Decimal("1e15"), max_single=Decimal("1e9")))
    started = time.perf_counter()
    for start in range(0, args.count, 500):  # remarks apart: no two bodies alike
        issue_invoices([invoice_body(remarks=f"#{i}") for i in range(start, min(start + 500, args.count))])
    issued_s = time.perf_counter() - started
    started = time.perf_counter()
    worker = QueueWorker(factory)
    report = worker.run_once()
    worker.close()
    upload_s = time.perf_counter() - started
    assert report.accepted == args.count, report
    today = now().date().isoformat()

    client = factory()
    started = time.perf_counter()
    fetched = sum(1 for _ in client.iter_invoices(SELLER_TAX_ID, today, today))
    download_s = time.perf_counter() - started
    started = time.perf_counter()
    result = rec.reconcile(client, today, today)
    reconcile_s = time.perf_counter() - started
    assert fetched == args.count and result.matched == args.count and not result.differences
    store.close()

    fresh = open_store(work / "rebuilt")
    set_seller(name="北京某某科技有限公司", tax_id=SELLER_TAX_ID, drawer="张三")
    started = time.perf_counter()
    _, imported = rec.rebuild_from_platform(client, today, today)
    rebuild_s = time.perf_counter() - started
    assert len(imported.imported) == args.count
    client.close()
    fresh.close()
    server.stop()

    n = args.count
    print(f"invoices                {n:>10,}")
    print(f"issue (setup)           {issued_s:>9.2f} s")
    print(f"upload (setup)          {upload_s:>9.2f} s")
    print(f"download (baseline)     {download_s:>9.2f} s  {n / download_s:>9,.0f}/s")
    print(f"reconcile               {reconcile_s:>9.2f} s  {n / reconcile_s:>9,.0f}/s  "
          f"x{reconcile_s / download_s:.2f} of download")
    print(f"rebuild (import all)    {rebuild_s:>9.2f} s  {n / rebuild_s:>9,.0f}/s  "
          f"x{rebuild_s / download_s:.2f} of download")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reconciliation of a large period against the reference platform on loopback, and a rebuild.

    .venv/bin/python tests/benchmarks/bench_reconcile.py [--count N] [--fast] [--repeat R] [--no-rebuild]
                                                   [--module FILE] [--keep DIR]

Builds N invoices (default 20,000) on both sides, then measures each step in a fresh subprocess of its
own (the platform serves from this process, so its memory is not counted), each against the same
pages of the same run:
  download   paging GET /v2/invoices for the period alone (the baseline: what any reconciliation
             must fetch), every record read and dropped;
  reconcile  download + checking every record by the desk's rules + reading the store + comparing
             (app.services.reconcile.reconcile);
  rebuild    importing every record into an empty store (rebuild_from_platform; of the last --module).
For each: seconds, invoices per second, the ratio to the download, and the peak RSS the step added
(VmHWM after the step minus VmHWM once the imports are done and the store is open, from
/proc/self/status).

How both sides are built:
  default  issued through the issue service on the platform channel (pre-issue records), sent by
           the queue worker to POST /v2/issue over HTTP (slow at 100,000 on a small machine);
  --fast   the store built by tests/helpers/store_builder.py (realistic invoices of 1 to 5 lines, written
           by the row builders the services use), every invoice a pre-issue record waiting, all issued
           today (Beijing); the reference platform issues each through its own code (V2Platform.issue,
           the handler behind POST /v2/issue: its checks, its numbers, its storage), called in this
           process, 500 in one of its transactions, without HTTP; the answers recorded by the queue
           service (record_outcomes, as the worker records them), 500 at a time. The records are the
           very ones the platform answers over HTTP, and the store the very one the worker leaves.
--module FILE measures another version of app/services/reconcile.py (e.g. an older one, for a
before/after in the same run). --keep DIR builds both sides into DIR once and measures what is there on
later runs with the same DIR (the build is the slow part at 100,000; DIR is left for the next run: delete
it when done). Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token"
SELLER_NAME = "北京某某科技有限公司"
CHUNK = 500


def _hwm_kib() -> int:
    """The process's peak resident set so far (VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _load_reconcile(module: str | None) -> Any:
    if not module:
        from app.services import reconcile

        return reconcile
    spec = importlib.util.spec_from_file_location("bench_reconcile_module", module)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded  # dataclasses look their module up
    spec.loader.exec_module(loaded)
    return loaded


def measure(step: str, work: Path, url: str, period: str, count: int, module: str | None) -> dict[str, Any]:
    """One step, in this (fresh) process: seconds and the peak RSS it added."""
    from app.platform.http_client import HttpPlatformClient
    from app.services.seller import set_seller
    from app.services.store_access import open_store
    from tests.helpers.bodies import SELLER_TAX_ID

    rec = _load_reconcile(module)
    first, last = period.split(":")
    client = HttpPlatformClient(url, TOKEN, timeout=60, batch_timeout=60)
    target = work / ("rebuilt" if step == "rebuild" else "store")
    if step == "rebuild" and target.exists():
        shutil.rmtree(target)
    store = open_store(target)
    if step == "rebuild":
        set_seller(name=SELLER_NAME, tax_id=SELLER_TAX_ID, drawer="张三")
    client.health()  # the connection made before the baseline
    before = _hwm_kib()
    started = time.perf_counter()
    if step == "download":
        fetched = sum(1 for _ in client.iter_invoices(SELLER_TAX_ID, first, last, page_size=500))
        assert fetched == count, fetched
        extra = {}
    elif step == "reconcile":
        report = rec.reconcile(client, first, last)
        assert report.matched == count and not report.differences, (report.matched, report.differences[:3])
        extra = {"matched": report.matched}
    else:
        _, imported = rec.rebuild_from_platform(client, first, last)
        assert len(imported.imported) == count and not imported.failed
        extra = {"imported": len(imported.imported)}
    seconds = time.perf_counter() - started
    after = _hwm_kib()
    client.close()
    store.close()
    return {"step": step, "seconds": seconds, "rss_added_kib": after - before, "hwm_kib": after, **extra}


def build(work: Path, count: int, fast: bool, server: Any) -> tuple[float, float, str]:
    """Both sides of `count` accepted platform-channel invoices: (issue seconds, upload seconds, period)."""
    import peewee

    from app.core.codec import pre_issue_body
    from app.core.limits import OfflineLimits
    from app.platform.http_client import HttpPlatformClient
    from app.services import queue
    from app.services.issuing import issue_invoices
    from app.services.limits import set_limits
    from app.services.seller import set_seller
    from app.services.store_access import open_store
    from app.store.models import Invoice as InvoiceRow
    from app.store.models import UploadQueueEntry
    from app.sync.worker import QueueWorker
    from tests.helpers.bodies import SELLER_TAX_ID, invoice_body

    started = time.perf_counter()
    if fast:
        from datetime import datetime

        from app.core.clock import BEIJING
        from tests.helpers import store_builder

        # All on today's date in Beijing, as the default build: a period of one day (the reference platform's
        # listing is index ranges per date, so a page costs the same on a period of many days).
        moment = datetime.now(BEIJING)
        today = (moment - moment.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds() / 3600
        store_builder.WAITING_SPAN_HOURS = max(min(store_builder.WAITING_SPAN_HOURS, int(today)), 1)
        store_builder.build_store(work / "store", count, waiting=count, red=0, cancelled=0, direct_share=0.0)
        store = open_store(work / "store")
    else:
        store = open_store(work / "store")
        set_seller(name=SELLER_NAME, tax_id=SELLER_TAX_ID, drawer="张三")
        set_limits(OfflineLimits(max_hours=72, max_count=10 ** 9, max_amount=Decimal("1e15"),
                                 max_single=Decimal("1e9")))
        for start in range(0, count, CHUNK):  # remarks apart: no two bodies alike
            issue_invoices([invoice_body(remarks=f"#{i}") for i in range(start, min(start + CHUNK, count))])
    issued_s = time.perf_counter() - started
    started = time.perf_counter()
    if fast:
        accepted = 0
        last = 0
        while True:
            query = (UploadQueueEntry.select(UploadQueueEntry.id, UploadQueueEntry.invoice,
                                             UploadQueueEntry.idempotency_key)
                     .where((UploadQueueEntry.id > last) & (UploadQueueEntry.state == "pending"))
                     .order_by(UploadQueueEntry.id).limit(CHUNK))
            entries: list[tuple[int, int, str]] = [(e.id, e.invoice_id, e.idempotency_key) for e in query]
            if not entries:
                break
            last = entries[-1][0]
            bodies = queue.invoice_bodies([invoice_id for _, invoice_id, _ in entries])
            outcomes = []
            with server.v2_store.lock, server.v2_store.transaction():
                for entry_id, invoice_id, key in entries:
                    answer = server.v2.issue(key, pre_issue_body(bodies[invoice_id]))
                    assert answer.status == 201, answer
                    outcomes.append(queue.Outcome(entry_id, True, str(answer.body["number"]),
                                                  accepted_at=str(answer.body.get("accepted_at") or "")))
            accepted += queue.record_outcomes(outcomes)[0]
        assert accepted == count, accepted
    else:
        worker = QueueWorker(lambda: HttpPlatformClient(server.url, TOKEN, timeout=30, batch_timeout=60))
        report = worker.run_once()
        worker.close()
        assert report.accepted == count, report
    upload_s = time.perf_counter() - started
    first, last = InvoiceRow.select(peewee.fn.min(InvoiceRow.issued_date), peewee.fn.max(InvoiceRow.issued_date)
                                    ).scalar(as_tuple=True)
    store.close()
    return issued_s, upload_s, f"{first}:{last}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--fast", action="store_true", help="build both sides in bulk (see the docstring)")
    parser.add_argument("--repeat", type=int, default=1, help="download and reconcile, alternately, this many times")
    parser.add_argument("--no-rebuild", action="store_true")
    parser.add_argument("--module", action="append", default=[],
                        help="another reconcile.py to measure too (before/after in the same run; repeatable; "
                             "'-' is the working tree's)")
    parser.add_argument("--keep", metavar="DIR", help="build into DIR once; later runs measure what DIR holds")
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--period", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:  # a child: one step
        module = args.module[0] if args.module and args.module[0] != "-" else None
        print(json.dumps(measure(args.step, Path(args.work), args.url, args.period, args.count, module)))
        return 0

    from app.platform.server import PlatformServer

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    built = work / "built.json"  # with --keep: what was built there, and how long it took
    kept = json.loads(built.read_text()) if built.exists() else None
    if kept is not None and kept["count"] != args.count:
        raise SystemExit(f"{work} holds {kept['count']:,} invoices, not {args.count:,}")
    if kept is None and args.keep:
        work.mkdir(parents=True, exist_ok=True)
        if any(work.iterdir()):
            raise SystemExit(f"{work} is neither empty nor a --keep directory of this benchmark")
    server = PlatformServer(work / "platform.sqlite3", token=TOKEN, result_delay_ms=30, quota=Decimal("1e13")).start()
    try:
        if kept is None:
            issued_s, upload_s, period = build(work, args.count, args.fast, server)
            if args.keep:
                built.write_text(json.dumps({"count": args.count, "fast": args.fast, "issue_s": issued_s,
                                             "upload_s": upload_s, "period": period}))
        else:
            issued_s, upload_s, period = kept["issue_s"], kept["upload_s"], kept["period"]

        def child(step: str, module: str = "-") -> dict[str, Any]:
            command = [sys.executable, str(Path(__file__).resolve()), "--step", step, "--work", str(work),
                       "--url", server.url, "--period", period, "--count", str(args.count), "--module", module]
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                                  env={**os.environ, "PYTHONHASHSEED": "0"})
            if done.returncode != 0:
                raise SystemExit(f"{step} failed:\n{done.stderr}")
            return dict(json.loads(done.stdout.strip().splitlines()[-1]))

        modules = args.module or ["-"]
        runs: dict[str, list[dict[str, Any]]] = {"download": [], **{f"reconcile {m}": [] for m in modules}}
        for _ in range(args.repeat):
            runs["download"].append(child("download"))
            for module in modules:
                runs[f"reconcile {module}"].append(child("reconcile", module))
        rebuilds = {} if args.no_rebuild else {modules[-1]: child("rebuild", modules[-1])}
    finally:
        server.stop()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)

    n = args.count
    best = {step: min(found, key=lambda r: r["seconds"]) for step, found in runs.items()}
    download = best["download"]
    fast = kept["fast"] if kept is not None else args.fast
    print(f"{'invoices':<30}{n:>10,}   ({'--fast' if fast else 'worker over HTTP'} build)")
    if kept is not None:
        print(f"(both sides as built in {work} by an earlier run)")
    print(f"{'issue (setup)':<30}{issued_s:>9.2f} s")
    print(f"{'upload (setup)':<30}{upload_s:>9.2f} s")

    def line(label: str, result: dict[str, Any]) -> None:
        seconds, added = result["seconds"], result["rss_added_kib"] / 1024
        ratio = "" if result is download else f"  x{seconds / download['seconds']:.2f} of download"
        memory = "" if result is download else f" (x{added / max(download['rss_added_kib'] / 1024, 0.01):.2f})"
        print(f"{label:<30}{seconds:>9.2f} s  {n / seconds:>9,.0f}/s{ratio}   peak RSS added "
              f"{added:>7.1f} MiB{memory}")

    def named(step: str, module: str) -> str:
        return step if module == "-" else f"{step} [{Path(module).name}]"

    line("download (baseline)", download)
    for module in modules:
        line(named("reconcile", module), best[f"reconcile {module}"])
    if args.repeat > 1:
        for step, found in runs.items():
            print(f"  {step} runs: " + ", ".join(f"{r['seconds']:.2f} s / {r['rss_added_kib'] / 1024:.1f} MiB"
                                                 for r in found))
    for module, rebuild in rebuilds.items():
        line(named("rebuild (import all)", module), rebuild)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The history check at 10k, 100k and 1M invoices against a plain walk of the same chain, same run.

    .venv/bin/python tests/benchmarks/bench_audit_verify.py --store DIR [--store DIR ...]
    .venv/bin/python tests/benchmarks/bench_audit_verify.py --build 10000,100000 --work /tmp/bench-stores

Stores come from tests/benchmarks/build_store.py (--build makes them in --work, reusing one already
there). Each measurement runs in a fresh process, so its peak RSS (resource.getrusage ru_maxrss) is its
own:
  walk    the plain chain walk: one cursor over the entries in id order (with the invoice number the hash
          covers), each hash recomputed and each link compared, nothing kept (the baseline);
  full    app.services.integrity.verify_store: the whole chain and every invoice against its entries
          (what `audit verify --full` runs; from integrity.FEED_MIN invoices SQLite writes the bodies on a
          second connection in a thread meanwhile: --feed-off measures it without, in the same run);
  quick   app.services.integrity.check_history after a head was recorded: what came after the head plus
          the rolling sample, and every invoice not settled (what the app runs at start and `audit verify`
          runs; it grows with the waiting column, ~30 µs an invoice at 1M).
Prints seconds (wall, and CPU: the process's, every thread of it), peak RSS and the ratios full/walk. Not a
test: run by hand. The quick check records the
head it verified in the store: run it on a copy of a store kept for measuring.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _one(operation: str, directory: Path) -> dict[str, float | int | bool]:
    from app.store.database import open_store

    if operation == "full-nofeed":
        from app.services import integrity
        integrity.FEED_MIN = 2**62
        operation = "full"
    store = open_store(directory)
    try:
        if operation == "quick":
            from app.services.integrity import check_history, recorded_head
            if recorded_head() is None:
                check_history(full=True)  # the first check records the head (not timed: done once per store)
        connection = store.db.connection()
        began, cpu = time.perf_counter(), time.process_time()
        if operation == "walk":
            from app.store import audit
            prev, entries, ok = audit.GENESIS, 0, True
            cursor = connection.execute(
                "SELECT a.at, a.clerk, a.action, coalesce(i.provisional_number, ''), a.detail, a.prev_hash, a.hash "
                "FROM audit_entry a LEFT JOIN invoice i ON i.id = a.invoice_id ORDER BY a.id")
            for at, clerk, action, number, detail, prev_hash, digest in cursor:
                ok = ok and prev_hash == prev and audit.entry_hash(prev_hash, at, clerk, action, number,
                                                                   detail) == digest
                prev = digest
                entries += 1
            result: dict[str, float | int | bool] = {"ok": ok, "entries": entries}
        elif operation == "full":
            from app.services.integrity import verify_store
            report = verify_store()
            result = {"ok": report.ok, "entries": report.entries}
        else:
            from app.services.integrity import check_history
            report = check_history()
            result = {"ok": report.ok, "entries": report.entries}
        result["seconds"] = time.perf_counter() - began
        result["cpu"] = time.process_time() - cpu
        result["rss_mb"] = _rss_mb()
        return result
    finally:
        store.close()


def _measure(operation: str, directory: Path) -> dict[str, float | int | bool]:
    done = subprocess.run([sys.executable, __file__, "--one", operation, str(directory)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{operation} on {directory} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _invoices(directory: Path) -> tuple[int, int]:
    """(invoices, those not settled: waiting, rejected or too late; the quick check reads every one)."""
    import sqlite3

    from app.services.integrity import OPEN_STATUSES
    from app.store.database import STORE_FILE
    connection = sqlite3.connect(str(directory / STORE_FILE))
    try:
        total = int(connection.execute("SELECT count(*) FROM invoice").fetchone()[0])
        marks = ", ".join("?" for _ in OPEN_STATUSES)
        unsettled = connection.execute(f"SELECT count(*) FROM invoice WHERE status IN ({marks})", OPEN_STATUSES)
        return total, int(unsettled.fetchone()[0])
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", action="append", type=Path, default=[], help="a store built by build_store.py")
    parser.add_argument("--build", default="", help="sizes to build in --work, e.g. 10000,100000,1000000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/fapiao-bench-stores"))
    parser.add_argument("--no-full", action="store_true", help="skip the full check (minutes at 1M)")
    parser.add_argument("--feed-off", action="store_true", help="also the full check without the body feed")
    parser.add_argument("--one", nargs=2, metavar=("OPERATION", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one[0], Path(args.one[1]))))
        return 0
    stores: list[Path] = list(args.store)
    for size in [int(s) for s in args.build.split(",") if s]:
        from app.store.database import STORE_FILE
        from tests.helpers.store_builder import build_store
        target = args.work / f"store-{size}"
        if not (target / STORE_FILE).exists():
            print(build_store(target, size, waiting=min(size // 100, 10000)).describe(), flush=True)
        stores.append(target)
    nan: dict[str, float | int | bool] = {"ok": True, "seconds": float("nan"), "cpu": float("nan"),  # ok-float
                                          "rss_mb": float("nan")}  # ok-float: not measured
    print(f"{'invoices':>9} {'waiting':>7} {'entries':>9} | {'walk s':>6} {'cpu':>6} {'MB':>4} | "
          f"{'full s':>6} {'cpu':>6} {'MB':>4} | {'nofeed':>6} {'cpu':>6} | {'quick s':>7} {'cpu':>6} {'MB':>4} | "
          f"{'full/walk':>9} {'cpu':>5} {'RSS':>5}")
    for directory in stores:
        walk = _measure("walk", directory)
        full = _measure("full", directory) if not args.no_full else nan
        nofeed = _measure("full-nofeed", directory) if args.feed_off and not args.no_full else nan
        quick = _measure("quick", directory)
        assert walk["ok"] and full["ok"] and nofeed["ok"] and quick["ok"], (walk, full, nofeed, quick)
        invoices, waiting = _invoices(directory)
        print(f"{invoices:>9} {waiting:>7} {walk['entries']:>9} | {walk['seconds']:>6.2f} {walk['cpu']:>6.2f} "
              f"{walk['rss_mb']:>4.0f} | {full['seconds']:>6.2f} {full['cpu']:>6.2f} {full['rss_mb']:>4.0f} | "
              f"{nofeed['seconds']:>6.2f} {nofeed['cpu']:>6.2f} | {quick['seconds']:>7.3f} {quick['cpu']:>6.3f} "
              f"{quick['rss_mb']:>4.0f} | {full['seconds'] / walk['seconds']:>9.2f} "
              f"{full['cpu'] / walk['cpu']:>5.2f} {full['rss_mb'] / walk['rss_mb']:>5.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

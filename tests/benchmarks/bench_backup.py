"""A verified backup of a store of N invoices, and the history check, against a bare backup copy.

    .venv/bin/python tests/benchmarks/bench_backup.py [--count N]
    .venv/bin/python tests/benchmarks/bench_backup.py --store DIR   (a store of tests/benchmarks/build_store.py)

Issues N invoices (default 10,000) through the issue service (with an audit entry each and a
few printed/queued entries on top), then measures in this process:
  copy       sqlite3 Connection.backup into a file, nothing else (the baseline: what any online
             backup must cost);
  backup     app.services.backup.make_backup: snapshot figures, the copy, integrity_check, a scratch
             restore, verify_store on it (chain + every invoice rebuilt and hashed), manifest, rotation;
  verify     verify_store on the live store (what `audit verify` and the app's start check do);
  open       open_store, which now runs quick_check before migrations;
  restore    restore_backup (verifies the backup, moves the store aside, copies the backup in).
Prints seconds, invoices per second and ratios to the copy. Not a test: run by hand.

With --store (a big store built once, e.g. 1,000,000 invoices; it is copied first, never written): the copy,
the first history check of a desk that never ran one (full, records the verified head), then the backup the
app makes (verified in place and incrementally from that head), each with the peak RSS it added.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--store", type=Path, default=None, help="an existing store's folder (copied, not written)")
    args = parser.parse_args()
    if args.store is not None:
        return big_store(args.store)

    from app.core.limits import OfflineLimits
    from app.services import backup
    from app.services.integrity import verify_store
    from app.services.issuing import issue_invoices
    from app.services.limits import set_limits
    from app.services.seller import set_seller
    from app.services.store_access import open_store
    from app.store.database import STORE_FILE
    from tests.helpers.bodies import SELLER_TAX_ID, invoice_body

    work = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    store = open_store(work / "store")
    set_seller(name="北京某某科技有限公司", tax_id=SELLER_TAX_ID, drawer="张三")
    set_limits(OfflineLimits(max_hours=72, max_count=10 ** 9, max_amount=Decimal("1e15"), max_single=Decimal("1e9")))
    two_lines = invoice_body(lines=[invoice_body()["lines"][0], {**invoice_body()["lines"][0], "item_name": "维护"}])
    started = time.perf_counter()
    for start in range(0, args.count, 500):
        issue_invoices([two_lines] * min(500, args.count - start))
    issue_s = time.perf_counter() - started
    store.close()
    path = work / "store" / STORE_FILE
    size_mb = path.stat().st_size / 1e6

    started = time.perf_counter()
    source, target = sqlite3.connect(str(path)), sqlite3.connect(str(work / "bare.sqlite3"))
    source.backup(target)
    source.close()
    target.close()
    copy_s = time.perf_counter() - started

    started = time.perf_counter()
    record = backup.make_backup(path, work / "backups")
    backup_s = time.perf_counter() - started
    assert record.ok, record.problems

    store = open_store(work / "store")
    started = time.perf_counter()
    report = verify_store()
    verify_s = time.perf_counter() - started
    assert report.ok and report.invoices == args.count
    store.close()

    started = time.perf_counter()
    open_store(work / "store").close()
    open_s = time.perf_counter() - started

    started = time.perf_counter()
    backup.restore_backup(work / "store", work / "backups" / record.file)
    restore_s = time.perf_counter() - started

    n = args.count
    print(f"invoices                {n:>10,}  ({size_mb:.1f} MB store, 2 lines each)")
    print(f"issue (setup)           {issue_s:>9.2f} s")
    print(f"copy (baseline)         {copy_s:>9.2f} s  {n / copy_s:>11,.0f}/s")
    for label, seconds in (("backup + verify", backup_s), ("verify_store (live)", verify_s),
                           ("open_store (quick_check)", open_s), ("restore (verify + copy)", restore_s)):
        print(f"{label:<24}{seconds:>9.2f} s  {n / seconds:>11,.0f}/s  x{seconds / copy_s:.1f} of copy")
    return 0


def big_store(folder: Path) -> int:
    import resource
    import shutil

    from app.services import backup
    from app.services.integrity import check_history
    from app.services.store_access import open_store
    from app.store.database import STORE_FILE

    def rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    work = Path(tempfile.mkdtemp(prefix="bench-backup-big-", dir=folder.parent))
    shutil.copyfile(folder / STORE_FILE, work / STORE_FILE)  # the built store stays as it is
    path = work / STORE_FILE
    size_mb = path.stat().st_size / 1e6

    started = time.perf_counter()
    source, target = sqlite3.connect(str(path)), sqlite3.connect(str(work / "bare.sqlite3"))
    source.backup(target)
    source.close()
    target.close()
    copy_s = time.perf_counter() - started
    (work / "bare.sqlite3").unlink()

    store = open_store(work)
    before = rss_mb()
    started = time.perf_counter()
    report = check_history(full=True, record=True)
    check_s = time.perf_counter() - started
    assert report.ok, report.first and report.first.describe()
    check_rss = rss_mb() - before
    n = report.invoices
    store.close()

    before = rss_mb()
    started = time.perf_counter()
    record = backup.make_backup(path, work / "backups")
    backup_s = time.perf_counter() - started
    backup_rss = rss_mb() - before
    assert record.ok, record.problems
    print(f"invoices                {n:>10,}  ({size_mb:.0f} MB store)")
    print(f"copy (baseline)         {copy_s:>9.2f} s")
    print(f"first history check     {check_s:>9.2f} s  x{check_s / copy_s:.1f} of copy  (+{check_rss:.0f} MB peak)")
    print(f"backup + verify         {backup_s:>9.2f} s  x{backup_s / copy_s:.1f} of copy  (+{backup_rss:.0f} MB peak)")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

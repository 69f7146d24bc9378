"""The invoice list with a million invoices: time to open and scroll to the end, and memory.

    .venv/bin/python tests/benchmarks/bench_invoice_list.py [--count N] [--store DIR]

Builds a store with N invoices (default 1,000,000; bulk insert, kept in --store DIR for reruns),
then measures, each in a fresh process so memory figures do not mix:
  count     the bare SELECT count(*) the lazy model starts with (baseline for opening);
  eager     a plain QStandardItemModel filled with 10,000 rows in a QTableView (what a
            non-lazy list costs per row; its per-row figures are scaled to N);
  lazy      the main window over all N: open and show, scroll to the end, 200 jumps;
  pages     the newest 100 through the app's query (app.store.queries.list_page) against the raw
            indexed query on a bare sqlite3 connection, and the list model's pages read by key (the
            first, the deepest, a jump into the middle; unfiltered and filtered by status) against
            the first page, with the deep page by OFFSET for reference. Medians of many reads.
Prints each figure and the ratios. Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "ui")]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

EAGER_ROWS = 10_000


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def build_store(directory: Path, count: int) -> float:
    from app.services.seller import set_seller
    from app.services.store_access import open_store
    from app.store.models import Invoice
    from tests.helpers.bulk_invoices import insert_invoices

    store = open_store(directory)
    have = Invoice.select().count()
    started = time.perf_counter()
    if have < count:
        if have == 0:
            set_seller(name="北京某某科技有限公司", tax_id="91110108MA0123456G", drawer="张三")
        store.db.pragma("synchronous", "off")  # a throwaway benchmark store: build it fast
        insert_invoices(count - have, first=have + 1, accepted_every=10)
    store.close()
    return time.perf_counter() - started


def pump(app, rounds: int = 3) -> None:
    for _ in range(rounds):
        app.processEvents()


def part_count(directory: Path) -> dict:
    from app.services.store_access import open_store
    from app.store import queries

    open_store(directory)
    started = time.perf_counter()
    rows = queries.count_invoices()
    return {"count_s": time.perf_counter() - started, "rows": rows}


def part_eager(directory: Path) -> dict:
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QTableView

    from app.core.money import format_money_grouped
    from app.services.store_access import open_store
    from app.store import queries
    from app.ui.application import make_application

    app = make_application("zh", [])
    open_store(directory)
    pump(app)
    before = rss_kib()
    started = time.perf_counter()
    model = QStandardItemModel(0, 5)
    for item in queries.list_invoices(offset=0, limit=EAGER_ROWS):
        model.appendRow([QStandardItem(item.number), QStandardItem(item.issued_at[:16]),
                         QStandardItem(item.buyer_name), QStandardItem(format_money_grouped(item.total_with_tax)),
                         QStandardItem(item.status)])
    view = QTableView()
    view.setModel(model)
    view.resize(1100, 700)
    view.show()
    pump(app)
    opened = time.perf_counter() - started
    started = time.perf_counter()
    view.scrollToBottom()
    pump(app)
    scrolled = time.perf_counter() - started
    return {"rows": model.rowCount(), "open_s": opened, "scroll_s": scrolled, "rss_kib": rss_kib() - before}


def part_lazy(directory: Path) -> dict:
    from app.services.store_access import open_store
    from app.ui.application import build_main_window, make_application

    app = make_application("zh", [])
    store = open_store(directory)
    pump(app)
    from app.ui.invoice_list_model import InvoiceListModel

    started = time.perf_counter()
    alone = InvoiceListModel()
    alone.index(0, 0).data()
    model_alone = time.perf_counter() - started  # count + first page, without the window around it
    del alone
    before = rss_kib()
    started = time.perf_counter()
    window = build_main_window(store)
    window.show()
    pump(app)
    first = window.list_model.index(0, 0).data()
    opened = time.perf_counter() - started
    model, view = window.list_model, window.list_view
    started = time.perf_counter()
    view.scrollToBottom()
    pump(app)
    last = model.index(model.rowCount() - 1, 0).data()
    scrolled = time.perf_counter() - started
    fetched_open_and_scroll = model.rows_fetched
    generator = random.Random(7)
    jumps = 200
    started = time.perf_counter()
    for _ in range(jumps):
        view.scrollTo(model.index(generator.randrange(model.rowCount()), 0))
        pump(app, 1)
    jumped = (time.perf_counter() - started) / jumps
    return {"rows": model.rowCount(), "first": first, "last": last, "open_s": opened, "scroll_s": scrolled,
            "jump_s": jumped, "model_alone_s": model_alone, "rows_fetched": fetched_open_and_scroll,
            "rows_fetched_all": model.rows_fetched, "cached_rows": model.cached_rows,
            "rss_kib": rss_kib() - before}


RAW_NEWEST = ("SELECT id, provisional_number, official_number, issued_at, buyer_name, total_with_tax, status, kind "
              "FROM invoice ORDER BY id DESC LIMIT 100")


def median_s(action, repeat: int = 41) -> float:
    import statistics

    action()  # warm: the pages are in SQLite's cache and the OS's, as in a running app
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def part_pages(directory: Path) -> dict:
    import sqlite3

    from app.core import status
    from app.services.store_access import open_store
    from app.store import queries
    from app.ui.invoice_list_model import InvoiceListModel

    store = open_store(directory)
    raw = sqlite3.connect(str(store.path))
    result: dict = {
        "raw_newest_s": median_s(lambda: raw.execute(RAW_NEWEST).fetchall()),
        "app_newest_s": median_s(lambda: queries.list_page(100)),
    }
    model = InvoiceListModel()  # pages of PAGE_SIZE rows, as the window reads them

    def page_at(row: int) -> None:
        model._pages.clear()  # nothing held: the page is read from the store
        model.summary(row)

    for label, filter_ in (("all", None), ("accepted", status.ACCEPTED)):
        model.set_status(filter_)
        rows = model.rowCount()
        offset_sql = ("SELECT id FROM invoice " + ("WHERE status = ? " if filter_ else "")
                      + "ORDER BY id DESC LIMIT 200 OFFSET ?")
        offset_params = ((filter_,) if filter_ else ()) + (max(rows - 200, 0),)
        result[label] = {"rows": rows, "first_s": median_s(lambda: page_at(0)),
                         "deepest_s": median_s(lambda r=rows: page_at(r - 1)),
                         "middle_s": median_s(lambda r=rows: page_at(r // 2 + 7)),
                         "offset_deepest_s": median_s(
                             lambda q=offset_sql, p=offset_params: raw.execute(q, p).fetchall(), repeat=5)}
    return result


PARTS = {"count": part_count, "eager": part_eager, "lazy": part_lazy, "pages": part_pages}


def run_part(name: str, directory: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--part", name, "--store", str(directory)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--part", choices=PARTS, default=None)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(PARTS[args.part](args.store)), flush=True)
        os._exit(0)  # skip interpreter teardown: PySide6 can crash freeing a window at exit
    directory = args.store or Path(tempfile.mkdtemp(prefix="fapiao-bench-"))
    built = build_store(directory, args.count)
    print(f"store: {directory} ({args.count:,} invoices, built in {built:.1f} s)")
    count, eager, lazy, pages = (run_part(name, directory) for name in ("count", "eager", "lazy", "pages"))
    n = lazy["rows"]
    eager_per_row_s = eager["open_s"] / eager["rows"]
    eager_per_row_kib = eager["rss_kib"] / eager["rows"]
    print(f"baseline SELECT count(*) over {count['rows']:,}: {count['count_s'] * 1000:.1f} ms")
    print(f"baseline eager QStandardItemModel, {eager['rows']:,} rows: open {eager['open_s'] * 1000:.0f} ms, "
          f"scroll to end {eager['scroll_s'] * 1000:.1f} ms, memory {eager['rss_kib'] / 1024:.1f} MiB "
          f"({eager_per_row_kib * 1024:.0f} B/row)")
    print(f"lazy main window, {n:,} rows: open {lazy['open_s'] * 1000:.0f} ms, scroll to end "
          f"{lazy['scroll_s'] * 1000:.1f} ms, random jump {lazy['jump_s'] * 1000:.1f} ms, memory "
          f"{lazy['rss_kib'] / 1024:.1f} MiB")
    print(f"  rows read to open and scroll to the end {lazy['rows_fetched']:,}; after 200 jumps "
          f"{lazy['rows_fetched_all']:,}; rows held {lazy['cached_rows']:,}")
    print(f"  first {lazy['first']}, last {lazy['last']}; the list model alone (count + first page) "
          f"{lazy['model_alone_s'] * 1000:.0f} ms, the rest of opening is the window and what hooks into it")
    print("ratios:")
    print(f"  lazy open / bare count(*)            {lazy['open_s'] / count['count_s']:.1f}x")
    print(f"  list model alone / bare count(*)     {lazy['model_alone_s'] / count['count_s']:.1f}x")
    print(f"  lazy open ({n:,}) / eager open ({eager['rows']:,})  {lazy['open_s'] / eager['open_s']:.2f}x")
    print(f"  lazy open / eager open scaled to {n:,}  {lazy['open_s'] / (eager_per_row_s * n):.4f}x "
          f"(eager would take ~{eager_per_row_s * n:.1f} s)")
    print(f"  lazy memory / eager memory ({eager['rows']:,} rows)  {lazy['rss_kib'] / max(eager['rss_kib'], 1):.2f}x")
    print(f"  lazy memory / eager memory scaled to {n:,}  {lazy['rss_kib'] / (eager_per_row_kib * n):.4f}x "
          f"(eager would hold ~{eager_per_row_kib * n / 1024:.0f} MiB)")
    print(f"  rows read (open + end) / rows in store  {lazy['rows_fetched'] / n:.5f}")
    print("pages (median of 41 reads each, warm):")
    print(f"  newest 100: app's query {pages['app_newest_s'] * 1000:.3f} ms, raw indexed query "
          f"{pages['raw_newest_s'] * 1000:.3f} ms: {pages['app_newest_s'] / pages['raw_newest_s']:.2f}x (target <= 2x)")
    for label in ("all", "accepted"):
        p = pages[label]
        print(f"  list model, {label} ({p['rows']:,} rows): first page {p['first_s'] * 1000:.3f} ms, deepest "
              f"{p['deepest_s'] * 1000:.3f} ms ({p['deepest_s'] / p['first_s']:.2f}x the first; target <= 3x), "
              f"middle {p['middle_s'] * 1000:.3f} ms ({p['middle_s'] / p['first_s']:.2f}x); deepest by OFFSET "
              f"(raw) {p['offset_deepest_s'] * 1000:.1f} ms ({p['offset_deepest_s'] / p['deepest_s']:.0f}x by key)")


if __name__ == "__main__":
    main()

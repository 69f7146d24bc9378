"""Finding an invoice among many: the list's search against a LIKE scan of the same data, same run.

    .venv/bin/python tests/benchmarks/bench_search.py --store DIR [--invoices N]

DIR holds a store built by tests/benchmarks/build_store.py (realistic buyers, lines, numbers, remarks);
with --invoices N and no store there, one is built. Opening it brings it to the current schema (the
first open after schema step 8 builds the trigram index: its time is printed).

For each kind of word (a selective part of a buyer's name, a common one, two characters, one
character, a part of an item's name, of a number and of the remarks) it prints, as medians of many
warm reads:
  app first page   the newest 100 matches through the app's query (app.store.queries.search_page);
  app deep page    the 100 after the first 2,000 matches, read by key from the cursor;
  LIKE first page  the same 100 rows by a LIKE scan of the same columns on a bare sqlite3 connection
                   (the buyer's name for a buyer word; every searched column for the others);
  ratio            LIKE / app;
  count            every match counted, through the app's count and by the same LIKE scan (the whole table);
and the store's size, the index's share of it, and the count of matches. Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

COLUMNS = "id, provisional_number, official_number, issued_at, buyer_name, total_with_tax, status, kind"
EVERY_COLUMN = ("(provisional_number LIKE ?1 OR coalesce(official_number, '') LIKE ?1 OR buyer_name LIKE ?1 "
                "OR buyer_tax_id LIKE ?1 OR remarks LIKE ?1 OR EXISTS (SELECT 1 FROM invoice_line "
                "WHERE invoice_id = invoice.id AND name LIKE ?1))")
NAMES_ONLY = ("(buyer_name LIKE ?1 OR EXISTS (SELECT 1 FROM invoice_line WHERE invoice_id = invoice.id "
              "AND name LIKE ?1))")


def median_s(action, repeat: int = 15) -> float:
    """Median of warm runs, as the list benchmark takes them."""
    from tests.benchmarks.bench_invoice_list import median_s as list_median

    return list_median(action, repeat)


def _words(raw: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(what, word, LIKE condition) picked from the store itself."""
    buyers = [name for name, in raw.execute(
        "SELECT name FROM search_name WHERE kind = 'buyer' ORDER BY uses DESC")]
    def selective(name: str) -> str:
        """The 4-character piece of the name that fewest names hold."""
        pieces = [name[i:i + 4] for i in range(max(len(name) - 3, 1))]
        return min(pieces, key=lambda piece: sum(piece in other for other in buyers))

    chosen = buyers[len(buyers) // 2]
    rare = buyers[-1]
    common = max((name[i:i + 2] for name in buyers[:50] for i in range(len(name) - 1)),
                 key=lambda piece: sum(piece in name for name in buyers))
    items = [name.rsplit("*", 1)[-1] for name, in raw.execute(
        "SELECT name FROM search_name WHERE kind = 'item' ORDER BY uses DESC LIMIT 200")]
    item = next((name[:4] for name in items[20:] if len(name) >= 4), "软件开发")
    newest = raw.execute("SELECT provisional_number, remarks FROM invoice WHERE remarks != '' "
                         "ORDER BY id DESC LIMIT 1 OFFSET 5000").fetchone()
    number_part = (newest[0] if newest else "LX-0000001")[-7:]
    remarks_part = (newest[1] if newest else "合同号")[-6:]
    return [("buyer, a rare customer", selective(rare), "buyer_name LIKE ?1"),
            ("buyer, a middling customer", selective(chosen), "buyer_name LIKE ?1"),
            ("buyer, common (2 characters)", common, "buyer_name LIKE ?1"),
            ("buyer, one character", chosen[0], "buyer_name LIKE ?1"),
            ("anywhere, 2 characters", common, NAMES_ONLY),
            ("item name (4 characters)", item, EVERY_COLUMN),
            ("number part (7 digits)", number_part, EVERY_COLUMN),
            ("remarks part", remarks_part, EVERY_COLUMN)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--invoices", type=int, default=None, help="build a store of N invoices if none is there")
    args = parser.parse_args()
    from app.core.invoice_query import InvoiceQuery
    from app.store import invoice_search, queries
    from app.store.database import STORE_FILE, open_store

    if not (args.store / STORE_FILE).exists():
        if not args.invoices:
            parser.error("no store in --store: give --invoices N to build one")
        from tests.helpers.store_builder import build_store

        build_store(args.store, args.invoices, waiting=min(args.invoices // 100, 10_000))
    started = time.perf_counter()
    store = open_store(args.store)
    opened = time.perf_counter() - started
    raw = sqlite3.connect(str(store.path))
    count = raw.execute("SELECT count(*) FROM invoice").fetchone()[0]
    size = store.path.stat().st_size
    index_pages = raw.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'invoice_search%' "
                              "OR name LIKE 'search_name%'").fetchone()[0] or 0
    print(f"store: {store.path} ({count:,} invoices, {size / 2**20:,.0f} MiB; search index and names "
          f"{index_pages / 2**20:,.0f} MiB = {index_pages / size:.0%}); open {opened:.2f} s")
    print(f"{'word':40} {'matches':>9} {'app first':>10} {'app deep':>9} {'LIKE first':>11} {'LIKE/app':>9} "
          f"{'app count':>10} {'LIKE count':>11} {'LIKE/app':>9}")
    for what, word, like in _words(raw):
        query = InvoiceQuery.searching(word).check()
        if what.startswith("buyer"):
            query = InvoiceQuery().with_words("buyer", word).check()
        matches = invoice_search.count_up_to(query, 10**9)
        counted = median_s(lambda q=query: invoice_search.count_up_to(q, 10**9), repeat=3)
        first = median_s(lambda q=query: queries.search_page(q, 100))
        cursor = None
        for _ in range(20):  # to the 2,001st match, by key
            page = queries.search_page(query, 100, cursor)
            cursor = page.after
            if cursor is None:
                break
        deep = median_s(lambda q=query, c=cursor: queries.search_page(q, 100, c)) if cursor else float("nan")
        pattern = "%" + word + "%"
        sql = f"SELECT {COLUMNS} FROM invoice WHERE {like} ORDER BY id DESC LIMIT 100"
        scanned = median_s(lambda s=sql, p=pattern: raw.execute(s, (p,)).fetchall(), repeat=5)
        count_sql = f"SELECT count(*) FROM invoice WHERE {like}"
        scan_counted = median_s(lambda s=count_sql, p=pattern: raw.execute(s, (p,)).fetchall(), repeat=3)
        app_ids = [row.id for row in queries.search_page(query, 100).rows]
        like_ids = [row[0] for row in raw.execute(sql, (pattern,)).fetchall()]
        same = "" if app_ids == like_ids or not what.startswith(("buyer", "anywhere")) else "  (rows differ!)"
        deep_text = f"{deep * 1000:>7.2f}ms" if cursor else f"{'-':>9}"  # fewer than 2,000 matches
        print(f"{what + ' ' + repr(word):40} {matches:>9,} {first * 1000:>8.2f}ms {deep_text} "
              f"{scanned * 1000:>9.1f}ms {scanned / first:>8.1f}x {counted * 1000:>8.1f}ms "
              f"{scan_counted * 1000:>9.0f}ms {scan_counted / counted:>8.1f}x{same}", flush=True)
    store.close()


if __name__ == "__main__":
    main()

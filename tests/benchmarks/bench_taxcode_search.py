"""Searching the tax classification table as a clerk types, against a plain LIKE scan of the same table.

    .venv/bin/python tests/benchmarks/bench_taxcode_search.py [--repeat N]

Opens a fresh store (the shipped table, 4,236 rows), then times in this process, each query
--repeat times (default 50):
  search     app.store.taxcode_search.search_codes(q): the picker's query (ranked, leaves, usable,
             first 50), rows turned into TaxCodeHit;
  baseline   SELECT code, name ... WHERE name/short_name/keywords/explanation LIKE '%q%', every row
             fetched, no ranking (what any substring search over the table must cost).
Queries by kind: code prefix, one Chinese character, two Chinese characters, pinyin initials,
keyword. Prints median and p95 per kind in milliseconds and the ratio search/baseline.
Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

QUERIES: dict[str, tuple[str, ...]] = {
    "code prefix": ("1", "304", "1090", "3040201", "1010101010000000000"),
    "1 char": ("软", "服", "机", "油"),
    "2 chars": ("软件", "电脑", "餐饮", "运输"),
    "initials": ("rjkf", "r", "yh", "dn", "jsj"),
    "keyword": ("籼稻", "芽苗菜", "民航"),
}


def timed(call, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    from app.services.store_access import open_store
    from app.store.models import TaxCode, database
    from app.store.taxcode_search import search_codes

    started = time.perf_counter()
    store = open_store(Path(tempfile.mkdtemp(prefix="bench-taxcodes-")) / "store")
    open_s = time.perf_counter() - started
    rows = TaxCode.select().count()
    table = TaxCode._meta.table_name
    baseline_sql = (f"SELECT code, name FROM {table} WHERE name LIKE ? OR short_name LIKE ? OR keywords LIKE ? "
                    "OR explanation LIKE ?")

    def baseline(text: str) -> list[tuple[str, str]]:
        like = f"%{text}%"
        return list(database.execute_sql(baseline_sql, [like] * 4).fetchall())

    print(f"fresh store with the shipped table: {rows} rows, opened in {open_s:.2f} s; {args.repeat} runs a query")
    print(f"{'kind':<12} {'queries':>7} {'search med':>10} {'p95':>7} {'base med':>9} {'p95':>7} {'ratio':>6}"
          f"  hits (search / baseline) per query")
    every_search: list[float] = []
    for kind, queries in QUERIES.items():
        mine: list[float] = []
        base: list[float] = []
        hits = []
        for text in queries:
            search_codes(text)  # warm: the first call prepares the statement
            mine += timed(lambda text=text: search_codes(text), args.repeat)
            base += timed(lambda text=text: baseline(text), args.repeat)
            hits.append(f"{text}:{len(search_codes(text))}/{len(baseline(text))}")
        every_search += mine
        ratio = statistics.median(mine) / statistics.median(base)
        print(f"{kind:<12} {len(queries):>7} {statistics.median(mine) * 1000:>8.2f}ms {p95(mine) * 1000:>5.2f}ms "
              f"{statistics.median(base) * 1000:>7.2f}ms {p95(base) * 1000:>5.2f}ms {ratio:>6.2f}  {' '.join(hits)}")
    count = sum(len(q) for q in QUERIES.values())
    print(f"all {count} queries: search median {statistics.median(every_search) * 1000:.2f} ms, "
          f"p95 {p95(every_search) * 1000:.2f} ms, worst {max(every_search) * 1000:.2f} ms (budget: well under 50 ms)")
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

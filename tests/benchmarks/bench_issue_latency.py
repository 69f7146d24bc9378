"""Issue latency on the direct channel, with 0, 10,000 and 100,000 invoices waiting to upload.

    .venv/bin/python tests/benchmarks/bench_issue_latency.py [--quick] [--samples N] [--levels 0,10000,100000]
    .venv/bin/python tests/benchmarks/bench_issue_latency.py --store DIR [--samples N] [--levels N]

--store DIR measures on the store in DIR instead of a new one: a COPY (it is written into: the desk is set
to the direct channel on the in-process platform with limits out of the way, and every timed issue stays),
e.g. of a store of 1,000,000 invoices built by tests/helpers/store_builder.py. It is measured with the
invoices it holds waiting (more are put in fast when --levels asks for more).

One store (WAL, synchronous=FULL: the desk's own pragmas), the reference platform in-process on
loopback with a quota large enough; numbers (blocks of 5,000) and quota are drawn from it with the
real stock service (app.services.stock.top_up), repeated as the blocks run out.

At each level of waiting invoices it times, interleaved one for one so drift hits both alike:
  service   app.services.issuing.issue_invoice of one draft: checks, then number + quota + buyer +
            invoice + line + queue entry + audit entry in one IMMEDIATE transaction;
  baseline  a raw INSERT of one invoice-wide row (the invoice table's own columns, in a copy of its
            table in the same file) in its own BEGIN IMMEDIATE ... COMMIT, on the store's very
            connection: what one durable commit costs on this disk.
The waiting invoices are put in fast, not issued one by one: copies of an invoice issued through the
service (its row, line, queue entry `pending` and `issued` audit entry), each under the next number
of a held block, with the block's `used` and the month's drawn quota moved on as issuing moves them.
Prints p50 and p99 in ms and the ratio service / baseline. Targets (issue 13): p50 <= 5 ms, p99 <= 10 ms
and p50 within 10x the baseline's p50, at every level. Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token-0123456789"
SELLER_NAME = "北京某某科技有限公司"  # the reference platform's own taxpayer (its defaults)
TARGET_P50_MS = 5.0
TARGET_P99_MS = 10.0
TARGET_RATIO = 10.0  # service p50 / baseline p50
BLOCK_SIZE = 5000
PLATFORM_QUOTA = Decimal("9000000000.00")  # a month's quota on the platform: room for 100,000 x 1,000.00 and more


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


def draft(n: int) -> dict[str, Any]:
    from tests.helpers.bodies import invoice_body

    return invoice_body(remarks=f"#{n}")  # 1,000.00 + 60.00 tax, one line


# --- the desk on the direct channel --------------------------------------------------------------

def start_platform(db: Path, result_delay_ms: int = 0):
    from app.platform.server import PlatformServer

    return PlatformServer(db, token=TOKEN, quota=PLATFORM_QUOTA, result_delay_ms=result_delay_ms).start()


def set_up_desk(data_dir: Path, url: str):  # a new store, or a copy given with --store
    """A store with the seller, the direct channel, limits out of the way and stock settings of 5,000 a block."""
    from app.core.limits import OfflineLimits
    from app.services import stock
    from app.services.channel import set_channel
    from app.services.limits import set_limits
    from app.services.seller import set_seller
    from app.services.settings import set_platform
    from app.services.store_access import open_store
    from tests.helpers.bodies import SELLER_TAX_ID

    store = open_store(data_dir)
    set_seller(name=SELLER_NAME, tax_id=SELLER_TAX_ID, drawer="张三")
    set_limits(OfflineLimits(max_count=10**9, max_amount=Decimal("1e12"), max_single=Decimal("1e9")))
    set_platform(url, TOKEN)
    set_channel("direct")
    # Numbers are drawn once fewer than 4,999 are left (one block at a time: top_up never holds more);
    # quota in slices of 500,000,000.00, downloaded again when less than 200,000,000.00 is left.
    stock.set_stock_settings(block_size=BLOCK_SIZE, numbers_floor=BLOCK_SIZE - 1, quota_slice="500000000.00",
                             quota_floor="200000000.00")
    return store


def top_up(client) -> None:
    from app.services import stock

    result = stock.top_up(client)
    if not result.complete:
        raise SystemExit(f"top-up failed: {result}")


def ensure_numbers(client, wanted: int) -> None:
    """At least `wanted` numbers held (wanted <= BLOCK_SIZE - 1: one top-up draws a block when fewer are left)."""
    from app.services import stock

    if stock.stock_view().numbers_left < wanted:
        top_up(client)
    assert stock.stock_view().numbers_left >= wanted


def waiting_count() -> int:
    from app.core import status
    from app.store.models import Invoice

    return int(Invoice.select().where(Invoice.status.in_(status.WAITING_STATUSES)).count())


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def fill_waiting(client, count: int) -> float:
    """`count` more direct invoices waiting to upload, fast; returns the seconds it took.

    One invoice is issued through the service; the rest are copies of its rows under the next numbers of
    the held blocks (drawn with top_up as they run out), in one transaction a block."""
    from app.core.clock import now_iso
    from app.services import stock
    from app.services.issuing import issue_invoice
    from app.store import audit
    from app.store import stock as stock_store
    from app.store.models import AuditEntry, Invoice, InvoiceLine, NumberBlock, UploadQueueEntry, database
    from app.store.records import content_hash

    started = time.perf_counter()
    ensure_numbers(client, 1)
    template = issue_invoice(draft(0))
    conn = database.connection()
    inv_table, line_table = Invoice._meta.table_name, InvoiceLine._meta.table_name
    queue_table = UploadQueueEntry._meta.table_name
    inv_cols = [c for c in _columns(conn, inv_table) if c != "id"]
    line_cols = [c for c in _columns(conn, line_table) if c not in ("id", "invoice_id")]
    row = dict(zip(inv_cols, conn.execute(f'SELECT {", ".join(inv_cols)} FROM "{inv_table}" WHERE id = ?',
                                          (template.id,)).fetchone(), strict=True))
    lines = conn.execute(f'SELECT {", ".join(line_cols)} FROM "{line_table}" WHERE invoice_id = ? ORDER BY position',
                         (template.id,)).fetchall()
    detail = json.loads(AuditEntry.get((AuditEntry.invoice == template.id) & (AuditEntry.action == "issued")).detail)
    drawn_each = template.invoice.total_amount
    left = count - 1
    insert_invoice = (f'INSERT INTO "{inv_table}" ({", ".join(inv_cols)}) '
                      f'VALUES ({", ".join("?" for _ in inv_cols)})')
    insert_line = (f'INSERT INTO "{line_table}" (invoice_id, {", ".join(line_cols)}) '
                   f'VALUES (?, {", ".join("?" for _ in line_cols)})')
    insert_entry = (f'INSERT INTO "{queue_table}" (invoice_id, idempotency_key, state, attempts, last_error, '
                    "created_at, updated_at) VALUES (?, ?, 'pending', 0, '', ?, ?)")
    while left > 0:
        ensure_numbers(client, 1)
        if stock.stock_view().quota_left < drawn_each * min(left, BLOCK_SIZE):
            top_up(client)
        year = stock.stock_view().year
        with database.atomic("IMMEDIATE"):
            for block_row in stock_store.held_blocks(year):
                block = stock_store.block_of(block_row)
                take = min(left, block.remaining)
                if take <= 0:
                    continue
                numbers = []
                for k in range(take):
                    number = dataclasses.replace(block, used=block.used + k).next_number()
                    assert number is not None
                    numbers.append(number)
                stamp = now_iso()
                last_id = conn.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{inv_table}"').fetchone()[0]
                rows = []
                for number in numbers:
                    copy = dict(row, provisional_number=number, official_number=number,
                                content_hash=content_hash(dataclasses.replace(template.invoice, number=number)))
                    rows.append(tuple(copy[c] for c in inv_cols))
                conn.executemany(insert_invoice, rows)
                ids = [r[0] for r in conn.execute(f'SELECT id FROM "{inv_table}" WHERE id > ? ORDER BY id',
                                                  (last_id,))]
                assert len(ids) == take
                conn.executemany(insert_line, [(i, *line) for i in ids for line in lines])
                keys = [str(uuid.uuid4()) for _ in ids]
                conn.executemany(insert_entry, [(i, key, stamp, stamp) for i, key in zip(ids, keys, strict=True)])
                audit.append_many([("issued", i, number, {**detail, "queued_key": key})
                                   for i, number, key in zip(ids, numbers, keys, strict=True)], clerk="")
                NumberBlock.update(used=NumberBlock.used + take).where(NumberBlock.id == block_row.id).execute()
                stock_store.change_drawn(str(row["quota_period"]), drawn_each * take)
                left -= take
                if left == 0:
                    break
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


# --- the two timings -----------------------------------------------------------------------------

class RawInsert:
    """One invoice-wide row in its own durable transaction, on the store's connection (same file, same pragmas)."""

    TABLE = "bench_raw_invoice"

    def __init__(self) -> None:
        from app.store.models import Invoice, database

        self.conn = database.connection()
        source = Invoice._meta.table_name
        ddl = self.conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                (source,)).fetchone()[0]
        self.conn.execute(f'DROP TABLE IF EXISTS "{self.TABLE}"')
        # The invoice table's own definition (columns, NOT NULL, UNIQUE, the buyer's foreign key), under another name.
        self.conn.execute(ddl.replace(f'"{source}"', f'"{self.TABLE}"', 1))
        self.columns = [c for c in _columns(self.conn, source) if c != "id"]
        self.template = dict(zip(self.columns, self.conn.execute(
            f'SELECT {", ".join(self.columns)} FROM "{source}" ORDER BY id DESC LIMIT 1').fetchone(), strict=True))
        self.sql = (f'INSERT INTO "{self.TABLE}" ({", ".join(self.columns)}) '
                    f'VALUES ({", ".join("?" for _ in self.columns)})')
        self.n = 0

    def once(self) -> float:
        self.n += 1
        number = f"RAW-{self.n:012d}"
        values = tuple({**self.template, "provisional_number": number, "official_number": number,
                        "content_hash": uuid.uuid4().hex}[c] for c in self.columns)
        started = time.perf_counter_ns()
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute(self.sql, values)
        self.conn.execute("COMMIT")
        return (time.perf_counter_ns() - started) / 1e6


def issue_once(n: int) -> float:
    from app.services.issuing import issue_invoice

    body = draft(n)
    started = time.perf_counter_ns()
    issue_invoice(body)
    return (time.perf_counter_ns() - started) / 1e6


def measure(client, samples: int, first_n: int) -> tuple[list[float], list[float]]:
    service: list[float] = []
    baseline: list[float] = []
    ensure_numbers(client, 5)
    for warm in range(5):  # caches and the first commit after a checkpoint: not counted
        issue_once(first_n + warm)
    raw = RawInsert()  # copies the row just issued
    for _ in range(5):
        raw.once()
    done = 0
    while done < samples:
        chunk = min(samples - done, 500)
        ensure_numbers(client, chunk)  # a top-up never inside a timed issue
        for k in range(chunk):
            service.append(issue_once(first_n + 5 + done + k))
            baseline.append(raw.once())
        done += chunk
    return service, baseline


def store_size() -> int:
    from app.store.models import database

    return int(database.execute_sql('SELECT COALESCE(MAX(id), 0) FROM "invoice"').fetchone()[0])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="levels 0 and 10,000, 100 samples each")
    parser.add_argument("--samples", type=int, default=None, help="timed issues per level (default 400)")
    parser.add_argument("--levels", default=None, help="invoices waiting to upload, comma-separated "
                                                       "(default 0,10000,100000; with --store: as it holds)")
    parser.add_argument("--store", type=Path, default=None,
                        help="a copy of a store to measure on (it is written into), e.g. one of 1,000,000 invoices")
    args = parser.parse_args()
    default_levels = "0" if args.store else ("0,10000" if args.quick else "0,10000,100000")
    levels = [int(x) for x in (args.levels or default_levels).split(",")]
    samples = args.samples or (100 if args.quick else 400)

    from app.platform.http_client import HttpPlatformClient
    from app.store.database import STORE_FILE

    if args.store is not None and not (args.store / STORE_FILE).is_file():
        raise SystemExit(f"--store {args.store}: no {STORE_FILE} there")
    work = Path(tempfile.mkdtemp(prefix="bench-issue-"))
    server = start_platform(work / "platform.sqlite3")
    client = HttpPlatformClient(server.url, TOKEN, timeout=30, batch_timeout=60)
    store = set_up_desk(args.store if args.store is not None else work / "store", server.url)
    rows: list[tuple[int, int, float, list[float], list[float], int]] = []
    try:
        top_up(client)
        for level in levels:
            have = waiting_count()
            fill_s = fill_waiting(client, level - have) if level > have else 0.0
            waiting = waiting_count()
            size = store_size()
            service, baseline = measure(client, samples, first_n=len(rows) * 10_000 + 1)
            rows.append((level, waiting, fill_s, service, baseline, size))
            print(f"  measured with {waiting:,} waiting in a store of {size:,} invoices (filled in {fill_s:.1f}s)",
                  flush=True)
    finally:
        client.close()
        store.close()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"issue latency, direct channel, {samples} issues a level (interleaved with as many raw inserts)")
    print(f"{'store':>9} {'waiting':>9} | {'service p50':>11} {'p99':>8} | {'raw p50':>8} {'p99':>8} | "
          f"{'ratio p50':>9} {'p99':>7} | p50 <= {TARGET_P50_MS:.0f} ms, p99 <= {TARGET_P99_MS:.0f} ms, "
          f"ratio <= {TARGET_RATIO:.0f}x")
    met_all = True
    for _, waiting, _, service, baseline, size in rows:
        s50, s99 = percentile(service, 0.50), percentile(service, 0.99)
        b50, b99 = percentile(baseline, 0.50), percentile(baseline, 0.99)
        checks = {"p50": s50 <= TARGET_P50_MS, "p99": s99 <= TARGET_P99_MS, "ratio": s50 / b50 <= TARGET_RATIO}
        verdicts = [f"{name} {'met' if met else 'NOT met'}" for name, met in checks.items()]
        met_all = met_all and all(checks.values())
        print(f"{size:>9,} {waiting:>9,} | {s50:>8.2f} ms {s99:>5.2f} ms | {b50:>5.2f} ms {b99:>5.2f} ms | "
              f"{s50 / b50:>8.1f}x {s99 / b99:>6.1f}x | {', '.join(verdicts)}")
    if len(rows) > 1:
        first, last = percentile(rows[0][3], 0.5), percentile(rows[-1][3], 0.5)
        print(f"service p50 at {rows[-1][1]:,} waiting / at {rows[0][1]:,}: {last / first:.2f}x")
    print(f"targets (p50 <= {TARGET_P50_MS:.0f} ms, p99 <= {TARGET_P99_MS:.0f} ms, p50 <= {TARGET_RATIO:.0f}x raw): "
          f"{'met' if met_all else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

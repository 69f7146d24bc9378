"""Issue latency on the direct channel, with 0, 10,000 and 100,000 invoices waiting to upload.

    .venv/bin/python tests/benchmarks/bench_issue_latency.py [--quick] [--samples N] [--levels 0,10000,100000]
    .venv/bin/python tests/benchmarks/bench_issue_latency.py --store DIR [--samples N] [--levels N]

--store DIR measures on the store in DIR instead of a new one: a COPY (it is written into: the desk is set
to the direct channel on the in-process platform with limits out of the way, and every timed issue stays),
e.g. of a store of 1,000,000 invoices built by tests/helpers/store_builder.py. It is measured with the
invoices it holds waiting (more are put in fast when --levels asks for more). The baseline's copy of it
(below) is made beside it in DIR, as large as the store, and deleted after each level.

One store (WAL, synchronous=FULL: the desk's own pragmas), the reference platform in-process on
loopback with a quota large enough; numbers (blocks of 5,000) and quota are drawn from it with the
real stock service (app.services.stock.top_up), repeated as the blocks run out.

At each level of waiting invoices, just before the timed issues, the store is checkpointed
(wal_checkpoint(TRUNCATE)) and its file copied beside it; the copy is opened with plain sqlite3
(isolation_level=None) and the store's own pragmas (app.store.database.make_database). From then on
every statement through which the desk changes its store is recorded as it runs, with its parameters:
what goes through the database's execute_sql (peewee's queries and the hand-built SQL alike) that is
an INSERT / UPDATE / DELETE / REPLACE / DDL or changes rows, the savepoints there, and the
transactions' BEGIN / COMMIT / ROLLBACK. It times, interleaved one for one so drift hits all alike:
  service   app.services.issuing.issue_invoice of one draft, all of it: the checks, its reads
            (seller, settings, limits, the block, the quota, the last audit hash, ...), building the
            SQL (peewee) and the values, then number + quota + buyer + invoice (ten indexes; the
            trigger-kept waiting totals and search-name directory) + line + search-index (FTS5) row +
            queue entry + audit entry in one IMMEDIATE transaction, committed (fsync);
  baseline  the same writes replayed on the copy with raw sqlite3: the statements this issue
            recorded, with the same parameters, as BEGIN IMMEDIATE; ...; COMMIT on one cursor (the
            same rows, indexes, triggers and FTS5 work, the same commit; none of the service's reads,
            checks or SQL building). Each replay must change as many rows (total_changes, triggers
            included) on the copy as the issue did on the store, or the run stops;
  1 row     the old baseline, for reference only (not the ratio's): one invoice-wide row INSERTed in
            its own BEGIN IMMEDIATE ... COMMIT into an unindexed table of the invoice table's
            definition, in a small file of its own beside the store (same pragmas): what one durable
            commit of one row costs on this disk.
What the desk writes between timed issues (the top-ups of numbers and quota) is replayed on the copy
too, untimed, transaction for transaction. At the end of each level the two files are compared: the
rows of every table (counted; all compared in tables of up to 50,000 rows, the newest ones in larger
tables), and the copy (and the 1-row file) deleted. The recording adds a microsecond or two to
each statement the issue runs (about 20 of them): some 20-40 us, 1-2% of a 2 ms issue, on the service's side.
The waiting invoices are put in fast, not issued one by one: copies of an invoice issued through the
service (its row, line, queue entry `pending` and `issued` audit entry), each under the next number
of a held block, with the block's `used` and the month's drawn quota moved on as issuing moves them.
Prints p50 and p99 in ms and the ratios service / baseline. Targets (issue 13): p50 <= 5 ms, p99 <= 10 ms
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


# --- the baseline: the issue's own writes, replayed on a copy of the store ------------------------

# (sql, parameters) of one recorded statement; BEGIN / COMMIT / ROLLBACK are recorded as statements too.
Statement = tuple[str, Any]
# Statements that change the store whatever rows they touch (an UPDATE of no row is still replayed).
WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})
# Savepoints (peewee's nested atomic) go through execute_sql; they are replayed as they came.
SAVEPOINT_VERBS = frozenset({"SAVEPOINT", "RELEASE", "ROLLBACK"})
BASELINE_FILE = "bench-baseline-copy.sqlite3"
COMPARED_WHOLE = 50_000  # tables up to this many rows are compared row for row at the end of a level


def _verb(sql: str) -> str:
    """The statement's first word, upper case (read from its start only: this runs inside the timed issues)."""
    words = sql[:40].lstrip().split(None, 1)
    return words[0].upper().rstrip(";") if words else ""


def _frozen(params: Any) -> Any:
    if params is None:
        return ()
    if isinstance(params, dict):
        return dict(params)
    return tuple(params)


class Recorder:
    """Every statement through which the desk changes its store, in order, with its parameters.

    Wraps the store's database object (the one behind app.store.models.database): execute_sql, through
    which peewee runs every query it builds and the store's hand-built SQL runs too (records.insert_row,
    stock, audit.append, the search index); and begin / commit / rollback, which peewee runs on a bare
    cursor. A write that bypasses these (connection().executemany, as audit.append_many and the queue
    worker do) is not recorded: the changes it makes show as a difference of total_changes between the
    store and the copy, and the run stops."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.conn: sqlite3.Connection = db.connection()
        self.log: list[Statement] = []
        self._execute_sql = db.execute_sql
        self._begin, self._commit, self._rollback = db.begin, db.commit, db.rollback

    def install(self) -> None:
        conn, log, execute_sql = self.conn, self.log, self._execute_sql

        def recording_execute_sql(sql: str, params: Any = None) -> Any:
            before = conn.total_changes
            cursor = execute_sql(sql, params)
            verb = _verb(sql)
            if verb in WRITE_VERBS or verb in SAVEPOINT_VERBS or conn.total_changes != before:
                log.append((sql, _frozen(params)))
            return cursor

        def recording_begin(*args: Any, **kwargs: Any) -> None:
            self._begin(*args, **kwargs)
            lock = (args[0] if args else kwargs.get("lock_type")) or getattr(self.db, "_lock_type", None)
            log.append((f"BEGIN {lock}" if lock else "BEGIN", ()))

        def recording_commit() -> None:
            self._commit()
            log.append(("COMMIT", ()))

        def recording_rollback() -> None:
            self._rollback()
            log.append(("ROLLBACK", ()))

        # Instance attributes: peewee calls self.execute_sql / self.begin / ..., and the models' proxy forwards.
        self.db.execute_sql = recording_execute_sql
        self.db.begin, self.db.commit, self.db.rollback = recording_begin, recording_commit, recording_rollback

    def remove(self) -> None:
        for name in ("execute_sql", "begin", "commit", "rollback"):
            self.db.__dict__.pop(name, None)

    def take(self) -> list[Statement]:
        taken = self.log[:]
        self.log.clear()
        return taken


def open_like_store(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection (autocommit: transactions as the SQL says) with the pragmas the desk opens its
    store with (WAL, synchronous FULL, foreign keys, busy timeout: app.store.database.make_database), set as
    peewee sets them at connect."""
    from app.store.database import BUSY_TIMEOUT_SECONDS, make_database

    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    desk_db: Any = make_database(path)  # not connected: only its settings are read
    for pragma, value in desk_db._pragmas:
        conn.execute(f"PRAGMA {pragma} = {value}")
    return conn


class BaselineCopy:
    """An identical copy of the store file, opened with plain sqlite3 and the store's own pragmas, kept in step
    with the store by replaying what the Recorder recorded."""

    def __init__(self, store_path: Path) -> None:
        from app.store.models import database

        main = database.connection()
        if main.in_transaction:
            raise SystemExit("the store is inside a transaction: no copy")
        busy, _, _ = main.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise SystemExit("the store's WAL could not be checkpointed (another connection reads it?): no copy")
        self.path = store_path.with_name(BASELINE_FILE)
        self.delete()
        shutil.copyfile(store_path, self.path)
        self.conn = open_like_store(self.path)
        mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync = self.conn.execute("PRAGMA synchronous").fetchone()[0]
        keys = self.conn.execute("PRAGMA foreign_keys").fetchone()[0]
        if (mode, sync, keys) != (main.execute("PRAGMA journal_mode").fetchone()[0],
                                  main.execute("PRAGMA synchronous").fetchone()[0],
                                  main.execute("PRAGMA foreign_keys").fetchone()[0]):
            raise SystemExit(f"the copy's pragmas differ from the store's: {(mode, sync, keys)}")
        self.cursor = self.conn.cursor()

    def run(self, statements: list[Statement]) -> int:
        """Replay statements (their own BEGIN / COMMIT included); the rows they changed."""
        before = self.conn.total_changes
        for sql, params in statements:
            self.cursor.execute(sql, params)
        return self.conn.total_changes - before

    def timed(self, statements: list[Statement]) -> tuple[float, int]:
        """One issue's writes, BEGIN IMMEDIATE ... COMMIT: (ms, rows changed)."""
        cursor, before = self.cursor, self.conn.total_changes
        started = time.perf_counter_ns()
        for sql, params in statements:
            cursor.execute(sql, params)
        elapsed = (time.perf_counter_ns() - started) / 1e6
        return elapsed, self.conn.total_changes - before

    def close(self) -> None:
        self.cursor.close()
        self.conn.close()

    def delete(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def one_transaction(statements: list[Statement]) -> list[Statement]:
    """An issue's recorded statements, checked to be one BEGIN IMMEDIATE, writes, COMMIT."""
    inside = statements[1:-1]
    if (len(statements) < 3 or statements[0][0] != "BEGIN IMMEDIATE" or statements[-1][0] != "COMMIT"
            or any(_verb(sql) in SAVEPOINT_VERBS | {"BEGIN", "COMMIT"} for sql, _ in inside)):
        raise SystemExit(f"an issue's writes are not one BEGIN IMMEDIATE ... COMMIT: {[s for s, _ in statements]}")
    return statements


def compare_stores(main: sqlite3.Connection, copy: sqlite3.Connection, recent: int) -> list[str]:
    """How the copy differs from the store: every table's rows counted; compared row for row in tables of up
    to COMPARED_WHOLE rows, the `recent` newest (by rowid) in larger ones. Virtual tables are left to their
    shadow tables."""
    differences = []
    tables = main.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    for name, sql in tables:
        if (sql or "").upper().startswith("CREATE VIRTUAL TABLE"):
            continue
        count_sql = f'SELECT count(*) FROM "{name}"'
        counts = main.execute(count_sql).fetchone()[0], copy.execute(count_sql).fetchone()[0]
        if counts[0] != counts[1]:
            differences.append(f"{name}: {counts[0]} rows in the store, {counts[1]} in the copy")
            continue
        rowid = "WITHOUT ROWID" not in (sql or "").upper()
        if counts[0] <= COMPARED_WHOLE:
            rows_sql = f'SELECT {"rowid, " if rowid else ""}* FROM "{name}" ORDER BY {"rowid" if rowid else "1"}'
        elif rowid:
            rows_sql = f'SELECT rowid, * FROM "{name}" ORDER BY rowid DESC LIMIT {recent}'
        else:
            continue
        if main.execute(rows_sql).fetchall() != copy.execute(rows_sql).fetchall():
            differences.append(f"{name}: rows differ")
    return differences


class RawInsert:
    """The old baseline: one invoice-wide row in its own durable transaction, into an unindexed table of the invoice
    table's definition, in a small file of its own beside the store (same disk, same pragmas; not in the copy, which
    must stay the store's twin). The buyer table and the row's buyer come along for its foreign key."""

    TABLE = "bench_raw_invoice"
    FILE = "bench-one-row.sqlite3"

    def __init__(self, store: sqlite3.Connection, store_path: Path) -> None:
        from app.store.models import Buyer, Invoice

        self.path = store_path.with_name(self.FILE)
        self.delete()
        self.conn = open_like_store(self.path)
        source, buyers = Invoice._meta.table_name, Buyer._meta.table_name
        ddl = dict(store.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
                                 (source, buyers)).fetchall())
        self.conn.execute(ddl[buyers])
        # The invoice table's own definition (columns, NOT NULL, UNIQUE, the buyer's foreign key), under another name.
        self.conn.execute(ddl[source].replace(f'"{source}"', f'"{self.TABLE}"', 1))
        self.columns = [c for c in _columns(store, source) if c != "id"]
        self.template = dict(zip(self.columns, store.execute(
            f'SELECT {", ".join(self.columns)} FROM "{source}" ORDER BY id DESC LIMIT 1').fetchone(), strict=True))
        buyer_columns = _columns(store, buyers)
        buyer = store.execute(f'SELECT * FROM "{buyers}" WHERE id = ?', (self.template["buyer_id"],)).fetchone()
        self.conn.execute(f'INSERT INTO "{buyers}" ({", ".join(buyer_columns)}) '
                          f'VALUES ({", ".join("?" for _ in buyer_columns)})', buyer)
        self.sql = (f'INSERT INTO "{self.TABLE}" ({", ".join(self.columns)}) '
                    f'VALUES ({", ".join("?" for _ in self.columns)})')
        self.n = 0

    def close(self) -> None:
        self.conn.close()

    def delete(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

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


@dataclasses.dataclass
class Timings:
    service: list[float] = dataclasses.field(default_factory=list)
    baseline: list[float] = dataclasses.field(default_factory=list)
    one_row: list[float] = dataclasses.field(default_factory=list)
    statements: list[int] = dataclasses.field(default_factory=list)  # writes an issue made (BEGIN, COMMIT apart)
    changes: list[int] = dataclasses.field(default_factory=list)  # rows an issue changed (total_changes)


class InStep:
    """The store and its copy, kept in step: what the desk wrote since the last step is replayed on the copy."""

    def __init__(self, recorder: Recorder, copy: BaselineCopy) -> None:
        self.recorder, self.copy = recorder, copy
        self.mark = recorder.conn.total_changes

    def _store_changes(self) -> int:
        now = self.recorder.conn.total_changes
        changed, self.mark = now - self.mark, now
        return changed

    def catch_up(self) -> None:
        """Replay, untimed, what the desk wrote outside the timed issues (top-ups)."""
        statements = self.recorder.take()
        changed = self.copy.run(statements) if statements else 0
        store = self._store_changes()
        if changed != store:
            raise SystemExit(f"the copy fell out of step: {store} rows changed in the store, {changed} replayed "
                             "(a write that bypasses execute_sql?)")

    def issue(self, n: int, timings: Timings | None) -> None:
        """One issue on the store, then its writes on the copy; timed both when timings is given."""
        self.catch_up()
        took = issue_once(n)
        store = self._store_changes()
        statements = one_transaction(self.recorder.take())
        if timings is None:
            changed = self.copy.run(statements)
        else:
            replay, changed = self.copy.timed(statements)
            timings.service.append(took)
            timings.baseline.append(replay)
            timings.statements.append(len(statements) - 2)
            timings.changes.append(store)
        if changed != store:
            raise SystemExit(f"issue #{n}: {store} rows changed in the store, {changed} by its replay on the copy "
                             f"(a write that bypasses execute_sql?); statements: {[s for s, _ in statements]}")


def measure(client, samples: int, first_n: int, store_path: Path) -> Timings:
    from app.store.models import database

    timings = Timings()
    ensure_numbers(client, 10)
    copy = BaselineCopy(store_path)
    recorder = Recorder(database.obj)
    recorder.install()
    raw: RawInsert | None = None
    try:
        step = InStep(recorder, copy)
        for warm in range(5):  # caches and the first commit after a checkpoint, on both files: not counted
            step.issue(first_n + warm, None)
        raw = RawInsert(recorder.conn, store_path)  # copies the row just issued
        for _ in range(5):
            raw.once()
        done = 0
        while done < samples:
            chunk = min(samples - done, 500)
            ensure_numbers(client, chunk)  # a top-up never inside a timed issue
            step.catch_up()
            for k in range(chunk):
                step.issue(first_n + 5 + done + k, timings)
                timings.one_row.append(raw.once())
            done += chunk
        step.catch_up()
        differences = compare_stores(recorder.conn, copy.conn, recent=samples + 20)
        if differences:
            raise SystemExit("the copy differs from the store after the run: " + "; ".join(differences))
    finally:
        recorder.remove()
        copy.close()
        copy.delete()
        if raw is not None:
            raw.close()
            raw.delete()
    return timings


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
    rows: list[tuple[int, int, float, Timings, int]] = []
    try:
        top_up(client)
        for level in levels:
            have = waiting_count()
            fill_s = fill_waiting(client, level - have) if level > have else 0.0
            waiting = waiting_count()
            size = store_size()
            timings = measure(client, samples, first_n=len(rows) * 10_000 + 1, store_path=store.path)
            rows.append((level, waiting, fill_s, timings, size))
            print(f"  measured with {waiting:,} waiting in a store of {size:,} invoices (filled in {fill_s:.1f}s); "
                  f"an issue wrote {min(timings.statements)}-{max(timings.statements)} statements changing "
                  f"{min(timings.changes)}-{max(timings.changes)} rows; replayed faithfully, copy matched",
                  flush=True)
    finally:
        client.close()
        store.close()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"issue latency, direct channel, {samples} issues a level, each followed by the replay of its writes "
          "(baseline) and a one-row insert")
    print("  service  = issue_invoice (checks, reads, SQL building, the writes, commit)")
    print("  baseline = raw sqlite3 BEGIN IMMEDIATE; the issue's own write statements and parameters; COMMIT, "
          "on an identical copy")
    print("  1 row    = raw BEGIN IMMEDIATE; one INSERT into an unindexed copy of the invoice table; COMMIT")
    print(f"{'store':>9} {'waiting':>9} | {'service p50':>11} {'p99':>8} | {'baseline p50':>12} {'p99':>8} | "
          f"{'ratio p50':>9} {'p99':>7} | {'1 row p50':>9} {'p99':>8} | p50 <= {TARGET_P50_MS:.0f} ms, "
          f"p99 <= {TARGET_P99_MS:.0f} ms, ratio p50 <= {TARGET_RATIO:.0f}x")
    met_all = True
    for _, waiting, _, timings, size in rows:
        s50, s99 = percentile(timings.service, 0.50), percentile(timings.service, 0.99)
        b50, b99 = percentile(timings.baseline, 0.50), percentile(timings.baseline, 0.99)
        r50, r99 = percentile(timings.one_row, 0.50), percentile(timings.one_row, 0.99)
        checks = {"p50": s50 <= TARGET_P50_MS, "p99": s99 <= TARGET_P99_MS, "ratio": s50 / b50 <= TARGET_RATIO}
        verdicts = [f"{name} {'met' if met else 'NOT met'}" for name, met in checks.items()]
        met_all = met_all and all(checks.values())
        print(f"{size:>9,} {waiting:>9,} | {s50:>8.2f} ms {s99:>5.2f} ms | {b50:>9.2f} ms {b99:>5.2f} ms | "
              f"{s50 / b50:>8.1f}x {s99 / b99:>6.1f}x | {r50:>6.2f} ms {r99:>5.2f} ms | {', '.join(verdicts)}")
    if len(rows) > 1:
        first, last = percentile(rows[0][3].service, 0.5), percentile(rows[-1][3].service, 0.5)
        print(f"service p50 at {rows[-1][1]:,} waiting / at {rows[0][1]:,}: {last / first:.2f}x")
    print(f"targets (p50 <= {TARGET_P50_MS:.0f} ms, p99 <= {TARGET_P99_MS:.0f} ms, p50 <= {TARGET_RATIO:.0f}x "
          f"the baseline's): {'met' if met_all else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

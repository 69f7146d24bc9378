"""What the open checks and what only the whole-file check finds (app.store.damage)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.services.store_access import open_store
from app.store import damage
from app.store.damage import StoreDamaged
from app.store.database import STORE_FILE
from tests.helpers.bulk_invoices import insert_invoices


def _closed_store(data_dir: Path, invoices: int) -> tuple[Path, int]:
    store = open_store(data_dir)
    insert_invoices(invoices, accepted_every=10)
    store.close()
    path = data_dir / STORE_FILE
    with sqlite3.connect(str(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'invoice'").fetchone()[0]
    connection.close()
    return path, root


def _overwrite_page(path: Path, page: int) -> None:
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    data[(page - 1) * size: page * size] = b"\xa5" * size
    path.write_bytes(bytes(data))


def test_a_damaged_root_page_is_found_at_open_without_reading_the_whole_file(data_dir):
    path, root = _closed_store(data_dir, 3000)
    _overwrite_page(path, root)
    assert damage.file_problem(path) is None  # the header is whole
    assert damage.structure_problem(path) is not None
    with pytest.raises(StoreDamaged, match="SQLite cannot read it"):
        open_store(data_dir)


def test_a_damaged_page_deep_in_a_table_is_left_to_the_whole_file_check(data_dir):
    path, _ = _closed_store(data_dir, 20_000)
    pages = path.stat().st_size // int.from_bytes(path.read_bytes()[16:18], "big")
    _overwrite_page(path, pages // 2)
    open_store(data_dir).close()  # the open is cheap: it reads the edges of each b-tree only
    problem = damage.check_whole_file(path)
    assert problem is not None, "quick_check reads every page"
    with pytest.raises(StoreDamaged):
        open_store(data_dir, full_check=True)


def test_a_whole_store_passes_both_checks(data_dir):
    path, _ = _closed_store(data_dir, 500)
    assert damage.structure_problem(path) is None
    assert damage.check_whole_file(path) is None
    open_store(data_dir, full_check=True).close()


def test_a_check_stopped_before_it_runs_is_not_taken_for_damage(data_dir):
    path, _ = _closed_store(data_dir, 10)

    def stopped(connection: sqlite3.Connection) -> None:
        raise damage.CheckInterrupted()

    with pytest.raises(damage.CheckInterrupted):
        damage.check_whole_file(path, connected=stopped)

"""The whole-file damage check after start: off the GUI thread, told in the status bar, damage warned of."""

from __future__ import annotations

import sqlite3

from app.store.database import STORE_FILE
from app.ui.application import build_main_window
from app.ui.store_check import start_store_check
from tests.helpers.bulk_invoices import insert_invoices


def test_a_whole_store_is_checked_in_the_background_and_the_status_bar_says_so(qtbot, store, seller):
    window = build_main_window(store)
    qtbot.addWidget(window)
    window.show()
    check = start_store_check(window)
    assert window.store_check is check
    assert "正在后台检查数据库文件" in window.statusBar().currentMessage()  # while it runs
    qtbot.waitUntil(lambda: check.ended, timeout=20000)
    assert check.value is None and check.warning is None
    assert window.statusBar().currentMessage() == "数据库文件检查完毕：完好"


def test_damage_deep_in_the_file_is_found_after_start_and_a_restore_offered(qtbot, store, seller, data_dir):
    insert_invoices(20_000, accepted_every=10)
    store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    window = build_main_window(store)  # the list counted the store while it was whole
    qtbot.addWidget(window)
    window.show()
    path = data_dir / STORE_FILE
    whole = path.read_bytes()
    data = bytearray(whole)
    size = int.from_bytes(data[16:18], "big")
    middle = len(data) // size // 2
    data[(middle - 1) * size: middle * size] = b"\xa5" * size
    with path.open("r+b") as handle:  # in place, as a failing disk would: the app's connection stays open
        handle.write(bytes(data))
    check = start_store_check(window)
    qtbot.waitUntil(lambda: check.ended, timeout=20000)
    assert check.value  # the problem SQLite named
    assert check.warning is not None and check.warning.isVisible()
    assert check.warning.objectName() == "store_damage_warning"
    assert "从备份恢复…" in [button.text() for button in check.warning.buttons()]
    assert window.statusBar().currentMessage() == "数据库文件已损坏"
    check.warning.close()
    window.follow_timer.stop()
    with path.open("r+b") as handle:  # whole again for the fixtures' teardown
        handle.write(whole)
    with sqlite3.connect(str(path)) as connection:  # nothing of the check holds the file
        assert connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    connection.close()


def test_a_check_stopped_at_close_ends_without_a_verdict(qtbot, store, seller):
    window = build_main_window(store)
    qtbot.addWidget(window)
    check = start_store_check(window)
    assert check.stop()
    qtbot.waitUntil(lambda: check.ended, timeout=20000)
    assert check.warning is None

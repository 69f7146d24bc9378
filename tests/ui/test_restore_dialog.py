"""The restore dialog, backups from the app, the chain check at start and a damaged store at start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QTableWidget

from app.services import backup
from app.services.issuing import issue_invoices
from app.store.database import STORE_FILE
from app.store.models import Invoice
from app.ui.main_window import MainWindow
from app.ui.reconcile_view import ReconcileView
from app.ui.restore_dialog import STATUS, RestoreDialog
from tests.helpers.bodies import invoice_body


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None, f"no item at ({row}, {column})"
    return item.text()


def _issue(n: int) -> list[str]:
    return [i.number for i in issue_invoices([invoice_body() for _ in range(n)], clerk="李四")]


def _two_backups(store, data_dir: Path, folder: Path) -> tuple[backup.BackupRecord, backup.BackupRecord]:
    """A good backup, then a bad one (the store's history was changed behind the app's back)."""
    backup.set_backup_settings(data_dir, folder=str(folder))
    _issue(3)
    good = backup.backup_store(data_dir)
    with sqlite3.connect(str(store.path)) as c:
        c.execute("UPDATE invoice SET total_tax = 0 WHERE id = 1")
    c.close()
    bad = backup.backup_store(data_dir)
    with sqlite3.connect(str(store.path)) as c:
        c.execute("UPDATE invoice SET total_tax = 6000 WHERE id = 1")
    c.close()
    assert good.ok and not bad.ok
    return good, bad


def test_dialog_lists_backups_with_their_verification(qtbot, store, seller, data_dir, tmp_path):
    good, bad = _two_backups(store, data_dir, tmp_path / "usb")
    dialog = RestoreDialog(data_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    table = dialog.table
    assert table.rowCount() == 2
    assert cell(table, 0, 4) == bad.file and cell(table, 0, STATUS).startswith("损坏")
    assert cell(table, 1, 4) == good.file and cell(table, 1, STATUS) == "良好"
    # The newest good one is selected; a bad one cannot be restored.
    selected = dialog.selected_record()
    assert selected is not None and selected.file == good.file and dialog.restore_button.isEnabled()
    table.selectRow(0)
    assert not dialog.restore_button.isEnabled() and "未通过校验" in dialog.message.text()
    assert dialog.restore_selected(confirm=False) is None
    dialog.grab().save(str(tmp_path / "restore_dialog.png"))


def test_backup_and_restore_in_the_running_app(qtbot, store, seller, data_dir, tmp_path):
    backup.set_backup_settings(data_dir, folder=str(tmp_path / "usb"))
    _issue(4)
    window = MainWindow(store)
    qtbot.addWidget(window)
    actions = window.backup_actions
    assert actions.backup_action in window.file_menu.actions()
    assert actions.restore_action in window.file_menu.actions()
    job = actions.backup_now()
    assert job is not None
    qtbot.waitUntil(lambda: job.ended, timeout=20000)
    assert actions.last is not None and actions.last.ok and actions.last.invoices == 4
    due = actions.backup_if_due()  # a good backup younger than the interval: not due
    assert due is not None
    qtbot.waitUntil(lambda: due.ended, timeout=20000)
    assert due.value is None and len(backup.read_manifest(tmp_path / "usb")) == 1
    later = _issue(2)
    window.refresh()

    dialog = actions.show_restore()
    selected = dialog.selected_record()
    assert selected is not None and selected.file == actions.last.file
    restoring = dialog.restore_selected(confirm=False)
    assert restoring is not None
    qtbot.waitUntil(lambda: restoring.ended and not dialog.isVisible(), timeout=20000)
    assert dialog.restored is not None and dialog.restored.snapshot.invoices == 4
    assert window.store.path.exists() and not window.store.db.is_closed()
    assert Invoice.select().count() == 4 and window.list_model.rowCount() == 4
    assert not Invoice.select().where(Invoice.provisional_number.in_(later)).exists()
    assert list(data_dir.glob(f"{STORE_FILE}.before-restore-*"))  # the store before it, kept aside
    # What came after the backup is recovered from the platform: the reconciliation view opens on it.
    views = [d for d in window.trust_actions.dialogs if isinstance(d, ReconcileView)]
    assert views and views[-1].period()[0] == dialog.restored.backup_created_at[:10]
    # It compares at once; no platform is set up here, so it says the comparison failed and waits.
    qtbot.waitUntil(lambda: views[-1].run_button.isEnabled(), timeout=20000)
    assert views[-1].message.text().startswith("对账失败")
    for view in views:
        view.close()


def test_broken_history_warns_at_start_naming_the_entry(qtbot, store, seller, data_dir):
    from app.ui.startup_checks import after_start

    numbers = _issue(3)
    with sqlite3.connect(str(store.path)) as c:
        c.execute("UPDATE invoice_line SET amount = 1 WHERE invoice_id = 2")
        entry = c.execute("SELECT id FROM audit_entry WHERE invoice_id = 2 AND action = 'issued'").fetchone()[0]
    c.close()
    window = MainWindow(store)
    qtbot.addWidget(window)
    job = after_start(window)
    qtbot.waitUntil(lambda: job.ended, timeout=20000)
    assert job.warning is not None and job.warning.isVisible()
    text = job.warning.text()
    assert f"#{entry}" in text and numbers[1] in text and "issued" in text
    job.warning.grab().save(str(Path(store.data_dir).parent / "integrity_warning.png"))
    job.warning.close()


def test_whole_history_at_start_says_so(qtbot, store, seller):
    from app.ui.startup_checks import after_start

    _issue(2)
    window = MainWindow(store)
    qtbot.addWidget(window)
    job = after_start(window)
    qtbot.waitUntil(lambda: job.ended, timeout=20000)
    assert job.value is not None and job.value.ok and job.warning is None
    assert "审计链完整" in window.statusBar().currentMessage()


def test_damaged_store_at_start_offers_the_newest_good_backup(qtbot, store, seller, data_dir, tmp_path):
    from app.ui.startup_checks import open_store_or_restore

    backup.set_backup_settings(data_dir, folder=str(tmp_path / "usb"))
    _issue(6)
    newest = backup.backup_store(data_dir)
    held = sorted(i.provisional_number for i in Invoice.select())
    store.close()
    path = data_dir / STORE_FILE
    with sqlite3.connect(str(path)) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    path.write_bytes(path.read_bytes()[:4096])  # truncated
    seen = {}

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, RestoreDialog):
            QTimer.singleShot(20, answer)
            return
        damage = dialog.findChild(QLabel, "damage_message")
        selected = dialog.selected_record()
        assert damage is not None and selected is not None
        seen["damage"], seen["selected"] = damage.text(), selected.file
        dialog.grab().save(str(tmp_path / "damaged_start.png"))
        dialog.restore_selected(confirm=False)

    QTimer.singleShot(20, answer)
    reopened, restored = open_store_or_restore(data_dir)
    assert reopened is not None
    try:
        assert "truncated" in seen["damage"] and seen["selected"] == newest.file
        assert restored is not None and restored.restored_from.name == newest.file
        assert sorted(i.provisional_number for i in Invoice.select()) == held
    finally:
        reopened.close()


def test_scheduled_backup_when_due_and_at_close(qtbot, store, seller, data_dir, tmp_path):
    backup.set_backup_settings(data_dir, folder=str(tmp_path / "usb"), every_hours=4)
    _issue(2)
    window = MainWindow(store)
    qtbot.addWidget(window)
    actions = window.backup_actions
    assert actions.timer.isActive()
    job = actions.backup_if_due()  # no backup yet: due
    assert job is not None
    qtbot.waitUntil(lambda: job.ended, timeout=20000)
    assert actions.last is not None and actions.last.ok and actions.last.reason == "scheduled"
    again = actions.backup_if_due()
    assert again is not None
    qtbot.waitUntil(lambda: again.ended, timeout=20000)
    assert again.value is None
    # At close, within the hour of a good backup: skipped, saying why (a backup at 1M takes most of a minute).
    _issue(1)
    reason = actions.backup_at_close()
    assert reason is not None and "不到一小时" in reason and "less than an hour" in reason
    assert [r.reason for r in backup.read_manifest(tmp_path / "usb")] == ["scheduled"]
    # Later, with something new since: made.
    from datetime import timedelta

    from app.core.clock import now, shifted

    with shifted(now() + timedelta(hours=2)):
        assert actions.backup_at_close() is None
        records = backup.read_manifest(tmp_path / "usb")
        assert [r.reason for r in records] == ["at close", "scheduled"] and records[0].invoices == 3
        # Nothing recorded since that one: skipped whatever its age.
        with shifted(now() + timedelta(hours=3)):
            reason = actions.backup_at_close()
            assert reason is not None and "没有新的记录" in reason


def test_another_file_is_verified_first_and_a_bad_one_refused(qtbot, store, seller, data_dir, tmp_path):
    backup.set_backup_settings(data_dir, folder=str(tmp_path / "usb"))
    _issue(2)
    record = backup.backup_store(data_dir)
    bad = tmp_path / "from-another-pc.sqlite3"
    bad.write_bytes((tmp_path / "usb" / record.file).read_bytes()[:3000])
    window = MainWindow(store)
    qtbot.addWidget(window)
    dialog = window.backup_actions.show_restore()
    job = dialog.restore_file(bad, confirm=False)
    assert job is not None
    qtbot.waitUntil(lambda: job.ended, timeout=20000)
    assert dialog.isVisible() and dialog.restored is None
    assert "does not verify" in dialog.message.text()
    assert not list(data_dir.glob(f"{STORE_FILE}.before-restore-*"))  # nothing moved
    dialog.reject()
    assert not window.store.db.is_closed()  # the store the refused restore closed is open again
    assert Invoice.select().count() == 2 and verify_after_reopen(window)


def verify_after_reopen(window) -> bool:
    from app.services.integrity import verify_store

    return window.store.path.exists() and verify_store().ok


def test_backup_settings_dialog(qtbot, store, seller, data_dir, tmp_path):
    window = MainWindow(store)
    qtbot.addWidget(window)
    dialog = window.backup_actions.edit_settings()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    dialog.folder.setText(str(blocker / "sub"))
    assert not dialog.save() and "备份文件夹" in dialog.error.text()
    dialog.error.close()
    dialog.folder.setText(str(tmp_path / "usb"))
    dialog.keep.setValue(3)
    dialog.every_hours.setValue(2)
    assert dialog.save()
    assert backup.backup_settings(data_dir) == {"folder": str((tmp_path / "usb").resolve()), "keep": 3,
                                                "every_hours": 2.0}

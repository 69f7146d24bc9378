"""A store one schema step behind is brought up to date at start behind a progress dialog, off the GUI thread."""

from __future__ import annotations

import sqlite3
import threading

from app.core.invoice_query import InvoiceQuery
from app.services.issuing import issue_invoice
from app.store import migrations, queries
from app.store.database import STORE_FILE
from tests.helpers.bodies import invoice_body
from tests.store.test_invoice_tally import UNDO_STEP_12

# What the steps after 7 did (8: the search; 9: its settings, in its own table; 10: indexes; 11: the tally; 12: the
# indexes that are prefixes of others dropped): undone, it leaves the store exactly as schema 7 built it.
AFTER_STEP_7 = (*UNDO_STEP_12, "DROP TRIGGER invoice_tally_insert", "DROP TRIGGER invoice_tally_delete",
                "DROP TRIGGER invoice_tally_update", "DROP TABLE invoice_tally",
                "DROP INDEX invoice_kind", "DROP INDEX invoice_buyer_tax_id", "DROP INDEX invoice_original_number",
                "DROP TRIGGER invoice_search_update", "DROP TRIGGER invoice_search_delete",
                "DROP TRIGGER search_name_buyer", "DROP TRIGGER search_name_item", "DROP TABLE invoice_search",
                "DROP TABLE search_name", "DROP INDEX invoice_issued_at", "DROP INDEX invoice_buyer_name",
                "DROP INDEX invoice_total_with_tax")


def _schema_7_store(store, data_dir) -> list[str]:
    numbers = [issue_invoice(invoice_body(remarks=f"合同 PO-{i}")).number for i in range(3)]
    store.close()
    connection = sqlite3.connect(str(data_dir / STORE_FILE))
    for statement in AFTER_STEP_7:
        connection.execute(statement)
    connection.execute("PRAGMA user_version = 7")
    connection.commit()
    connection.close()
    return numbers


def test_the_upgrade_runs_off_the_gui_thread_behind_a_dialog(qtbot, desk_app, store, seller, data_dir, monkeypatch):
    from app.ui import store_upgrade
    from app.ui.startup_checks import open_store_or_restore

    numbers = _schema_7_store(store, data_dir)
    assert store_upgrade.migration_due(data_dir) == 7
    shown: list[str] = []
    migrating_threads: list[str] = []
    real_dialog = store_upgrade.QProgressDialog

    class Watched(real_dialog):  # type: ignore[misc, valid-type]
        def show(self) -> None:
            shown.append(self.labelText())
            super().show()

    real_step = migrations.STEPS[7]

    def step_8(db, migrator):
        migrating_threads.append(threading.current_thread().name)
        real_step(db, migrator)

    monkeypatch.setattr(store_upgrade, "QProgressDialog", Watched)
    monkeypatch.setattr(migrations, "STEPS", [*migrations.STEPS[:7], step_8, *migrations.STEPS[8:]])
    opened, restored = open_store_or_restore(data_dir)
    assert restored is None and opened is not None
    try:
        assert shown and f"正在升级本地数据库（架构 7 → {migrations.LATEST}）" in shown[0]
        assert migrating_threads and set(migrating_threads) == {"store-upgrade"}  # never the GUI thread
        assert migrations.current_version(opened.db) == migrations.LATEST
        assert store_upgrade.migration_due(data_dir) is None
        found = [r.number for r in queries.search_page(InvoiceQuery.searching("PO-1")).rows]
        assert found == [numbers[1]]  # the step built the index of what was there
        from app.services.backup import backup_folder, read_manifest

        made = [(b.reason, b.ok) for b in read_manifest(backup_folder(data_dir))]
        assert ("before migration from schema 7", True) in made  # a verified backup came first
    finally:
        opened.close()


def test_a_current_store_opens_without_a_dialog(qtbot, desk_app, store, seller, data_dir, monkeypatch):
    from app.ui import store_upgrade
    from app.ui.startup_checks import open_store_or_restore

    store.close()
    monkeypatch.setattr(store_upgrade, "QProgressDialog", None)  # any use would fail
    opened, _ = open_store_or_restore(data_dir)
    assert opened is not None
    opened.close()

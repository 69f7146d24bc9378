"""A store truncated or overwritten with garbage is detected, restored from the newest good backup,
and reconciled with the reference platform (real HTTP): nothing the backup or the platform holds is lost."""

from __future__ import annotations

import sqlite3

import pytest

from app.core import clock
from app.services import backup
from app.services import reconcile as rec
from app.services.integrity import verify_store
from app.services.issuing import issue_invoice
from app.services.store_access import open_store
from app.store.damage import StoreDamaged
from app.store.database import STORE_FILE
from app.store.models import Invoice
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import send


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_store_restored_then_reconciled(seller, store, data_dir, tmp_path, client, damage):
    backup.set_backup_settings(data_dir, folder=str(tmp_path / "usb"))
    before = [issue_invoice(invoice_body()).number for _ in range(5)]
    for number in before[:3]:
        send(client, number)
    good = backup.backup_store(data_dir)
    assert good.ok
    # After the backup: more invoices, uploaded; the platform holds them, the backup does not.
    after = [issue_invoice(invoice_body()).number for _ in range(4)]
    for number in after:
        send(client, number)
    store.close()
    path = data_dir / STORE_FILE
    with sqlite3.connect(str(path)) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:8192])
    else:
        path.write_bytes(b"\x89garbage\x00" * 20000)

    with pytest.raises(StoreDamaged):
        open_store(data_dir)
    newest = backup.newest_good(tmp_path / "usb")
    assert newest is not None
    result = backup.restore_backup(data_dir, tmp_path / "usb" / newest.file)
    assert result.snapshot.invoices == 5
    restored = open_store(data_dir)
    try:
        assert sorted(i.provisional_number for i in Invoice.select()) == sorted(before)
        report, imported = rec.rebuild_from_platform(client, result.backup_created_at[:10], clock.today().isoformat())
        assert sorted(imported.imported) == sorted(after), report.differences
        numbers = sorted(i.provisional_number for i in Invoice.select())
        assert numbers == sorted(before + after)  # the backup's five and the platform's four, once each
        assert verify_store().ok  # imported invoices carry their own "imported" entries
        # The next number continues after what was imported: no number is given twice.
        assert issue_invoice(invoice_body()).number == "LX-0000010"
    finally:
        restored.close()


def test_every_service_keeps_the_history_whole_and_a_status_changed_behind_its_back_is_caught(
        seller, store, platform, client, tmp_path):
    """Issue, upload (queue worker, real HTTP), cancel, red-letter, print, requeue, import: the
    services of every helper append to the chain so verify_store holds; then statuses and an
    official number changed in SQLite (outside the content hash) are caught."""
    from app.platform.http_client import HttpPlatformClient
    from app.services.lifecycle import cancel_invoice, issue_red_letter
    from app.services.printing_log import load_print_views, record_printed
    from app.store.models import AuditEntry
    from app.sync.worker import QueueWorker
    from tests.helpers.platform import PLATFORM_TOKEN as TOKEN

    numbers = [issue_invoice(invoice_body()).number for _ in range(4)]
    worker = QueueWorker(lambda: HttpPlatformClient(platform.url, TOKEN))
    worker.run_once()
    worker.close()
    pending = issue_invoice(invoice_body()).number
    cancel_invoice(pending, "开错了", clerk="李四")
    red = issue_red_letter(numbers[0], "销货退回", clerk="李四").number
    record_printed(load_print_views([numbers[1], red]), clerk="李四", layout="full", paper="a4", target="x.pdf")
    report = verify_store()
    assert report.ok, report.first and report.first.describe()
    actions = {e.action for e in AuditEntry.select()}
    assert {"issued", "sent", "accepted", "cancelled", "reversed", "printed"} <= actions

    def tampered(sql: str, *params) -> str:
        with sqlite3.connect(str(store.path)) as c:
            saved = c.execute("SELECT id, status, official_number, cancelled_at, cancel_reason, red_reason "
                              "FROM invoice").fetchall()
            c.execute(sql, params)
        c.close()
        found = verify_store().first
        with sqlite3.connect(str(store.path)) as c:
            c.executemany("UPDATE invoice SET status = ?, official_number = ?, cancelled_at = ?, cancel_reason = ?, "
                          "red_reason = ? WHERE id = ?", [(*rest, i) for i, *rest in saved])
        c.close()
        assert verify_store().ok
        return f"{found.invoice_number}: {found.reason}" if found else ""

    found = tampered("UPDATE invoice SET status = 'pending_upload' WHERE provisional_number = ?", pending)
    assert found.startswith(f"{pending}: ") and "the row was cancelled" in found
    assert "no accepted entry" in tampered(
        "UPDATE invoice SET status = 'accepted', cancelled_at = NULL WHERE provisional_number = ?", pending)
    assert "official number 12345678901234567890" in tampered(
        "UPDATE invoice SET official_number = '12345678901234567890' WHERE provisional_number = ?", numbers[2])
    assert "no cancelled entry" in tampered(
        "UPDATE invoice SET status = 'cancelled' WHERE provisional_number = ?", numbers[3])
    # The reasons are outside the content hash too: each must be the one its entry recorded.
    assert "cancellation reason" in tampered(
        "UPDATE invoice SET cancel_reason = '客户要求' WHERE provisional_number = ?", pending)
    assert "red-letter reason" in tampered(
        "UPDATE invoice SET red_reason = '销售折让' WHERE provisional_number = ?", red)

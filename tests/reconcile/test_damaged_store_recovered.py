"""A store truncated or overwritten with garbage is detected, restored from the newest good backup,
and reconciled with the reference platform (real HTTP): nothing the backup or the platform holds is lost."""

from __future__ import annotations

import sqlite3

import pytest

from app.store import backup
from app.store.damage import StoreDamaged
from app.store.database import STORE_FILE, open_store
from app.store.integrity import verify_store
from app.store.issuing import issue_invoice
from app.store.models import Invoice
from app.sync import reconcile as rec
from tests.conftest import invoice_body
from tests.reconcile.conftest import send
from tests.reconcile.test_reconcile import TODAY


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
    result = backup.restore_backup(data_dir, tmp_path / "usb" / backup.newest_good(tmp_path / "usb").file)
    assert result.snapshot.invoices == 5
    restored = open_store(data_dir)
    try:
        assert sorted(i.provisional_number for i in Invoice.select()) == sorted(before)
        report, imported = rec.rebuild_from_platform(client, result.backup_created_at[:10], TODAY)
        assert sorted(imported.imported) == sorted(after), report.differences
        numbers = sorted(i.provisional_number for i in Invoice.select())
        assert numbers == sorted(before + after)  # the backup's five and the platform's four, once each
        assert verify_store().ok  # imported invoices carry their own "imported" entries
        # The next number continues after what was imported: no number is given twice.
        assert issue_invoice(invoice_body()).number == "LX-0000010"
    finally:
        restored.close()

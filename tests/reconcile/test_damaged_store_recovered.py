"""A store truncated or overwritten with garbage is detected, restored from the newest good backup,
and reconciled with the reference platform's v2 records (real HTTP): nothing the backup or the platform
holds is lost, and no number the platform holds is issued again."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from app.core import clock, status
from app.core.official_numbers import parse_number
from app.services import backup, stock
from app.services import reconcile as rec
from app.services.channel import set_channel
from app.services.integrity import verify_store
from app.services.issuing import issue_invoice
from app.services.store_access import open_store
from app.store.damage import StoreDamaged
from app.store.database import STORE_FILE
from app.store.models import Invoice
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import key_of, make_worker


def _upload(platform) -> None:
    worker = make_worker(platform)
    try:
        report = worker.run_once()
    finally:
        worker.close()
    assert report.accepted and not report.transient_failures and not report.rejected, report


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_store_restored_then_reconciled(direct, store, data_dir, tmp_path, client, damage):
    """The backup knows five: three direct invoices uploaded and two pre-issue records (platform channel) not
    yet issued; after it, four more direct invoices, and all nine reached the platform."""
    backup.set_backup_settings(data_dir, folder=str(tmp_path / "usb"))
    before = [issue_invoice(invoice_body(remarks=f"before {i}")).number for i in range(3)]
    _upload(direct)
    set_channel("platform")
    pre_issue = [issue_invoice(invoice_body(remarks=f"before {i}")).number for i in range(3, 5)]
    before += pre_issue
    keys = {number: key_of(number) for number in pre_issue}
    good = backup.backup_store(data_dir)
    assert good.ok, good.problems
    # After the backup: more invoices, and all nine uploaded; the platform holds them, the backup does not.
    set_channel("direct")
    after = [issue_invoice(invoice_body(remarks=f"after {i}")).number for i in range(4)]
    _upload(direct)
    issued_as = {number: Invoice.get(Invoice.provisional_number == number).official_number for number in pre_issue}
    first = parse_number(before[0])
    assert first is not None
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
        # Issued by the platform after the backup, found by their queue keys: the acceptances are recorded.
        assert sorted(imported.recorded) == sorted(pre_issue) and imported.failed == []
        assert {d.key for d in report.of_kind(rec.UNRECORDED)} == set(keys.values())
        rows = list(Invoice.select())
        assert sorted(r.provisional_number for r in rows) == sorted(before + after)  # each once
        assert {r.status for r in rows} == {status.ACCEPTED}
        for row in rows:
            if row.channel == "direct":
                assert row.official_number == row.provisional_number
            else:
                assert row.official_number == issued_as[row.provisional_number]
        assert verify_store().ok  # imported invoices carry their own "imported" entries
        # The block moved past the imported numbers, and the quota counts what they drew.
        view = stock.stock_view()
        assert view.numbers_left == 993 and view.quota_drawn == Decimal("7000.00")  # seven direct invoices
        set_channel("direct")  # the backup was made while the desk was on the platform channel
        following = parse_number(issue_invoice(invoice_body()).number)
        assert following is not None and following.sequence == first.sequence + 7  # never a number given twice
        assert rec.reconcile(client, result.backup_created_at[:10], clock.today().isoformat()).matched == 9
    finally:
        restored.close()


def test_every_service_keeps_the_history_whole_and_a_status_changed_behind_its_back_is_caught(
        seller, store, platform, client, tmp_path):
    """Issue, upload (queue worker, real HTTP), cancel, red-letter, print, requeue, import: the
    services of every helper append to the chain so verify_store holds; then statuses and an
    official number changed in SQLite (outside the content hash) are caught."""
    from app.platform.http_client import HttpPlatformClient
    from app.services.lifecycle import cancel_invoice
    from app.services.printing_log import load_print_views, record_printed
    from app.store.models import AuditEntry
    from app.sync.worker import QueueWorker
    from tests.helpers.platform import PLATFORM_TOKEN as TOKEN
    from tests.helpers.red import red_on_form

    numbers = [issue_invoice(invoice_body()).number for _ in range(4)]
    worker = QueueWorker(lambda: HttpPlatformClient(platform.url, TOKEN))
    worker.run_once()
    worker.close()
    pending = issue_invoice(invoice_body()).number
    cancel_invoice(pending, "开错了", clerk="李四")
    red = red_on_form(numbers[0], "服务中止", clerk="李四").number
    record_printed(load_print_views([numbers[1], red]), clerk="李四", layout="full", paper="a4", target="x.pdf")
    report = verify_store()
    assert report.ok, report.first and report.first.describe()
    actions = {e.action for e in AuditEntry.select()}
    assert {"issued", "sent", "accepted", "printed"} <= actions

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

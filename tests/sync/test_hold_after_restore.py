"""A restored store may have forgotten what happened after its backup (an invoice cancelled since,
say), so uploads are held after a restore until the clerk has reconciled and releases them."""

from __future__ import annotations

from tests.helpers.cli import run_cli, token_file_args
from tests.helpers.platform import SYNC_TOKEN as TOKEN
from tests.helpers.platform import issue_many, make_worker, platform_numbers
from tests.sync.support import assert_issued_once_each


def test_uploads_are_held_after_a_restore_until_released(seller, store, data_dir, tmp_path, platform):
    from app.core import status
    from app.services import backup, queue
    from app.services.lifecycle import cancel_invoice
    from app.services.store_access import open_store
    from app.store.models import AuditEntry, Invoice

    backup.set_backup_settings(data_dir, folder=str(tmp_path / "usb"))
    issued = issue_many(2)
    good = backup.backup_store(data_dir)
    assert good.ok
    # After the backup the clerk cancels one (never sent); the restore will bring it back as waiting.
    assert cancel_invoice(issued[1].number, "开错了", clerk="张三").cancelled
    store.close()
    backup.restore_backup(data_dir, tmp_path / "usb" / good.file)
    restored = open_store(data_dir)
    try:
        assert Invoice.get(Invoice.provisional_number == issued[1].number).status == status.PRE_ISSUE
        assert queue.upload_hold() is not None

        report = make_worker(platform).run_once()
        assert report.held and report.accepted == 0
        assert platform_numbers(platform) == []  # nothing went up behind the clerk's back

        restored.close()
        held = run_cli(data_dir, "sync", "--once", "--url", platform.url, *token_file_args(TOKEN))
        assert held.returncode == 3 and "queue --release-hold" in held.stderr
        assert platform_numbers(platform) == []

        # The clerk reconciles, cancels again what was cancelled, then lets uploads go.
        restored = open_store(data_dir)
        assert cancel_invoice(issued[1].number, "开错了（恢复后补作废）", clerk="张三").cancelled
        restored.close()
        released = run_cli(data_dir, "queue", "--release-hold", "--clerk", "张三")
        assert released.returncode == 0, released.stderr
        restored = open_store(data_dir)
        assert queue.upload_hold() is None
        assert AuditEntry.select().where(AuditEntry.action == "upload_hold_released").count() == 1
        assert make_worker(platform).run_once().accepted == 1
        assert len(platform_numbers(platform)) == 1
        assert_issued_once_each(platform, [issued[0].number])  # not the one cancelled again
    finally:
        restored.close()


def test_resuming_in_the_app_releases_the_hold(qtbot, seller, store, platform):
    from app.platform.http_client import HttpPlatformClient
    from app.services import queue
    from app.ui.sync_runner import SyncRunner

    issue_many(1)
    queue.hold_uploads("restored from test.sqlite3")
    runner = SyncRunner(lambda: HttpPlatformClient(platform.url, TOKEN, timeout=0.5), poll_interval=0.1,
                        worker=make_worker(platform, idle_poll=0.1))
    said: list[str] = []
    runner.held.connect(said.append)
    assert runner.paused
    runner.start()
    try:
        qtbot.waitUntil(lambda: said == ["restored from test.sqlite3"], timeout=10000)
        assert platform_numbers(platform) == []
        runner.set_paused(False)
        assert not runner.paused and queue.upload_hold() is None
        qtbot.waitUntil(lambda: len(platform_numbers(platform)) == 1, timeout=15000)
    finally:
        runner.stop()

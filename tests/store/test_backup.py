"""Verified backups: online backup API while another connection writes, verification, rotation,
bad backups, damaged stores detected and restored."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from app.services import backup
from app.services.integrity import verify_store
from app.services.issuing import issue_invoices
from app.services.store_access import open_store
from app.store import migrations
from app.store.damage import StoreDamaged
from app.store.database import STORE_FILE
from app.store.models import Invoice
from tests.helpers.bodies import invoice_body
from tests.helpers.cli import run_cli


def _issue(n: int) -> list[str]:
    return [i.number for i in issue_invoices([invoice_body() for _ in range(n)], clerk="李四")]


def test_backup_is_verified_and_recorded(store, seller, tmp_path):
    _issue(5)
    folder = tmp_path / "usb"
    record = backup.make_backup(store.path, folder)
    assert record.ok, record.problems
    assert record.invoices == 5 and record.entries == 7 and record.head_hash == verify_store().head_hash
    path = folder / record.file
    assert path.name.startswith("fapiao-desk-20") and path.suffix == ".sqlite3"
    assert not Path(str(path) + "-wal").exists()  # one self-contained file
    manifest = json.loads((folder / backup.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["backups"][0]["file"] == record.file and manifest["backups"][0]["ok"] is True
    with sqlite3.connect(str(path)) as c:
        assert c.execute("SELECT count(*) FROM invoice").fetchone()[0] == 5


def test_backup_while_another_connection_writes(store, seller, data_dir, tmp_path):
    """Another process issues invoices while backups are taken: each backup is one consistent snapshot."""
    from decimal import Decimal

    from app.core.limits import OfflineLimits
    from app.services.limits import set_limits

    # It issues for as long as the backups take: never held back by the offline limit on a slow disk.
    set_limits(OfflineLimits(max_hours=72, max_count=10 ** 6, max_amount=Decimal("1e15"), max_single=Decimal("1e9")))
    _issue(20)
    stop = threading.Event()
    issued = []

    def writer():
        # A separate connection in its own thread, as a second app instance would write.
        from app.store.models import database

        while not stop.is_set():
            issued.extend(_issue(5))
        database.close()

    thread = threading.Thread(target=writer)
    thread.start()
    records: list[backup.BackupRecord] = []
    try:
        while len(records) < 5:
            records.append(backup.make_backup(store.path, tmp_path / "b", keep=10))
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    assert all(r.ok for r in records), [r.problems for r in records]
    counts = [r.invoices for r in records]
    assert counts == sorted(counts) and counts[-1] > counts[0], counts  # writes went on between backups
    assert len(issued) > 0


def test_rotation_keeps_the_newest(store, seller, tmp_path):
    folder = tmp_path / "b"
    names = []
    for _ in range(5):
        _issue(1)
        names.append(backup.make_backup(store.path, folder, keep=3).file)
    files = sorted(p.name for p in folder.glob("fapiao-desk-*.sqlite3"))
    assert files == sorted(names[-3:])
    assert [r.file for r in backup.read_manifest(folder)] == names[-3:][::-1]


def test_rotation_never_drops_the_last_good_backup(store, seller, tmp_path, monkeypatch):
    folder = tmp_path / "b"
    good = backup.make_backup(store.path, folder, keep=2)
    monkeypatch.setattr(backup, "verify_backup_file", lambda path, expected=None, **_: (["planted failure"], None))
    for _ in range(3):
        assert not backup.make_backup(store.path, folder, keep=2).ok
    kept = backup.read_manifest(folder)
    assert good.file in [r.file for r in kept] and (folder / good.file).exists()
    newest = backup.newest_good(folder)
    assert newest is not None and newest.file == good.file


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped"])
def test_corrupted_backup_is_detected_as_bad(store, seller, tmp_path, damage):
    _issue(30)
    record = backup.make_backup(store.path, tmp_path / "b")
    path = tmp_path / "b" / record.file
    data = bytearray(path.read_bytes())
    if damage == "garbage":
        path.write_bytes(b"\x00garbage" * 1000)
    elif damage == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:
        # An amount byte changed inside the file: SQLite's checks pass, the content hashes do not.
        with sqlite3.connect(str(path)) as c:
            c.execute("UPDATE invoice_line SET amount = amount + 1 WHERE id = 7")
        c.close()
    problems, _ = backup.verify_backup_file(path)
    assert problems, damage
    with pytest.raises(backup.BadBackup):
        backup.restore_backup(tmp_path / "elsewhere", path)
    assert not (tmp_path / "elsewhere" / STORE_FILE).exists()


def test_backup_of_a_tampered_store_is_not_counted_good(store, seller, tmp_path):
    _issue(3)
    with sqlite3.connect(str(store.path)) as c:
        c.execute("UPDATE invoice SET total_tax = 0 WHERE id = 2")
    c.close()
    record = backup.make_backup(store.path, tmp_path / "b")
    assert not record.ok and "total_tax" in record.problems[0]
    assert backup.newest_good(tmp_path / "b") is None


def _break(path: Path, how: str) -> None:
    if how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif how == "garbage":
        path.write_bytes(b"PK\x03\x04 not a database at all " * 4000)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "pages":  # a whole SQLite header, its pages overwritten: integrity_check fails
        pages = bytearray(path.read_bytes())
        page = int.from_bytes(pages[16:18], "big")
        pages[page * 2: page * 6] = b"\xa5" * (page * 4)
        path.write_bytes(bytes(pages))


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty", "pages"])
def test_damaged_store_is_detected_and_restored_from_the_newest_good_backup(data_dir, tmp_path, how):
    from app.services.seller import set_seller
    from tests.helpers.bodies import SELLER_TAX_ID

    store = open_store(data_dir)
    set_seller(name="北京某某科技有限公司", tax_id=SELLER_TAX_ID, drawer="张三")
    for _ in range(40):
        _issue(10)
    folder = tmp_path / "usb"
    backup.set_backup_settings(data_dir, folder=str(folder), keep=5)
    older = backup.backup_store(data_dir)
    _issue(5)
    newest = backup.backup_store(data_dir)
    assert older.ok and newest.ok
    held = [(r.provisional_number, r.content_hash) for r in Invoice.select().order_by(Invoice.id)]
    store.close()
    # Checkpoint, then damage the file itself (the WAL is gone, as after a crash of the disk).
    with sqlite3.connect(str(data_dir / STORE_FILE)) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    _break(data_dir / STORE_FILE, how)

    with pytest.raises(StoreDamaged):
        open_store(data_dir)
    result = run_cli(data_dir, "list")
    assert result.returncode == 1 and "damaged" in result.stderr and "restore" in result.stderr

    # The backup folder is still known although the store's settings cannot be read.
    assert backup.backup_folder(data_dir) == folder.resolve()
    found = backup.newest_good(backup.backup_folder(data_dir))
    assert found is not None and found.file == newest.file
    restored = run_cli(data_dir, "restore", str(folder / newest.file))
    assert restored.returncode == 0, restored.stderr
    assert "before-restore" in restored.stdout and "reconcile --from" in restored.stdout
    aside = list(data_dir.glob(f"{STORE_FILE}.before-restore-*"))
    assert aside, "the damaged store is kept aside, never deleted"

    store = open_store(data_dir)
    try:
        assert [(r.provisional_number, r.content_hash) for r in Invoice.select().order_by(Invoice.id)] == held
        assert verify_store().ok
    finally:
        store.close()
    assert run_cli(data_dir, "audit", "verify").returncode == 0


def test_restore_from_an_older_backup_keeps_verify_whole(store, seller, data_dir, tmp_path):
    """Heads of backups newer than the one restored stop being anchors: their entries are legitimately gone."""
    backup.set_backup_settings(data_dir, folder=str(tmp_path / "b"))
    _issue(2)
    older = backup.backup_store(data_dir)
    _issue(2)
    backup.backup_store(data_dir)
    store.close()
    # Older than the newest verified backup: refused without the clerk's explicit confirmation ...
    refused = run_cli(data_dir, "restore", str(tmp_path / "b" / older.file))
    assert refused.returncode == 1 and "older than the newest verified backup" in refused.stderr
    # ... and restored with it.
    backup.restore_backup(data_dir, tmp_path / "b" / older.file, confirm_older=True)
    verify = run_cli(data_dir, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert run_cli(data_dir, "list").stdout.count("LX-") == 2


def test_cli_backup_and_refused_restore(store, seller, data_dir, tmp_path):
    _issue(3)
    store.close()
    made = run_cli(data_dir, "backup", "--to", str(tmp_path / "usb"))
    assert made.returncode == 0 and "verified good" in made.stdout and "3 invoices" in made.stdout
    path = Path(made.stdout.splitlines()[0])
    listing = run_cli(data_dir, "backups", "--folder", str(tmp_path / "usb"))
    assert "good" in listing.stdout and str(path) in listing.stdout
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(path.read_bytes()[:5000])
    before = (data_dir / STORE_FILE).read_bytes()
    refused = run_cli(data_dir, "restore", str(bad))
    assert refused.returncode == 1 and "does not verify" in refused.stderr
    assert (data_dir / STORE_FILE).read_bytes() == before and not list(data_dir.glob("*.before-restore-*"))
    assert run_cli(data_dir, "restore", str(tmp_path / "missing.sqlite3")).returncode == 2


def test_backup_into_an_unusable_folder_fails_clearly(store, seller, data_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store.close()
    result = run_cli(data_dir, "backup", "--to", str(blocker / "sub"))
    assert result.returncode == 1 and "backup folder not usable" in result.stderr
    bad = run_cli(data_dir, "backup-settings", "--keep", "0")
    assert bad.returncode == 2 and "保留备份份数" in bad.stderr


def test_a_verified_backup_is_taken_before_each_migration(data_dir, tmp_path, monkeypatch):
    from app.services.seller import set_seller
    from tests.helpers.bodies import SELLER_TAX_ID

    store = open_store(data_dir)
    set_seller(name="北京某某科技有限公司", tax_id=SELLER_TAX_ID, drawer="张三")
    _issue(3)
    backup.set_backup_settings(data_dir, folder=str(tmp_path / "b"))
    store.close()
    seen = []
    latest = migrations.LATEST
    monkeypatch.setattr(migrations, "STEPS", [*migrations.STEPS, lambda db, m: seen.append(db.pragma("user_version"))])
    monkeypatch.setattr(migrations, "LATEST", len(migrations.STEPS))
    store = open_store(data_dir)
    store.close()
    records = backup.read_manifest(tmp_path / "b")
    # The step ran twice: on the verified backup's scratch copy (which proves it runs), then on the store.
    assert seen == [latest, latest] and len(records) == 1 and records[0].ok
    assert records[0].reason == f"before migration from schema {latest}" and records[0].invoices == 3
    with sqlite3.connect(str(tmp_path / "b" / records[0].file)) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == latest  # the store before the step


def test_no_migration_without_a_good_backup(data_dir, tmp_path, monkeypatch):
    store = open_store(data_dir)
    backup.set_backup_settings(data_dir, folder=str(tmp_path / "b"))
    store.close()
    monkeypatch.setattr(backup, "verify_backup_file", lambda path, expected=None, **_: (["planted failure"], None))
    latest = migrations.LATEST
    monkeypatch.setattr(migrations, "STEPS", [*migrations.STEPS, lambda db, m: None])
    monkeypatch.setattr(migrations, "LATEST", len(migrations.STEPS))
    with pytest.raises(backup.BackupFailed):
        open_store(data_dir)
    with sqlite3.connect(str(data_dir / STORE_FILE)) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == latest


def test_two_writers_sharing_a_folder_keep_every_record(store, seller, data_dir, tmp_path):
    """Two processes backing up into one folder at once: the manifest keeps both sets of records."""
    import subprocess
    import sys

    from tests.helpers.cli import ROOT

    _issue(5)
    store.close()
    script = ("import sys; from pathlib import Path; from app.services import backup\n"
              "for _ in range(10): assert backup.make_backup(Path(sys.argv[1]), Path(sys.argv[2]), keep=100).ok\n")
    children = [subprocess.Popen([sys.executable, "-c", script, str(data_dir / STORE_FILE), str(tmp_path / "b")],
                                 cwd=ROOT) for _ in range(2)]
    assert [c.wait(timeout=120) for c in children] == [0, 0]
    records = backup.read_manifest(tmp_path / "b")
    assert len(records) == 20 and all(r.ok for r in records)
    assert len(list((tmp_path / "b").glob("fapiao-desk-*.sqlite3"))) == 20

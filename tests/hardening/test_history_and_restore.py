"""Issue 14: the history check covers every table whose change matters, reads one snapshot; a restore takes only
a file the desk made; rotation never deletes outside its folder.

Every tampering is done as an attacker with the file would do it: the sqlite3 module on the store, foreign keys
off, behind the app's back. Each is shown found by the quick check (from a verified head recorded before the
tampering, sample 0: no lucky window) and by the full check."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from app.services import backup
from app.services.integrity import IntegrityReport, check_history, verify_store
from app.services.issuing import issue_invoices
from app.store import migrations
from app.store.database import STORE_FILE
from app.store.models import Invoice, UploadQueueEntry
from tests.helpers.bodies import invoice_body
from tests.helpers.cli import run_cli


def _issue(n: int) -> list[str]:
    return [i.number for i in issue_invoices([invoice_body() for _ in range(n)], clerk="李四")]


def _raw(store) -> sqlite3.Connection:
    connection = sqlite3.connect(str(store.path), isolation_level=None)
    connection.execute("PRAGMA foreign_keys = OFF")
    return connection


def _accept(numbers: list[str], first: int = 1) -> None:
    from app.services.queue import Outcome, record_outcomes

    for i, number in enumerate(numbers, first):
        entry = UploadQueueEntry.select().join(Invoice).where(Invoice.provisional_number == number).get()
        record_outcomes([Outcome(entry.id, True, f"2611000000000000{i:04d}", accepted_at="2026-11-29T10:00:00+08:00")])


def _reject(number: str) -> None:
    from app.services.queue import Outcome, record_outcomes

    entry = UploadQueueEntry.select().join(Invoice).where(Invoice.provisional_number == number).get()
    record_outcomes([Outcome(entry.id, False, details=[{"code": "X", "message": "bad"}])])


def _both(expect: str, quick_expect: str | None = None) -> tuple[IntegrityReport, IntegrityReport]:
    """The quick check (from the head recorded before the tampering, no sample) and the full check: both fail,
    and some finding of each names `expect` (of the quick one quick_expect, when given)."""
    quick = check_history(sample=0, record=False)
    full = check_history(full=True, record=False)
    for report, wanted in ((quick, quick_expect or expect), (full, expect)):
        assert not report.ok, "the tampering went unnoticed"
        reasons = " | ".join(f.reason for f in report.findings)
        assert wanted in reasons, reasons
        assert any("\u4e00" <= ch <= "\u9fff" for ch in reasons)  # said in Chinese too
    assert quick.quick and not full.quick
    return quick, full


def _verified() -> None:
    report = check_history(full=True)
    assert report.ok, [f.describe() for f in report.findings]


def _id_of(connection: sqlite3.Connection, number: str) -> int:
    return connection.execute("SELECT id FROM invoice WHERE provisional_number = ?", (number,)).fetchone()[0]


# --- A. the upload queue ----------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["accepted", "withdrawn", "deleted"])
def test_a_queue_entry_taken_out_of_the_queue_is_found(store, seller, how):
    numbers = _issue(3)
    _accept(numbers[2:])
    _verified()
    with _raw(store) as c:
        invoice_id = _id_of(c, numbers[0])
        if how == "deleted":
            c.execute("DELETE FROM upload_queue_entry WHERE invoice_id = ?", (invoice_id,))
        else:
            c.execute("UPDATE upload_queue_entry SET state = ? WHERE invoice_id = ?", (how, invoice_id))
    quick, _ = _both("never be uploaded")
    assert numbers[0] in {f.invoice_number for f in quick.findings}


def test_a_queue_entry_and_status_set_accepted_together_are_found(store, seller):
    """Both rows changed to look uploaded: no acceptance entry stands behind them."""
    numbers = _issue(2)
    _verified()
    with _raw(store) as c:
        invoice_id = _id_of(c, numbers[0])
        c.execute("UPDATE upload_queue_entry SET state = 'accepted' WHERE invoice_id = ?", (invoice_id,))
        c.execute("UPDATE invoice SET status = 'accepted' WHERE id = ?", (invoice_id,))
    quick, _ = _both("no accepted entry", "changed since the verified head")
    assert numbers[0] in {f.invoice_number for f in quick.findings}


def test_the_cli_audit_verify_reports_a_queue_entry_deleted(store, seller, data_dir):
    numbers = _issue(2)
    _verified()
    with _raw(store) as c:
        c.execute("DELETE FROM upload_queue_entry WHERE invoice_id = ?", (_id_of(c, numbers[1]),))
    store.close()
    for extra in ((), ("--full",)):
        result = run_cli(data_dir, "audit", "verify", "--no-anchors", *extra)
        assert result.returncode == 1 and numbers[1] in result.stderr, (extra, result.stdout, result.stderr)


# --- A. invoice status --------------------------------------------------------------------------------

def test_pending_set_rejected_is_found(store, seller):
    numbers = _issue(2)
    _verified()
    with _raw(store) as c:
        c.execute("UPDATE invoice SET status = 'rejected' WHERE provisional_number = ?", (numbers[0],))
    _both("not a rejection")


def test_rejected_set_back_to_pending_is_found(store, seller):
    numbers = _issue(2)
    _reject(numbers[0])
    _verified()
    with _raw(store) as c:
        invoice_id = _id_of(c, numbers[0])
        c.execute("UPDATE invoice SET status = 'pre_issue' WHERE id = ?", (invoice_id,))
        c.execute("UPDATE upload_queue_entry SET state = 'pending' WHERE invoice_id = ?", (invoice_id,))
    _both("set back behind the app's back")


def test_accepted_set_back_to_pending_is_found(store, seller):
    numbers = _issue(3)
    _accept(numbers)
    _verified()
    with _raw(store) as c:
        invoice_id = _id_of(c, numbers[1])
        c.execute("UPDATE invoice SET status = 'pre_issue' WHERE id = ?", (invoice_id,))
        c.execute("UPDATE upload_queue_entry SET state = 'pending' WHERE invoice_id = ?", (invoice_id,))
    _both("set back behind the app's back")


@pytest.mark.parametrize("to", ["pre_issue", "accepted"])
def test_an_uncancelled_invoice_is_found(store, seller, to):
    from app.services.lifecycle import cancel_invoice

    numbers = _issue(3)
    _accept(numbers[2:])
    assert cancel_invoice(numbers[0], "开错了").cancelled  # a pre-issue record withdrawn
    _verified()
    with _raw(store) as c:
        invoice_id = _id_of(c, numbers[0])
        c.execute("UPDATE invoice SET status = ?, cancelled_at = NULL, cancel_reason = NULL WHERE id = ?",
                  (to, invoice_id))
        c.execute("UPDATE upload_queue_entry SET state = ? WHERE invoice_id = ?",
                  ("pending" if to == "pre_issue" else "accepted", invoice_id))
    if to == "pre_issue":  # back in the queue: the invoice itself says so, in both checks
        _both("un-cancelled")
    else:  # looks settled: its own rows in full, the count of cancellations in the quick check
        _both("no accepted entry", "cancellations were undone")


# --- A. numbers -------------------------------------------------------------------------------------

def test_a_deleted_newest_invoice_with_its_entries_is_found(store, seller):
    numbers = _issue(3)
    _verified()
    _issue(1)  # after the head, then removed with everything that names it
    with _raw(store) as c:
        newest = c.execute("SELECT max(id) FROM invoice").fetchone()[0]
        for table in ("audit_entry", "invoice_line", "upload_queue_entry"):
            c.execute(f"DELETE FROM {table} WHERE invoice_id = ?", (newest,))
        c.execute("DELETE FROM invoice WHERE id = ?", (newest,))
    _both("the newest invoices were deleted")
    assert numbers  # the three before it are untouched


def test_a_deleted_invoice_from_the_middle_is_a_gap(store, seller):
    numbers = _issue(4)
    with _raw(store) as c:
        invoice_id = _id_of(c, numbers[1])
        for table in ("invoice_line", "upload_queue_entry"):
            c.execute(f"DELETE FROM {table} WHERE invoice_id = ?", (invoice_id,))
        c.execute("DELETE FROM invoice WHERE id = ?", (invoice_id,))
    report = verify_store()
    assert any("gaps" in f.reason for f in report.findings), [f.reason for f in report.findings]


def test_a_counter_moved_back_is_found_and_the_next_number_is_refused(store, seller):
    from app.store.models import database
    from app.store.numbering import CounterMovedBack, next_provisional_number

    numbers = _issue(3)
    _verified()
    with _raw(store) as c:
        c.execute("UPDATE number_counter SET last_value = 1")
    _both("moved back")
    with pytest.raises(CounterMovedBack) as refused, database.atomic():
        next_provisional_number(seller.party.tax_id)
    assert numbers[2] in refused.value.message_zh and "moved back" in refused.value.message_en


def test_the_next_number_follows_the_counter(store, seller):
    from app.store.models import database
    from app.store.numbering import next_provisional_number

    _issue(2)
    with database.atomic() as transaction:
        assert next_provisional_number(seller.party.tax_id) == "LX-0000003"
        transaction.rollback()


# --- A. settings and the seller -----------------------------------------------------------------------

def test_a_setting_edited_in_place_is_found(store, seller):
    from app.services.settings import set_setting

    set_setting("backup.keep", 10)
    _issue(1)
    _verified()
    with _raw(store) as c:
        c.execute("UPDATE setting SET value = '1' WHERE key = 'backup.keep'")
    _both("edited in place")


def test_a_setting_written_or_deleted_behind_the_apps_back_is_found(store, seller):
    from app.services.queue import hold_uploads

    hold_uploads("reconcile first")
    _verified()
    with _raw(store) as c:
        c.execute("DELETE FROM setting WHERE key = 'upload_hold'")  # uploads released behind the app's back
        c.execute("INSERT INTO setting (key, value) VALUES ('limits.offline', '{\"max_count\": 999999}')")
    _, full = _both("deleted behind the app's back")
    assert any("no audit entry" in f.reason for f in full.findings)


def test_legitimate_setting_changes_and_the_hold_pass(store, seller):
    from app.services.queue import hold_uploads, release_upload_hold
    from app.services.settings import set_platform, set_setting

    _verified()
    set_setting("backup.keep", 3)
    set_platform(url="http://127.0.0.1:9", token="secret")
    hold_uploads("x")
    assert release_upload_hold()
    assert check_history(sample=0).ok and check_history(full=True).ok


def test_a_seller_tax_id_changed_in_place_is_found_and_the_backup_heads_still_apply(store, seller, data_dir):
    from app.services.seller import get_seller

    _issue(2)
    record = backup.backup_store(data_dir)  # the default folder, beside the store
    assert record.ok
    _verified()
    with _raw(store) as c:
        c.execute("UPDATE seller_profile SET tax_id = '91110000000000000X'")
    _both("edited in place")
    changed = get_seller()
    assert changed is not None and changed.party.tax_id == "91110000000000000X"
    # The backup's head still anchors this store, whatever the seller row says now.
    heads = backup.anchors(backup.backup_folder(data_dir), changed.party.tax_id)
    assert [h.entry_id for h in heads] == [record.head_id]
    assert backup.anchors(backup.backup_folder(data_dir), changed.party.tax_id, data_dir) == heads


def test_a_chosen_folders_heads_apply_with_the_data_dir(store, seller, data_dir, tmp_path):
    backup.set_backup_settings(data_dir, folder=str(tmp_path / "usb"))
    record = backup.backup_store(data_dir)
    assert record.ok
    assert [h.entry_id for h in backup.anchors(tmp_path / "usb", "OTHER", data_dir)] == [record.head_id]


# --- A. one snapshot ----------------------------------------------------------------------------------

def test_checks_while_another_desk_issues_never_raise_a_false_alarm(store, seller):
    from decimal import Decimal

    from app.core.limits import OfflineLimits
    from app.services.limits import set_limits

    # The other desk issues for as long as the checks run: on a quick machine that passed the default 500 invoices
    # held offline, and its next issue was (rightly) refused.
    set_limits(OfflineLimits(max_hours=72, max_count=10 ** 6, max_amount=Decimal("1e15"), max_single=Decimal("1e9")))
    _issue(5)
    _verified()
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        from app.store.models import database

        try:
            while not stop.is_set():
                _issue(2)
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            database.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for round_ in range(12):
            report = check_history(full=round_ % 3 == 0)
            assert report.ok, [f.describe() for f in report.findings]
    finally:
        stop.set()
        thread.join()
    assert not failures
    assert Invoice.select().count() > 5 and verify_store().ok


@pytest.mark.parametrize("full", [False, True])
def test_a_change_committed_in_the_middle_of_a_check_is_not_seen_by_it(store, seller, monkeypatch, full):
    """Deterministic: right after the chain walk another desk cancels one invoice and issues another. The
    check reads one snapshot, so it sees neither (no count of cancellations, queue or number out of step)."""
    from app.services import integrity
    from app.services.lifecycle import cancel_invoice

    numbers = _issue(3)
    _verified()
    walk = integrity._walk
    done: list[str] = []

    def walk_then_another_desk_writes(*args, **kwargs):
        whole = walk(*args, **kwargs)
        if not done:
            def other_desk() -> None:
                from app.store.models import database

                try:
                    assert cancel_invoice(numbers[0], "开错了").cancelled
                    done.extend(_issue(1))
                finally:
                    database.close()

            thread = threading.Thread(target=other_desk)
            thread.start()
            thread.join()
        return whole

    monkeypatch.setattr(integrity, "_walk", walk_then_another_desk_writes)
    report = check_history(full=full, sample=0)
    assert done and report.ok, [f.describe() for f in report.findings]
    assert report.invoices == 3  # as of its snapshot
    monkeypatch.setattr(integrity, "_walk", walk)
    after = check_history(full=full, sample=0)
    assert after.ok and after.invoices == 4, [f.describe() for f in after.findings]


# --- B. restore takes only what the desk made ---------------------------------------------------------

def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def good_backup(store, seller, data_dir, tmp_path) -> Path:
    _issue(3)
    record = backup.make_backup(store.path, tmp_path / "usb")
    assert record.ok
    crafted = tmp_path / "crafted"
    crafted.mkdir()
    copy = crafted / record.file
    shutil.copyfile(tmp_path / "usb" / record.file, copy)
    return copy


def _craft(path: Path, *sql: str) -> None:
    connection = sqlite3.connect(str(path), isolation_level=None)
    try:
        for statement in sql:
            connection.execute(statement)
    finally:
        connection.close()


CRAFTS = {
    "trigger": ("CREATE TRIGGER steal AFTER INSERT ON invoice BEGIN UPDATE upload_queue_entry SET state = "
                "'accepted' WHERE invoice_id = NEW.id; END",),
    "view": ("DROP TABLE outage_note", "CREATE VIEW outage_note AS SELECT 1 AS id"),
    "extra_table": ("CREATE TABLE notes (x TEXT)",),
    "extra_index": ("CREATE INDEX sneaky ON invoice (buyer_name)",),
    "newer_version": (f"PRAGMA user_version = {migrations.LATEST + 1}",),
    "version_zero": ("PRAGMA user_version = 0",),
}


@pytest.mark.parametrize("how", [*CRAFTS, "empty_file", "no_tables", "missing_table"])
def test_restore_refuses_a_file_the_desk_did_not_make(store, data_dir, good_backup, how):
    if how in CRAFTS:
        _craft(good_backup, *CRAFTS[how])
    elif how == "empty_file":
        good_backup.write_bytes(b"")
    elif how == "no_tables":
        good_backup.unlink()
        _craft(good_backup, "CREATE TABLE t (x)", "DROP TABLE t")
    else:
        _craft(good_backup, "DROP TABLE outage_note")
    store.close()
    before = _digest(data_dir / STORE_FILE)
    with pytest.raises(backup.BadBackup) as refused:
        backup.restore_backup(data_dir, good_backup)
    assert refused.value.message_zh and refused.value.message_en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message_zh)
    assert _digest(data_dir / STORE_FILE) == before
    assert not list(data_dir.glob(f"{STORE_FILE}.before-restore-*")), "the live store was not touched"
    if how == "newer_version":
        assert "newer" in refused.value.message_en
    if how == "trigger":
        assert "trigger" in refused.value.message_en


def test_restore_refuses_a_crafted_file_on_the_command_line(store, data_dir, good_backup):
    _craft(good_backup, *CRAFTS["trigger"])
    store.close()
    result = run_cli(data_dir, "restore", str(good_backup))
    assert result.returncode == 1 and "trigger" in result.stderr
    assert not list(data_dir.glob(f"{STORE_FILE}.before-restore-*"))


def test_restore_of_a_file_whose_history_does_not_verify_is_refused(store, data_dir, good_backup):
    _craft(good_backup, "UPDATE invoice SET total_with_tax = total_with_tax + 1 WHERE id = 1")
    store.close()
    with pytest.raises(backup.BadBackup, match="校验"):
        backup.restore_backup(data_dir, good_backup)


def test_restore_of_an_older_backup_needs_a_confirmation(store, seller, data_dir):
    folder = backup.backup_folder(data_dir)
    _issue(2)
    older = backup.backup_store(data_dir)
    _issue(2)
    newest = backup.backup_store(data_dir)
    assert older.ok and newest.ok
    store.close()
    before = _digest(data_dir / STORE_FILE)
    with pytest.raises(backup.OlderBackup) as refused:
        backup.restore_backup(data_dir, folder / older.file)
    assert newest.file in refused.value.message_en and newest.file in refused.value.message_zh
    assert _digest(data_dir / STORE_FILE) == before
    result = backup.restore_backup(data_dir, folder / older.file, confirm_older=True)
    assert result.snapshot.invoices == 2
    # The restored store verifies, with the hold it got recorded in its history.
    from app.services.store_access import open_store

    reopened = open_store(data_dir)
    try:
        from app.services.queue import upload_hold

        assert upload_hold() is not None
        assert check_history(full=True).ok and check_history(sample=0).ok
    finally:
        reopened.close()


def test_restore_of_the_newest_backup_needs_no_confirmation(store, seller, data_dir):
    _issue(2)
    newest = backup.backup_store(data_dir)
    store.close()
    result = backup.restore_backup(data_dir, backup.backup_folder(data_dir) / newest.file)
    assert result.snapshot.invoices == 2


# --- C. rotation and restore stay inside the backup folder ---------------------------------------------

def test_rotation_never_deletes_a_file_a_manifest_entry_names_outside_the_folder(store, seller, tmp_path):
    _issue(1)
    folder = tmp_path / "deep" / "usb"
    victims = [tmp_path / "x", tmp_path / "victim.sqlite3", tmp_path / "deep" / f"{backup.PREFIX}1{backup.SUFFIX}"]
    for victim in victims:
        victim.parent.mkdir(parents=True, exist_ok=True)
        victim.write_text("keep me")
    first = backup.make_backup(store.path, folder, keep=5)
    manifest = json.loads((folder / backup.MANIFEST).read_text(encoding="utf-8"))
    template = manifest["backups"][0]
    names = ["../../x", str(victims[1]), f"../{victims[2].name}", "manifest.json", backup.MANIFEST]
    manifest["backups"] += [{**template, "file": name, "created_at": "2000-01-01T00:00:00+08:00"} for name in names]
    (folder / backup.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    backup.make_backup(store.path, folder, keep=1)
    for victim in victims:
        assert victim.read_text() == "keep me"
    assert not (folder / first.file).exists()  # its own old backup rotated out as before
    assert (folder / backup.MANIFEST).exists()
    assert backup.own_file(folder, "../../x") is None and backup.own_file(folder, str(victims[1])) is None


def test_newest_good_never_offers_a_file_outside_the_folder(tmp_path):
    folder = tmp_path / "usb"
    folder.mkdir()
    outside = tmp_path / f"{backup.PREFIX}20990101{backup.SUFFIX}"
    outside.write_text("x")
    entry = {"file": f"../{outside.name}", "created_at": "2099-01-01T00:00:00+08:00", "reason": "manual",
             "ok": True, "head_id": 3, "head_hash": "h"}
    (folder / backup.MANIFEST).write_text(json.dumps({"backups": [entry]}), encoding="utf-8")
    assert backup.newest_good(folder) is None

"""Verified backups with SQLite's online backup API, a manifest beside them, rotation and restore.

A backup is never a file copy of the live store (a copy taken mid-write, or without its WAL, is
not a database): sqlite3.Connection.backup copies the pages of one read snapshot while other
connections go on writing. The same snapshot gives the figures the backup must match.

Every backup is verified after it is written: PRAGMA integrity_check on the file, then a restore
into a scratch file whose invoices (count, content hashes) and audit chain (verify_store, head
hash) must match the source's snapshot. One that fails is kept, marked bad in the manifest and
reported, and is never offered as good nor used as an anchor.

Everything here uses its own sqlite3 connections (no peewee proxy), so it runs in any thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict

import peewee

from app.base.files import make_private, private_folder
from app.core.clock import now_iso
from app.core.errors import DeskError, FieldError, ValidationFailed
from app.services.integrity import Anchor, IntegrityReport, verify_store
from app.services.queue import UPLOAD_HOLD_SETTING, UploadHold
from app.services.seller import get_seller
from app.services.settings import set_setting
from app.store import audit, migrations
from app.store.damage import file_problem, sqlite_problem
from app.store.database import STORE_FILE
from app.store.schema_check import schema_problem

MANIFEST = "manifest.json"
LOCATION_FILE = "backup-location.json"  # in the data dir: where backups go, readable when the store is not
PREFIX = "fapiao-desk-"
SUFFIX = ".sqlite3"
FOLDER_SETTING = "backup.folder"
KEEP_SETTING = "backup.keep"
EVERY_HOURS_SETTING = "backup.every_hours"
DEFAULT_KEEP = 10
DEFAULT_EVERY_HOURS = 4.0


class BackupFailed(DeskError):
    """A backup could not be written or did not verify (the message says why)."""


class BadBackup(DeskError):
    """A backup file that does not verify: it is never restored."""


class OlderBackup(BadBackup):
    """A good backup older than the newest verified one: restored only when the clerk confirms it."""


def own_file(folder: Path, name: str) -> Path | None:
    """The backup file a manifest entry names, when it is one the desk made inside folder (a plain
    fapiao-desk-*.sqlite3 name, no directory part); None for anything else (../../x, an absolute path), which
    the desk never deletes, offers or reads as a backup."""
    if not name or name != Path(name).name or "/" in name or "\\" in name or ":" in name or name in (".", ".."):
        return None
    if not (name.startswith(PREFIX) and name.endswith(SUFFIX)):
        return None
    path = Path(folder) / name
    try:
        if path.resolve().parent != Path(folder).resolve():
            return None  # e.g. a link out of the folder
    except OSError:
        return None
    return path


@dataclass
class Snapshot:
    """What a store holds, as the backup must hold it too."""

    invoices: int
    invoices_digest: str  # sha256 over (number, content hash) in id order
    entries: int
    head_id: int
    head_hash: str
    seller_tax_id: str = ""


@dataclass
class BackupRecord:
    file: str
    created_at: str
    reason: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    invoices: int = 0
    entries: int = 0
    head_id: int = 0
    head_hash: str = ""
    seller_tax_id: str = ""
    size: int = 0
    seconds: float = 0.0
    anchor: bool = True  # false once a restore from an older backup made this head legitimately absent
    store: str = ""  # the store file backed up (resolved path): its heads anchor it whatever its seller says

    @property
    def status(self) -> str:
        return "good" if self.ok else "bad"


# --- settings: where, how many, how often ----------------------------------------------------------

def _raw_setting(store_path: Path, key: str, default: Any = None) -> Any:
    """A setting read on a private connection (callable from any thread, and before the proxy is bound)."""
    if not Path(store_path).exists():
        return default  # sqlite3.connect would create an empty file
    try:
        connection = sqlite3.connect(str(store_path), timeout=15)
        try:
            row = connection.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return default
    return default if row is None else json.loads(row[0])


def backup_folder(data_dir: Path) -> Path:
    """The clerk's chosen folder (setting, mirrored in the data dir), else data_dir/backups."""

    data_dir = Path(data_dir)
    chosen = _raw_setting(data_dir / STORE_FILE, FOLDER_SETTING) if (data_dir / STORE_FILE).exists() else None
    if not chosen:
        try:
            chosen = json.loads((data_dir / LOCATION_FILE).read_text(encoding="utf-8")).get("folder")
        except (OSError, ValueError):
            chosen = None
    return Path(chosen) if chosen else data_dir / "backups"


class BackupSettings(TypedDict):
    folder: str
    keep: int
    every_hours: float


def backup_settings(data_dir: Path) -> BackupSettings:
    path = Path(data_dir) / STORE_FILE
    return {"folder": str(backup_folder(data_dir)),
            "keep": int(_raw_setting(path, KEEP_SETTING, DEFAULT_KEEP)),
            "every_hours": float(_raw_setting(path, EVERY_HOURS_SETTING, DEFAULT_EVERY_HOURS))}  # ok-float: hours


def set_backup_settings(data_dir: Path, folder: str | None = None, keep: int | None = None,
                        every_hours: float | None = None) -> BackupSettings:
    """Through app.services.settings (the store must be open); the folder is mirrored in the data dir."""

    errors: list[FieldError] = []
    if keep is not None and keep < 1:
        errors.append(FieldError("backup.keep", "至少保留 1 份备份", "must keep at least 1 backup"))
    if every_hours is not None and not (0 < every_hours <= 24 * 30):
        errors.append(FieldError("backup.every_hours", "备份间隔应在 0 到 720 小时之间", "must be in (0, 720] hours"))
    if folder is not None:
        target = Path(folder).expanduser()
        try:
            target.mkdir(parents=True, exist_ok=True)
            probe = target / ".fapiao-desk-write-test"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as error:
            errors.append(FieldError("backup.folder", f"无法写入备份文件夹 {target}（{error.strerror}）",
                                     f"cannot write to {target}"))
    if errors:
        raise ValidationFailed(errors)
    if folder is not None:
        set_setting(FOLDER_SETTING, str(Path(folder).expanduser().resolve()))
        _write_json(Path(data_dir) / LOCATION_FILE, {"folder": str(Path(folder).expanduser().resolve())})
    if keep is not None:
        set_setting(KEEP_SETTING, keep)
    if every_hours is not None:
        set_setting(EVERY_HOURS_SETTING, every_hours)
    return backup_settings(data_dir)


# --- the manifest ----------------------------------------------------------------------------------

def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(partial, path)  # a reader sees the old manifest or the new one, never half of one


@contextmanager
def _manifest_lock(folder: Path, timeout: float = 30.0) -> Iterator[None]:
    """Two app instances (or a PC and the command line) sharing a folder update the manifest in turn."""
    lock = Path(folder) / "manifest.lock"
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            break
        except FileExistsError:
            try:
                if time.time() - lock.stat().st_mtime > 120:  # its holder died
                    lock.unlink(missing_ok=True)
                    continue
            except FileNotFoundError:
                continue
            if time.monotonic() > deadline:
                raise BackupFailed(f"备份清单被占用：{lock}", f"the backup manifest stays locked: {lock}") from None
            time.sleep(0.05)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def read_manifest(folder: Path) -> list[BackupRecord]:
    """Backups in the folder, newest first."""
    try:
        data = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    names = set(BackupRecord.__dataclass_fields__)
    records = [BackupRecord(**{k: v for k, v in item.items() if k in names}) for item in data.get("backups", [])]
    return sorted(records, key=lambda r: r.created_at, reverse=True)


def _save_manifest(folder: Path, records: list[BackupRecord]) -> None:
    ordered = sorted(records, key=lambda r: r.created_at, reverse=True)
    _write_json(Path(folder) / MANIFEST, {"backups": [asdict(r) for r in ordered]})


def newest_good(folder: Path) -> BackupRecord | None:
    return next((r for r in read_manifest(folder) if r.ok and _exists(own_file(folder, r.file))), None)


# The backup as the app quits is skipped when a good one this recent exists: at a million invoices a backup
# takes most of a minute, and the clerk closing the desk for lunch should not pay it every time.
CLOSE_SKIP_WITHIN = timedelta(hours=1)


def close_backup_skipped(data_dir: Path) -> str | None:
    """Why the backup at close is not needed, or None to make one: the newest good backup already holds every
    entry of the open store, or it is less than an hour old."""
    from app.store.models import AuditEntry

    newest = newest_good(backup_folder(Path(data_dir)))
    if newest is None:
        return None
    head_id = AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1).scalar() or 0
    shown = newest.created_at[:19].replace("T", " ")
    if newest.head_id and newest.head_id >= head_id:
        return (f"上次备份（{shown}，{newest.file}）之后没有新的记录，关闭时不再备份 "
                f"(nothing was recorded since the last good backup, {shown}: no backup at close)")
    made = datetime.fromisoformat(newest.created_at)
    if datetime.fromisoformat(now_iso()) - made < CLOSE_SKIP_WITHIN:
        return (f"上次备份（{shown}）不到一小时，关闭时不再备份；下次定时备份照常进行 "
                f"(the last good backup, {shown}, is less than an hour old: no backup at close; the schedule goes on)")
    return None


def _exists(path: Path | None) -> bool:
    return path is not None and path.exists()


def _store_of(data_dir: Path) -> str:
    try:
        return str((Path(data_dir) / STORE_FILE).resolve())
    except OSError:
        return ""


def anchors(folder: Path, seller_tax_id: str = "", data_dir: Path | None = None) -> list[Anchor]:
    """Chain heads recorded by good backups of this store: app.services.integrity.Anchor.

    A backup records the store file it was made of: its heads anchor that store whatever the seller's tax id
    in the store says now (editing the store cannot switch them off). Of the store is data_dir's (or, without
    it, the one the default folder data_dir/backups sits beside); older records without it, and backups of
    other stores sharing the folder, by the seller's tax id."""
    folder = Path(folder)
    store = _store_of(data_dir) if data_dir is not None else _store_of(folder.parent)
    out = []
    for r in read_manifest(folder):
        if not (r.ok and r.anchor and r.head_id):
            continue
        if (store and r.store == store) or not seller_tax_id or r.seller_tax_id in ("", seller_tax_id):
            out.append(Anchor(r.head_id, r.head_hash, r.file))
    return out


def verify_against_backups(data_dir: Path) -> tuple[IntegrityReport, int]:
    """The open store's history checked, and against the chain heads its seller's good backups recorded
    (a consistent rewrite of the whole chain shows there). Returns the report and how many heads."""
    seller = get_seller()
    heads = anchors(backup_folder(Path(data_dir)), seller.party.tax_id if seller else "", Path(data_dir))
    return verify_store(anchors=heads), len(heads)


# --- snapshot, write, verify -----------------------------------------------------------------------

def snapshot(connection: sqlite3.Connection) -> Snapshot:
    """Figures of the database on connection, read in whatever transaction it is in."""
    digest = hashlib.sha256()
    count = 0
    for number, content in connection.execute("SELECT provisional_number, content_hash FROM invoice ORDER BY id"):
        digest.update(f"{number}\x00{content}\n".encode())
        count += 1
    entries = connection.execute("SELECT count(*) FROM audit_entry").fetchone()[0]
    head = connection.execute("SELECT id, hash FROM audit_entry ORDER BY id DESC LIMIT 1").fetchone() or (0, "")
    seller = connection.execute("SELECT tax_id FROM seller_profile ORDER BY id LIMIT 1").fetchone()
    return Snapshot(count, digest.hexdigest(), entries, head[0], head[1], seller[0] if seller else "")


def _copy(source: sqlite3.Connection, target_path: Path) -> None:
    target = sqlite3.connect(str(target_path))
    try:
        source.backup(target)  # all pages in one step: one consistent snapshot
        # A backup is one self-contained file (no -wal beside it on the USB stick).
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()


def verify_backup_file(path: Path, expected: Snapshot | None = None, *,
                       incremental: bool = False) -> tuple[list[str], Snapshot | None]:
    """(problems, what it holds): integrity_check, then a scratch restore checked by verify_store.

    incremental (a backup just written by this release): quick_check, and the history from the head the live
    store last verified (recorded in the copy) plus a rolling sample, read from the backup itself. At a million
    invoices the full way takes minutes: a restore, which is rare, still verifies in full."""

    path = Path(path)
    if not path.exists():
        return [f"the file {path.name} is missing"], None
    problem = file_problem(path) or sqlite_problem(path, full=not incremental)
    if problem:
        return [problem], None
    if incremental and _schema_version(path) == migrations.LATEST:
        return _verify_in_place(path, expected)
    scratch_dir = Path(tempfile.mkdtemp(prefix="fapiao-verify-"))
    scratch = scratch_dir / "scratch.sqlite3"
    problems: list[str] = []
    try:
        source = sqlite3.connect(str(path))
        try:
            _copy(source, scratch)
        finally:
            source.close()
        connection = sqlite3.connect(str(scratch))
        try:
            held = snapshot(connection)
        except sqlite3.Error as error:
            return [f"the restored copy cannot be read ({error})"], None
        finally:
            connection.close()
        db = peewee.SqliteDatabase(str(scratch))
        try:
            # A backup of an older schema (the one taken before a migration) is checked as this release
            # reads it: its scratch copy is migrated first, which also proves the migration runs on it.
            migrations.migrate_to_latest(db)
            report = verify_store(db=db)
        finally:
            db.close()
        if report.first is not None:
            problems.append(f"audit chain / invoices do not verify: {report.first.describe()}")
        return problems + _compare(held, expected), held
    except sqlite3.Error as error:
        return [*problems, f"restoring into a scratch file failed ({error})"], None
    finally:
        shutil.rmtree(scratch_dir, ignore_errors=True)


def _schema_version(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _compare(held: Snapshot, expected: Snapshot | None) -> list[str]:
    problems: list[str] = []
    if expected is not None:
        for name, label in (("invoices", "invoice count"), ("invoices_digest", "invoice content hashes"),
                            ("entries", "audit entry count"), ("head_hash", "audit chain head")):
            if getattr(held, name) != getattr(expected, name):
                problems.append(f"{label} differs from the source ({getattr(held, name)} != "
                                f"{getattr(expected, name)})")
    return problems


def _verify_in_place(path: Path, expected: Snapshot | None) -> tuple[list[str], Snapshot | None]:
    """The backup read where it lies (read-only): its figures, and its history checked from its verified head."""
    from app.services.integrity import check_history

    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            held = snapshot(connection)
        db = peewee.SqliteDatabase(f"file:{path}?mode=ro", uri=True)
        try:
            report = check_history(db=db, record=False)
        finally:
            db.close()
    except (sqlite3.Error, peewee.DatabaseError) as error:
        return [f"the backup cannot be read ({error})"], None
    problems = [f"audit chain / invoices do not verify: {report.first.describe()}"] if report.first else []
    return problems + _compare(held, expected), held


def _stamp() -> tuple[str, str]:
    at = now_iso()
    moment = datetime.fromisoformat(at)
    return at, moment.strftime("%Y%m%d-%H%M%S-") + f"{moment.microsecond // 1000:03d}"


def _place(partial: Path, folder: Path, stamp: str) -> Path:
    """Give the written file its timestamped name, never over another backup's (two writers, one ms)."""
    for attempt in range(100):
        final = folder / f"{PREFIX}{stamp}{'' if attempt == 0 else f'-{attempt}'}{SUFFIX}"
        try:
            os.link(partial, final)  # fails when the name is taken: no backup overwrites another
        except FileExistsError:
            continue
        except OSError:  # a share without hard links
            if final.exists():
                continue
            os.replace(partial, final)
            return final
        partial.unlink()
        return final
    raise BackupFailed(f"备份文件名冲突：{stamp}", f"no free backup file name for {stamp}")


def make_backup(store_path: Path, folder: Path, *, reason: str = "manual", keep: int = DEFAULT_KEEP) -> BackupRecord:
    """Write, verify and record one backup of the store at store_path into folder; rotate.

    Returns the record (ok False with problems when it did not verify). Raises BackupFailed only
    when nothing could be written (folder missing, disk full)."""
    started = time.perf_counter()
    folder = Path(folder)
    try:
        private_folder(folder)
    except OSError as error:
        raise BackupFailed(f"备份文件夹不可用：{folder}（{error.strerror}）",
                           f"backup folder not usable: {folder} ({error.strerror})") from None
    if not Path(store_path).is_file():
        raise BackupFailed(f"没有可备份的数据库：{store_path}", f"no store to back up at {store_path}")
    created_at, stamp = _stamp()
    partial = folder / f"{PREFIX}{stamp}.{os.getpid()}.partial"
    source = sqlite3.connect(str(store_path), isolation_level=None, timeout=15)
    try:
        source.execute("BEGIN")  # one read snapshot for the figures and the pages alike
        expected = snapshot(source)
        _copy(source, partial)
        source.execute("COMMIT")
    except (sqlite3.Error, OSError) as error:
        partial.unlink(missing_ok=True)
        raise BackupFailed(f"备份失败：{error}", f"backup failed: {error}") from None
    finally:
        source.close()
    make_private(partial)  # a backup holds what the store holds
    final = _place(partial, folder, stamp)
    name = final.name
    problems, _ = verify_backup_file(final, expected, incremental=True)
    record = BackupRecord(file=name, created_at=created_at, reason=reason, ok=not problems, problems=problems,
                          invoices=expected.invoices, entries=expected.entries, head_id=expected.head_id,
                          head_hash=expected.head_hash, seller_tax_id=expected.seller_tax_id,
                          size=final.stat().st_size, seconds=round(time.perf_counter() - started, 3),
                          store=_store_of(Path(store_path).parent))
    with _manifest_lock(folder):
        records = [r for r in read_manifest(folder) if r.file != name] + [record]
        _save_manifest(folder, _rotate(folder, records, keep))
    return record


def _rotate(folder: Path, records: list[BackupRecord], keep: int) -> list[BackupRecord]:
    """Keep the `keep` newest backups, and always the newest good one; delete the others' files."""
    ordered = sorted(records, key=lambda r: r.created_at, reverse=True)
    kept = ordered[:max(1, keep)]
    good = next((r for r in ordered if r.ok), None)
    if good is not None and good not in kept:
        kept.append(good)
    for record in ordered:
        if record not in kept:
            path = own_file(folder, record.file)
            if path is not None:  # a name outside the folder, or not a backup's, is never deleted
                path.unlink(missing_ok=True)
    return kept


def backup_store(data_dir: Path, *, folder: Path | None = None, reason: str = "manual",
                 keep: int | None = None) -> BackupRecord:
    """make_backup with the store's settings (folder, keep)."""

    settings = backup_settings(data_dir)
    return make_backup(Path(data_dir) / STORE_FILE, Path(folder) if folder else Path(settings["folder"]),
                       reason=reason, keep=keep if keep is not None else settings["keep"])


# --- restore ---------------------------------------------------------------------------------------

@dataclass
class RestoreResult:
    restored_from: Path
    kept_aside: list[Path]
    snapshot: Snapshot
    backup_created_at: str = ""


def find_record(path: Path) -> BackupRecord | None:
    path = Path(path)
    return next((r for r in read_manifest(path.parent) if r.file == path.name), None)


def _refuse(path: Path, zh: str, en: str, kind: type[BadBackup] = BadBackup) -> BadBackup:
    return kind(f"备份不能用于恢复：{path}：{zh}", f"the backup does not verify, refusing to restore {path}: {en}")


def _older_than_newest(data_dir: Path, backup_file: Path, record: BackupRecord | None,
                       held: Snapshot) -> BackupRecord | None:
    """The newest verified backup of the desk's folder when backup_file is older than it (None: not older)."""
    newest = newest_good(backup_folder(data_dir))
    if newest is None:
        return None
    newest_path = own_file(backup_folder(data_dir), newest.file)
    try:
        if newest_path is not None and newest_path.resolve() == backup_file.resolve():
            return None
    except OSError:
        pass
    if record is not None:
        return newest if record.created_at < newest.created_at else None
    # A file from elsewhere: older when its history is shorter than what the newest backup holds.
    return newest if (held.head_id, held.entries) < (newest.head_id, newest.entries) else None


def _hold_after_restore(restored: sqlite3.Connection, hold: UploadHold) -> None:
    """The hold, and the audit entry that records it (chained as app.store.audit.append chains), together."""
    with restored:
        last = restored.execute("SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1").fetchone()
        prev = last[0] if last else audit.GENESIS
        at = now_iso()
        detail = audit.canonical_json({"key": UPLOAD_HOLD_SETTING, "value": dict(hold)})
        restored.execute("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)",
                         (UPLOAD_HOLD_SETTING, json.dumps(hold, ensure_ascii=False)))
        restored.execute("INSERT INTO audit_entry (at, clerk, action, invoice_id, detail, prev_hash, hash) "
                         "VALUES (?, '', 'upload_held', NULL, ?, ?, ?)",
                         (at, detail, prev, audit.entry_hash(prev, at, "", "upload_held", "", detail)))


def restore_backup(data_dir: Path, backup_file: Path, *, confirm_older: bool = False) -> RestoreResult:
    """Verify the backup, move the current store aside (dated, never deleted), copy the backup in.

    Only a file the desk made is restored: its schema exactly one of the desk's versions (app.store.schema_check:
    no trigger, view or table of anyone else's), whole, its history verifying, not marked bad, and not older than
    the newest verified backup unless confirm_older. Anything else raises BadBackup (OlderBackup for an older
    one) with the reason, and the live store is not touched. Close every connection to the store first."""

    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise _refuse(backup_file, "文件不存在", "no such file")
    problem = file_problem(backup_file)
    if problem:
        raise _refuse(backup_file, f"不是完整的 SQLite 数据库（{problem}）", problem)
    schema = schema_problem(backup_file)
    if schema is not None:
        raise _refuse(backup_file, *schema)
    problems, held = verify_backup_file(backup_file)
    record = find_record(backup_file)
    if record is not None and not record.ok and not problems:
        problems = record.problems or ["marked bad when it was written"]
    if problems or held is None:
        why = "; ".join(problems)
        raise _refuse(backup_file, f"备份未通过校验：{why}", f"the backup does not verify: {why}")
    data_dir = Path(data_dir)
    newer = _older_than_newest(data_dir, backup_file, record, held)
    if newer is not None and not confirm_older:
        raise _refuse(backup_file,
                      f"它比最新的已校验备份 {newer.file}（{newer.created_at}）旧，恢复将丢失其后的记录；"
                      "确认后才能恢复（restore --confirm-older）",
                      f"it is older than the newest verified backup {newer.file} ({newer.created_at}): what was "
                      "recorded since would be lost; restore it only with an explicit confirmation "
                      "(confirm_older / restore --confirm-older)", OlderBackup)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = data_dir / STORE_FILE
    stamp = datetime.fromisoformat(now_iso()).strftime("%Y%m%d-%H%M%S")
    aside: list[Path] = []
    for suffix in ("", "-wal", "-shm"):
        current = Path(str(store) + suffix)
        if current.exists():
            # -wal/-shm keep their names relative to the main file, so the copy aside still opens whole.
            target = data_dir / f"{STORE_FILE}.before-restore-{stamp}{suffix}"
            os.replace(current, target)
            aside.append(target)
    source = sqlite3.connect(str(backup_file))
    try:
        restored = sqlite3.connect(str(store))
        try:
            source.backup(restored)
            restored.execute("PRAGMA journal_mode=WAL")
            # Uploads wait until the clerk has reconciled: see app.services.queue.upload_hold.
            _hold_after_restore(restored, UploadHold(reason=f"restored from {backup_file.name}", since=now_iso()))
        finally:
            restored.close()
    finally:
        source.close()
    if record is not None:
        _supersede_newer(backup_file.parent, record)
    return RestoreResult(backup_file, aside, held, record.created_at if record else "")


def _supersede_newer(folder: Path, restored: BackupRecord) -> None:
    """Heads of backups newer than the one restored are legitimately gone from the chain now."""
    with _manifest_lock(folder):
        records = read_manifest(folder)
        for record in records:
            if record.created_at > restored.created_at:
                record.anchor = False
        _save_manifest(folder, records)


# --- before each migration -------------------------------------------------------------------------

def before_migration(db: peewee.SqliteDatabase, version: int) -> None:
    """A verified backup before the schema changes; no migration without one."""
    store_path = Path(db.database)
    record = backup_store(store_path.parent, reason=f"before migration from schema {version}")
    if not record.ok:
        why = "; ".join(record.problems)
        raise BackupFailed(f"迁移前的备份未通过校验，未迁移：{why}",
                           f"the backup before migrating did not verify: {why}")


"""Opening the store: where it lives, how SQLite is set up, and bringing its schema up to date."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import peewee
import platformdirs

from app.base.files import make_private, private_folder
from app.store import invoice_search, migrations
from app.store.damage import check_store_file
from app.store.models import database

STORE_FILE = "fapiao-desk.sqlite3"
BUSY_TIMEOUT_SECONDS = 15
APP_NAME = "FapiaoDesk"


def default_data_dir() -> Path:
    """The user data dir (e.g. %LOCALAPPDATA%\\FapiaoDesk on Windows); FAPIAO_DESK_DATA overrides it."""
    override = os.environ.get("FAPIAO_DESK_DATA")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass
class Store:
    data_dir: Path
    db: peewee.SqliteDatabase

    @property
    def path(self) -> Path:
        return self.data_dir / STORE_FILE

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()


def make_database(path: Path) -> peewee.SqliteDatabase:
    # WAL lets the list read while an invoice is written; synchronous=FULL makes a commit
    # survive a power cut (an issued invoice must never be lost); foreign keys keep lines,
    # audit and queue rows tied to their invoice; the busy timeout lets a second app
    # instance wait for the first one's transaction instead of failing.
    return peewee.SqliteDatabase(
        str(path),
        pragmas={
            "journal_mode": "wal",
            "foreign_keys": 1,
            "synchronous": "full",
            "busy_timeout": BUSY_TIMEOUT_SECONDS * 1000,
        },
        timeout=BUSY_TIMEOUT_SECONDS,
    )


def open_store(data_dir: Path | str | None = None, *, before_migration: migrations.BeforeMigration | None = None,
               full_check: bool = False) -> Store:
    """Open (creating if need be) the store in data_dir and migrate it to the current schema.

    Raises StoreDamaged (app.store.damage) when the file is truncated, overwritten or fails its check:
    the cheap one (header, length, the edges of every b-tree; milliseconds at any size) at every open,
    PRAGMA quick_check too with full_check (seconds at a million invoices: the app runs it in the
    background once its window is up, app/ui/store_check.py).
    The desk opens it through app.services.store_access, which passes a verified backup as before_migration."""
    directory = private_folder(Path(data_dir) if data_dir is not None else default_data_dir())
    # A damaged file is never migrated or written to: StoreDamaged lets the caller offer a backup.
    check_store_file(directory / STORE_FILE, full=full_check)

    db = make_database(directory / STORE_FILE)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    store_file = directory / STORE_FILE
    make_private(store_file, Path(f"{store_file}-wal"), Path(f"{store_file}-shm"))
    try:
        migrations.migrate_to_latest(db, before_migration)
        invoice_search.catch_up()
    except BaseException:
        db.close()  # e.g. no good backup before a migration: leave nothing open
        raise
    return Store(directory, db)

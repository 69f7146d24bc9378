"""Opening the store for the desk's use cases: the command line, the app and the tests all open it here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.services.taxcodes import ensure_shipped_table
from app.store.database import Store
from app.store.database import open_store as open_database


def _before_migration(*args: Any, **kwargs: Any) -> Any:
    """The verified backup before a migration; the backup code (and the checks behind it) is loaded only when a
    migration is due, not at every open of the current schema."""
    from app.services.backup import before_migration

    return before_migration(*args, **kwargs)


def open_store(data_dir: Path | str | None = None, *, full_check: bool = False) -> Store:
    """The store in data_dir (default: the user data dir), migrated to the current schema.

    A migration runs only after a verified backup (app.services.backup.before_migration); a damaged
    file raises StoreDamaged before anything touches it, a newer schema StoreTooNew. The shipped tax
    classification table is loaded on first start and when a newer one ships (an existing store with
    the table in force reads one setting). The whole-file check (PRAGMA quick_check) runs only with
    full_check: see app.store.damage for what runs when."""
    store = open_database(data_dir, before_migration=_before_migration, full_check=full_check)
    try:
        ensure_shipped_table()
    except BaseException:
        store.close()
        raise
    return store

"""Schema versions, kept in PRAGMA user_version, and the steps between them.

Each step runs in its own transaction (SQLite's DDL is transactional), so a failed
step leaves the store at the version before it. Every step is frozen SQL: a step that
shipped must build the same tables whatever the models say today (tests/store/test_schema.py
checks that the steps together build exactly what app.store.models describes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import peewee

from app.core.errors import DeskError
from app.store import schema_steps

if TYPE_CHECKING:  # loaded when a step runs: not on every start's path
    from playhouse.migrate import SqliteMigrator

# Append new steps here; never edit one that has shipped.
STEPS: list[Callable[[peewee.SqliteDatabase, SqliteMigrator], None]] = [
    schema_steps.v1_create_tables,
    schema_steps.v2_shudian,
    schema_steps.v3_stock,
    schema_steps.v4_channels,
    schema_steps.v5_paper_forms,
    schema_steps.v6_red_letter_forms,
    schema_steps.v7_drafts,
    schema_steps.v8_search,
    schema_steps.v9_search_merges,
    schema_steps.v10_sort_indexes,
    schema_steps.v11_invoice_tally,
    schema_steps.v12_prefix_indexes,
]
LATEST = len(STEPS)


class StoreTooNew(DeskError):
    """The store was written by a newer Fapiao Desk; opening it could damage it."""


def current_version(db: peewee.SqliteDatabase) -> int:
    return db.pragma("user_version")


BeforeMigration = Callable[[peewee.SqliteDatabase, int], None]


def migrate_to_latest(db: peewee.SqliteDatabase, before_step: BeforeMigration | None = None) -> int:
    """Run every step the store lacks; before_step(db, version) runs once, before the first of them, on a
    store that has data (the services pass a verified backup: app.services.store_access). One backup of the
    store as it was covers every step: a step that fails rolls back to the version before it."""
    version = current_version(db)
    if version > LATEST:
        raise StoreTooNew(f"本地数据库由更新版本的开票台写入（架构版本 {version}，本程序为 {LATEST}），"
                          "请升级本程序后再打开",
                          f"store schema version {version} is newer than this program's ({LATEST}): "
                          "upgrade Fapiao Desk")
    if version == LATEST:
        return version
    from playhouse.migrate import SqliteMigrator

    migrator = SqliteMigrator(db)
    if 0 < version < LATEST and before_step is not None:
        before_step(db, version)
    while version < LATEST:
        with db.atomic("IMMEDIATE"):
            # Another instance may have migrated while this one waited for the lock.
            if current_version(db) != version:
                version = current_version(db)
                continue
            STEPS[version](db, migrator)
            db.pragma("user_version", version + 1)
        version += 1
    return version

"""Is a SQLite file's schema exactly one the desk made? For a file about to become the store (a restore).

The reference of each schema version is built the way every store got it: the frozen steps of
app.store.migrations run one after the other on an empty database. A file passes when its user_version
is one of those versions and its sqlite_master (tables with their columns, indexes, the desk's own
triggers) is exactly the reference's: no trigger, view or table of anyone else's, none missing, none
changed. A trigger in a restored file would run inside the desk's own transactions.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path

import peewee
from playhouse.migrate import SqliteMigrator

from app.store import migrations

# (type, name, table, sql) of every object in sqlite_master
SchemaObject = tuple[str, str, str, str]


def _objects(connection: sqlite3.Connection) -> frozenset[SchemaObject]:
    rows = connection.execute("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master").fetchall()
    return frozenset((str(t), str(n), str(tb), " ".join(str(sql).split())) for t, n, tb, sql in rows)


@cache
def reference_schema(version: int) -> frozenset[SchemaObject]:
    """sqlite_master of an empty store built by the first `version` steps."""
    db = peewee.SqliteDatabase(":memory:")
    db.connect()
    try:
        migrator = SqliteMigrator(db)
        for step in migrations.STEPS[:version]:
            with db.atomic():
                step(db, migrator)
        return _objects(db.connection())
    finally:
        db.close()


def _describe(objects: frozenset[SchemaObject] | set[SchemaObject]) -> str:
    return ", ".join(f"{kind} {name}" for kind, name, _, _ in sorted(objects, key=lambda o: (o[0], o[1]))[:5])


def schema_problem(path: Path) -> tuple[str, str] | None:
    """(Chinese, English) of why the file's schema is not one the desk made; None when it is."""
    try:
        connection = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    except sqlite3.Error as error:
        return f"无法打开（{error}）", f"cannot be opened ({error})"
    try:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        held = _objects(connection)
    except sqlite3.DatabaseError as error:
        return f"无法读出其结构（{error}）", f"its schema cannot be read ({error})"
    finally:
        connection.close()
    if not held:
        return "文件中没有任何表，不是开票台的数据库", "it holds no tables at all: not a Fapiao Desk store"
    if version > migrations.LATEST:
        return (f"架构版本 {version} 比本程序（{migrations.LATEST}）新，由更新版本写入",
                f"its schema version {version} is newer than this program's ({migrations.LATEST})")
    if version < 1:
        return (f"架构版本 {version} 不是开票台的", f"schema version {version} is not one Fapiao Desk made")
    expected = reference_schema(version)
    extra = set(held - expected)
    missing = set(expected - held)
    if not extra and not missing:
        return None
    kinds = {kind for kind, _, _, _ in extra}
    what_zh, what_en = [], []
    if extra:
        foreign = "、".join(sorted(kinds & {"trigger", "view"})) or "对象"
        what_zh.append(f"多出或被改动的{foreign}：{_describe(extra)}")
        what_en.append(f"objects the desk never made or that were changed: {_describe(extra)}")
    if missing:
        what_zh.append(f"缺少：{_describe(missing)}")
        what_en.append(f"missing: {_describe(missing)}")
    return (f"结构与开票台架构版本 {version} 不符（{'；'.join(what_zh)}）",
            f"its schema is not exactly schema version {version} of Fapiao Desk ({'; '.join(what_en)})")

"""Is the store file a whole SQLite database? Checked before migrations, so a damaged store is
never migrated or written to, and the CLI and the app both say so and offer a backup.

Two depths, because reading every page of a ten-year store takes seconds:
  - at every open (the app, every command, the tests): the file's header and length, then SQLite reads
    the schema and walks the first and the last leaf of every table and index (a few pages each,
    milliseconds at a million invoices): a file overwritten, truncated or cut off, and damage near
    the root of any b-tree, are met before anything is written;
  - the whole file (PRAGMA quick_check, which reads every page): in the app once its window is up, off
    the GUI thread (app/ui/store_check.py), on every backup (integrity_check of the copy,
    app/services/backup.py), and wherever open_store is asked for full=True.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from app.core.errors import DeskError

SQLITE_HEADER = b"SQLite format 3\x00"


class StoreDamaged(DeskError):
    """The store file is not a whole SQLite database (truncated, overwritten, failing its check)."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"本地数据库已损坏：{path}：{reason}。"
                         "请恢复最近的正常备份（python -m app backups；python -m app restore FILE）",
                         f"the store is damaged: {path}: {reason}; restore the newest good backup")
        self.path = Path(path)
        self.reason = reason


def file_problem(path: Path) -> str | None:
    """What is wrong with the file's header and length, without opening it with SQLite (None: fine)."""
    size = path.stat().st_size
    if size == 0:
        # open_store writes the schema at once, so an existing empty file was emptied, not new.
        return "the file is empty (0 bytes)"
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_HEADER):
        return "not a SQLite database (its header is missing or overwritten)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The in-header size is valid only when the change counter matches "version-valid-for"; and
    # while a WAL holds frames a checkpoint cut short may have written page 1 before the pages
    # after it (SQLite finishes it from the WAL), so only a store without a WAL is judged by it.
    wal = Path(str(path) + "-wal")
    wal_empty = not wal.exists() or wal.stat().st_size == 0
    if wal_empty and header[24:28] == header[92:96] and pages and size < pages * page_size:
        return f"the file is truncated ({size} bytes; its header says {pages * page_size})"
    return None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _edge_queries(connection: sqlite3.Connection) -> list[str]:
    """For every table and index: a query reading its first leaf and one reading its last (root and
    interior pages on the way), so SQLite itself judges each page it reads."""
    queries: list[str] = []
    objects = connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                 "WHERE type IN ('table', 'index') AND rootpage > 0 ORDER BY rootpage").fetchall()
    for kind, name, table, sql in objects:
        if kind == "table":
            if sql and "WITHOUT ROWID" in sql.upper():
                queries.append(f"SELECT 1 FROM {_quoted(name)} LIMIT 1")
                continue
            queries += [f"SELECT rowid FROM {_quoted(name)} ORDER BY rowid LIMIT 1",
                        f"SELECT rowid FROM {_quoted(name)} ORDER BY rowid DESC LIMIT 1"]
            continue
        columns = [row[2] for row in connection.execute(f"PRAGMA index_info({_quoted(name)})")]
        if not columns or columns[0] is None or (sql and " WHERE " in sql.upper()):
            continue  # an index on an expression, or partial: the whole-file check reads it
        first = _quoted(columns[0])
        source = f"{_quoted(table)} INDEXED BY {_quoted(name)}"
        queries += [f"SELECT {first} FROM {source} ORDER BY {first} LIMIT 1",
                    f"SELECT {first} FROM {source} ORDER BY {first} DESC LIMIT 1"]
    return queries


def structure_problem(path: Path) -> str | None:
    """The schema readable, and the first and last leaf of every table and index whole (None: fine).

    Reads a few pages a b-tree, so it costs milliseconds whatever the size of the store."""
    try:
        connection = sqlite3.connect(str(path), timeout=15)
    except sqlite3.Error as error:
        return f"cannot be opened ({error})"
    try:
        for query in _edge_queries(connection):
            try:
                connection.execute(query).fetchall()
            except sqlite3.OperationalError as error:
                if "malformed" in str(error) or "corrupt" in str(error):
                    return f"SQLite cannot read it ({error})"
                # e.g. "no query solution" for an index SQLite will not walk this way: quick_check reads it
    except sqlite3.DatabaseError as error:
        return f"SQLite cannot read it ({error})"
    finally:
        connection.close()
    return None


class CheckInterrupted(Exception):
    """The whole-file check was stopped (Connection.interrupt) before it finished: nothing was judged."""


def sqlite_problem(path: Path, full: bool = False,
                   connected: Callable[[sqlite3.Connection], object] | None = None) -> str | None:
    """PRAGMA quick_check (or integrity_check with full) on a separate connection; None when ok.

    Reads every page of the file: seconds at a million invoices (see the module's docstring for when).
    connected gets the connection first, so another thread can interrupt() it (CheckInterrupted)."""
    try:
        connection = sqlite3.connect(str(path), timeout=15, check_same_thread=False)
    except sqlite3.Error as error:
        return f"cannot be opened ({error})"
    try:
        if connected is not None:
            connected(connection)  # may raise CheckInterrupted
        rows = connection.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check").fetchall()
    except sqlite3.OperationalError as error:
        if str(error) == "interrupted":
            raise CheckInterrupted() from None
        return f"SQLite cannot read it ({error})"
    except sqlite3.DatabaseError as error:
        return f"SQLite cannot read it ({error})"
    finally:
        connection.close()
    messages = [row[0] for row in rows]
    if messages != ["ok"]:
        return "integrity check failed: " + "; ".join(messages[:5])
    return None


def check_store_file(path: Path, full: bool = False) -> None:
    """Raise StoreDamaged when the file at path (if it exists) is not a whole SQLite database.

    The cheap check (header, length, the edges of every b-tree); with full, PRAGMA quick_check too."""
    path = Path(path)
    if not path.exists():
        return
    problem = file_problem(path) or structure_problem(path) or (sqlite_problem(path) if full else None)
    if problem:
        # A full, read-only or forbidden disk makes a whole file unreadable to SQLite: say that, not "damaged".
        from app.store.storage_errors import probe

        raise probe(path) or StoreDamaged(path, problem)


def check_whole_file(path: Path, connected: Callable[[sqlite3.Connection], object] | None = None) -> str | None:
    """PRAGMA quick_check of the store at path (for the app's check after start): the problem, or None.

    Raises CheckInterrupted when connected's connection was interrupted."""
    path = Path(path)
    if not path.exists():
        return None
    return file_problem(path) or sqlite_problem(path, connected=connected)

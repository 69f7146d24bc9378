"""Is the store file a whole SQLite database? Checked before migrations, so a damaged store is
never migrated or written to, and the CLI and the app both say so and offer a backup."""

from __future__ import annotations

import sqlite3
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


def sqlite_problem(path: Path, full: bool = False) -> str | None:
    """PRAGMA quick_check (or integrity_check with full) on a separate connection; None when ok."""
    try:
        connection = sqlite3.connect(str(path), timeout=15)
    except sqlite3.Error as error:
        return f"cannot be opened ({error})"
    try:
        rows = connection.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as error:
        return f"SQLite cannot read it ({error})"
    finally:
        connection.close()
    messages = [row[0] for row in rows]
    if messages != ["ok"]:
        return "integrity check failed: " + "; ".join(messages[:5])
    return None


def check_store_file(path: Path, full: bool = False) -> None:
    """Raise StoreDamaged when the file at path (if it exists) is not a whole SQLite database."""
    path = Path(path)
    if not path.exists():
        return
    problem = file_problem(path) or sqlite_problem(path, full=full)
    if problem:
        raise StoreDamaged(path, problem)

"""Failures of the disk under the store, named for what they are: full, read-only, no permission, I/O.

SQLite reports a full disk as SQLITE_FULL when a write finds no room, but as "disk I/O error" or "unable to
open database file" when it cannot even create its journal; the file itself is then whole. Before the desk
calls a store damaged (and sends the clerk to restore a backup), it asks the disk: is there room, may this
user write here? Only a file that fails its checks on a disk that can be written is damaged.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

import peewee

from app.core.errors import DeskError

# Less free space than this and SQLite cannot count on making its journal (a few pages, the WAL index).
LOW_SPACE_BYTES = 1024 * 1024


class StorageFailure(DeskError):
    """The disk, not the store: nothing was written half-way (every write is one transaction)."""

    kind = "io"


def _failure(kind: str, where: Path, zh: str, en: str) -> StorageFailure:
    failure = StorageFailure(f"{zh}（{where}）。本次操作未保存任何内容，数据库完好。",
                             f"{en} ({where}). Nothing of this was saved; the store is intact.")
    failure.kind = kind
    return failure


def disk_full(where: Path) -> StorageFailure:
    return _failure("full", where, "磁盘空间已满，请清理磁盘（或把数据目录移到有空间的磁盘）后重试",
                    "the disk is full: free some space (or move the data folder to a disk with room), then try again")


def read_only(where: Path) -> StorageFailure:
    return _failure("read_only", where, "磁盘或数据目录为只读，无法写入，请检查U盘写保护或磁盘挂载方式",
                    "the disk or the data folder is read-only: check the drive's write protection or how it is "
                    "mounted")


def no_permission(where: Path) -> StorageFailure:
    return _failure("permission", where, "没有写入数据目录的权限，请以本人账户运行，或检查该目录的权限",
                    "no permission to write the data folder: run the desk as its own user, or check the folder's "
                    "permissions")


def io_error(where: Path, detail: str) -> StorageFailure:
    return _failure("io", where, f"磁盘读写出错（{detail}），请检查磁盘或U盘是否已拔出、是否损坏",
                    f"the disk failed to read or write ({detail}): check that the drive is attached and sound")


def _folder(path: Path) -> Path:
    path = Path(path)
    return path if path.is_dir() else path.parent


def probe(path: Path) -> StorageFailure | None:
    """What is wrong with the disk at path (a file or folder), or None when it has room and may be written."""
    folder = _folder(path)
    try:
        if shutil.disk_usage(folder).free < LOW_SPACE_BYTES:
            return disk_full(folder)
    except OSError as error:
        return io_error(folder, error.strerror or str(error))
    if not os.access(folder, os.W_OK):
        try:
            read_only_fs = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
        except (OSError, AttributeError):  # statvfs: not on Windows
            read_only_fs = False
        return read_only(folder) if read_only_fs else no_permission(folder)
    store = Path(path)
    if store.is_file() and not os.access(store, os.W_OK):
        return no_permission(store)
    return None


_SQLITE_FULL = ("database or disk is full",)
_SQLITE_READ_ONLY = ("attempt to write a readonly database", "readonly database")
_SQLITE_IO = ("disk i/o error", "unable to open database file")


def classify(error: BaseException, path: Path) -> StorageFailure | None:
    """The StorageFailure an exception from writing the store at path stands for, or None if it is not one.

    The whole chain is asked: after SQLITE_FULL SQLite has rolled back by itself, so peewee's own rollback fails
    ("no transaction is active") with the full disk as its context."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _classify_one(current, path)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _classify_one(error: BaseException, path: Path) -> StorageFailure | None:
    if isinstance(error, StorageFailure):
        return error
    if isinstance(error, OSError) and not isinstance(error, (ConnectionError, TimeoutError)):
        code = error.errno
        if code == errno.ENOSPC or code == getattr(errno, "EDQUOT", -1):
            return disk_full(_folder(path))
        if code == errno.EROFS:
            return read_only(_folder(path))
        if code in (errno.EACCES, errno.EPERM):
            return no_permission(Path(error.filename) if error.filename else _folder(path))
        if code == errno.EIO:
            return io_error(_folder(path), error.strerror or "EIO")
        return None
    if isinstance(error, (sqlite3.OperationalError, peewee.OperationalError, sqlite3.DatabaseError,
                          peewee.DatabaseError)):
        text = str(error).lower()
        if any(marker in text for marker in _SQLITE_FULL):
            return disk_full(_folder(path))
        if any(marker in text for marker in _SQLITE_READ_ONLY):
            return probe(path) or read_only(_folder(path))
        if any(marker in text for marker in _SQLITE_IO):
            return probe(path) or io_error(_folder(path), str(error))
    return None

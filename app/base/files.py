"""Files the desk hands to a clerk (PDFs, XML, exports): written whole or not at all."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

T = TypeVar("T")

# A file the clerk saves to share (a PDF, an XML, an export): readable as any file they save, not private.
SHARED_MODE = 0o644


def write_atomically(path: Path, write: Callable[[BinaryIO], object], *, prefix: str = ".fapiao-",
                     mode: int | None = SHARED_MODE) -> None:
    """write(file) into a temporary file beside path, on disk (fsync) before it is renamed over path;
    on any failure the temporary file goes and path is left as it was. The file gets `mode` (a file it
    replaces keeps its own), never mkstemp's private 0600 unless mode=None."""
    path = Path(path)
    handle, temp_name = tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=path.parent or ".")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            try:
                kept = path.stat().st_mode & 0o777
            except OSError:
                kept = mode
            os.chmod(temp_name, kept)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def private_folder(path: Path) -> Path:
    """Make the folder (and its parents) if need be; one this call made is this user's only (0700). An existing
    one (a USB stick, a share the clerk chose) keeps its own permissions."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # a file system without Unix modes
            os.chmod(path, 0o700)
    return path


def make_private(*paths: Path) -> None:
    """The files (those that exist) readable and writable by this user only (0600), whatever the umask: the
    store, its journal, its backups, the log hold taxpayers' data."""
    for path in paths:
        with contextlib.suppress(OSError):  # missing, or a file system without Unix modes
            os.chmod(path, 0o600)


def write_beside(target: Path, write: Callable[[Path], T], *, prefix: str = ".fapiao-") -> T:
    """write(temporary path) for a file a library writes by name (openpyxl, csv), into a temporary file beside
    target, then renamed over it with SHARED_MODE; on any failure the temporary goes and target is as it was.
    Raises FileNotFoundError when target's folder is missing, OSError when it cannot be written
    (write_failure says either for the clerk)."""
    target = Path(target)
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(target.parent))
    handle, temp_name = tempfile.mkstemp(prefix=prefix, suffix=target.suffix, dir=target.parent)
    os.close(handle)
    temporary = Path(temp_name)
    try:
        os.chmod(temporary, SHARED_MODE)  # a file for the clerk and others, not mkstemp's private one
        result = write(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return result


def write_failure(error: OSError, target: Path) -> tuple[str, str]:
    """What to tell the clerk of an OSError from write_beside: (Chinese, English)."""
    target = Path(target)
    if isinstance(error, FileNotFoundError) and not target.parent.is_dir():
        return f"文件夹 {target.parent} 不存在", f"the folder {target.parent} does not exist"
    reason = error.strerror or type(error).__name__
    return f"无法写入 {target}（{reason}）", f"cannot write {target} ({reason})"

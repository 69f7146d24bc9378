"""Files the desk hands to a clerk (PDFs, XML, exports): written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, write: Callable[[BinaryIO], object], *, prefix: str = ".fapiao-") -> None:
    """write(file) into a temporary file beside path, on disk (fsync) before it is renamed over path;
    on any failure the temporary file goes and path is left as it was."""
    path = Path(path)
    handle, temp_name = tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=path.parent or ".")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise

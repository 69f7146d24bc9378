"""The platform token, kept out of the store, its backups and the log.

It goes to the operating system's credential store (keyring: Windows Credential Manager, macOS Keychain, the
Secret Service on a Linux desktop), under the account of this data folder. Where there is none (a bare Linux
PC, a service account), it goes to `platform-token` in the data folder, readable by this user only: beside the
store, never in it, so a backup on a USB stick never carries it. `where_token_is()` says which, for the clerk.

FAPIAO_DESK_KEYRING=file chooses the file even where a credential store exists (tests, a portable desk).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from app.store.models import database

SERVICE = "fapiao-desk"
TOKEN_FILE = "platform-token"


def _data_dir() -> Path:
    return Path(str(database.database)).resolve().parent


def _account() -> str:
    return f"platform-token:{_data_dir()}"


def _keyring() -> Any | None:
    """The keyring module when a real credential store is there, else None."""
    if os.environ.get("FAPIAO_DESK_KEYRING", "").lower() in ("file", "off", "0", "no"):
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken backend configuration: the file will do
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


def token_file() -> Path:
    return _data_dir() / TOKEN_FILE


def where_token_is() -> str:
    """系统凭据库 / the file, for the settings dialog and `sync` to say."""
    if _keyring() is not None:
        return "系统凭据库 (the system's credential store)"
    return f"{token_file()}（仅本账户可读 / readable by this user only）"


def read_token() -> str:
    ring = _keyring()
    if ring is not None:
        with contextlib.suppress(Exception):
            value = ring.get_password(SERVICE, _account())
            if value:
                return str(value)
    try:
        return token_file().read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def write_token(token: str) -> str:
    """Keep token (empty: forget it); returns where it went. Never logged, never written to the store."""
    ring = _keyring()
    if ring is not None:
        try:
            if token:
                ring.set_password(SERVICE, _account(), token)
            else:
                with contextlib.suppress(Exception):
                    ring.delete_password(SERVICE, _account())
            with contextlib.suppress(FileNotFoundError):
                token_file().unlink()  # one place only
            return "keyring"
        except Exception:  # locked or refused: fall back to the file, and say so
            pass
    path = token_file()
    if not token:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return "file"
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, token.encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.chmod(partial, 0o600)  # whatever the umask
    os.replace(partial, path)
    return "file"

"""The platform token never sits in the store, its backups or the log: it goes to the credential store, or
(none here: FAPIAO_DESK_KEYRING=file) to a file readable by this user only; a token an older release kept in
the store moves out at its first use. On the command line it is read from standard input or a file, never
taken from the arguments, where the process list shows it."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from app.services import secrets
from app.services.backup import make_backup
from app.services.settings import PLATFORM_TOKEN, get_setting, platform_token, set_platform
from app.store.models import Setting
from tests.helpers.cli import ROOT

TOKEN = "secret-token-4711-abcdef"


def _holds(path: Path, text: str) -> bool:
    return text.encode() in path.read_bytes()


def test_the_token_is_kept_in_a_private_file_never_in_the_store_backups_or_log(store, seller, data_dir):
    set_platform("http://127.0.0.1:9", TOKEN)
    assert platform_token() == TOKEN
    held = secrets.token_file()
    assert held.parent == data_dir and stat.S_IMODE(held.stat().st_mode) == 0o600
    assert not get_setting(PLATFORM_TOKEN)
    store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert not _holds(data_dir / "fapiao-desk.sqlite3", TOKEN)
    folder = data_dir / "backups"
    backup = make_backup(data_dir / "fapiao-desk.sqlite3", folder)
    assert backup.ok and not _holds(folder / backup.file, TOKEN)
    for log in data_dir.glob("*.log*"):
        assert not _holds(log, TOKEN)


def test_a_token_an_older_release_kept_in_the_store_moves_out(store, seller, data_dir):
    Setting.insert(key=PLATFORM_TOKEN, value=f'"{TOKEN}"').on_conflict_replace().execute()  # as release 0.1 did
    assert platform_token() == TOKEN
    assert get_setting(PLATFORM_TOKEN) == "" and secrets.read_token() == TOKEN
    with sqlite3.connect(data_dir / "fapiao-desk.sqlite3") as c:
        assert c.execute("SELECT value FROM setting WHERE key = ?", (PLATFORM_TOKEN,)).fetchone() == ('""',)


def test_the_command_line_reads_the_token_from_stdin_or_a_file_never_from_argv(seller, data_dir, store, tmp_path):
    store.close()
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "app", "--data-dir", str(data_dir), "sync", "--once", "--url",
               "http://127.0.0.1:9", "--timeout", "1", "--save"]
    given = subprocess.run([*command, "--token", TOKEN], capture_output=True, text=True, env=env, cwd=ROOT,
                           timeout=120)
    assert given.returncode == 2 and "--token -" in given.stderr and TOKEN not in given.stderr, given.stderr
    piped = subprocess.run([*command, "--token", "-"], input=TOKEN + "\n", capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=120)
    assert piped.returncode in (0, 3), piped.stderr  # saved; the platform is not there: invoices still wait
    assert (data_dir / secrets.TOKEN_FILE).read_text().strip() == TOKEN
    other = tmp_path / "token.txt"
    other.write_text("another-token-0815\n")
    filed = subprocess.run([*command, "--token-file", str(other)], capture_output=True, text=True, env=env,
                           cwd=ROOT, timeout=120)
    assert filed.returncode in (0, 3), filed.stderr
    assert (data_dir / secrets.TOKEN_FILE).read_text().strip() == "another-token-0815"

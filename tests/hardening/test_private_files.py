"""The data folder, the store and its journal, the backups and the log hold taxpayers' data: this user's only,
whatever the umask (the token file too: tests/hardening/test_token_kept_out.py). What the clerk saves to share
(a PDF, an export) stays readable as any file they save (tests/ui/test_rough_edges.py)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.bodies import SELLER_TAX_ID, invoice_body
from tests.helpers.cli import ROOT


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(sys.platform.startswith("win"), reason="Unix permission bits")
def test_a_new_desk_keeps_its_files_to_its_user(tmp_path: Path):
    import json

    data_dir = tmp_path / "new-desk"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    previous = os.umask(0o022)  # the usual default: files 0644, folders 0755
    try:
        def run(*args: str, stdin: str | None = None) -> None:
            done = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), *args], input=stdin,
                                  capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
            assert done.returncode == 0, done.stderr

        run("seller", "set", "--name", "北京某某科技有限公司", "--tax-id", SELLER_TAX_ID, "--drawer", "张三")
        run("issue", "-", stdin=json.dumps(invoice_body(), ensure_ascii=False))
        run("backup")
    finally:
        os.umask(previous)
    assert _mode(data_dir) == 0o700
    store = data_dir / "fapiao-desk.sqlite3"
    assert _mode(store) == 0o600
    for journal in (Path(f"{store}-wal"), Path(f"{store}-shm")):
        if journal.exists():
            assert _mode(journal) == 0o600, journal
    folder = data_dir / "backups"
    assert _mode(folder) == 0o700
    backups = list(folder.glob("fapiao-desk-*.sqlite3"))
    assert backups and all(_mode(b) == 0o600 for b in backups)
    assert _mode(data_dir / "fapiao-desk.log") == 0o600

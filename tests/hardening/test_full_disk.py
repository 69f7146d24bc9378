"""A full or read-only disk is named for what it is, with what to do, never as a damaged store and never with a
traceback; filling up in the middle of `issue` stores nothing. The disk is a small tmpfs mounted by the test
(skipped, with the reason, where this machine does not let a test mount one)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.bodies import SELLER_TAX_ID, full_body
from tests.helpers.cli import ROOT

FULL = "磁盘空间已满"


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), *args], capture_output=True,
                          text=True, encoding="utf-8", cwd=ROOT, timeout=300,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})


@pytest.fixture
def small_disk() -> Iterator[Path]:
    if not sys.platform.startswith("linux") or shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("needs Linux and root to mount a small tmpfs")
    point = Path(tempfile.mkdtemp(prefix="fapiao-small-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(point)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        point.rmdir()
        pytest.skip(f"this machine does not let a test mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)
        point.rmdir()


def _desk(disk: Path) -> Path:
    data_dir = disk / "desk"
    made = _run(data_dir, "seller", "set", "--name", "北京某某科技有限公司", "--tax-id", SELLER_TAX_ID,
                "--drawer", "张三")
    assert made.returncode == 0, made.stderr
    assert _run(data_dir, "limits", "--max-count", "5000", "--max-amount", "90000000").returncode == 0
    return data_dir


def _fill(disk: Path, leave: int) -> Path:
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as out:
        out.truncate(0)
        os.posix_fallocate(out.fileno(), 0, max(free - leave, 0))
    return filler


def _clean(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "内部错误" not in result.stderr, result.stderr
    assert "损坏" not in result.stderr and "damaged" not in result.stderr, result.stderr


def test_a_full_disk_is_named_not_called_a_damaged_store(small_disk: Path):
    data_dir = _desk(small_disk)
    body = small_disk / "body.json"
    body.write_text(json.dumps(full_body(), ensure_ascii=False), encoding="utf-8")
    filler = _fill(small_disk, 0)
    for args in (("list",), ("issue", str(body)), ("audit", "verify")):
        result = _run(data_dir, *args)
        assert result.returncode == 1 and FULL in result.stderr and "disk is full" in result.stderr, (args, result)
        _clean(result)
    filler.unlink()
    listed = _run(data_dir, "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == [], listed.stderr


def test_filling_up_during_issue_stores_nothing_and_says_so(small_disk: Path, tmp_path: Path):
    data_dir = _desk(small_disk)
    bodies = tmp_path / "many.json"  # on the big disk: only the store fills up
    bodies.write_text(json.dumps([full_body(remarks=f"批量{i}") for i in range(1500)], ensure_ascii=False),
                      encoding="utf-8")
    filler = _fill(small_disk, 1_150_000)  # room to open the store, not for 1,500 invoices
    result = _run(data_dir, "issue", str(bodies))
    assert result.returncode == 1 and FULL in result.stderr, result
    _clean(result)
    filler.unlink()
    assert json.loads(_run(data_dir, "list", "--json").stdout) == []  # all or nothing: nothing
    verified = _run(data_dir, "audit", "verify", "--full")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    one = tmp_path / "one.json"
    one.write_text(json.dumps(full_body(), ensure_ascii=False), encoding="utf-8")
    assert _run(data_dir, "issue", str(one)).returncode == 0


def test_a_read_only_disk_is_named(small_disk: Path):
    data_dir = _desk(small_disk)
    body = small_disk / "body.json"
    body.write_text(json.dumps(full_body(), ensure_ascii=False), encoding="utf-8")
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, text=True)
    if remounted.returncode != 0:
        pytest.skip(f"cannot remount read-only: {remounted.stderr.strip()}")
    try:
        result = _run(data_dir, "issue", str(body))
        assert result.returncode == 1 and "只读" in result.stderr and "read-only" in result.stderr, result
        _clean(result)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=False)

"""One way to fail: every DeskError caught once with its exit code and both languages; anything else
logged in full with one line for the clerk; the log in the data dir; --version."""

from __future__ import annotations

import argparse
import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from app import __version__
from app.base import logs
from app.cli import run_command
from app.core.errors import EXIT_BAD_INPUT, BadInput, DeskError
from app.store.database import STORE_FILE
from tests.helpers.cli import run_cli


@pytest.fixture(autouse=True)
def fresh_logging():
    """Each test configures the log itself; leave the process as it was."""
    yield
    logs.configure(None)


def namespace(data_dir: Path, handler, lang: str = "zh") -> argparse.Namespace:
    return argparse.Namespace(handler=handler, command="test", lang=lang, data_dir=data_dir)


def test_version(tmp_path):
    result = run_cli(tmp_path, "--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_a_desk_error_is_caught_once_with_its_exit_code_in_both_languages(tmp_path, capsys):
    def refuse(args):
        raise BadInput("number（发票号码）：没有这张发票", "number: no such invoice")

    assert run_command(namespace(tmp_path, refuse)) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == "number（发票号码）：没有这张发票 (number: no such invoice)"
    assert run_command(namespace(tmp_path, refuse, lang="en")) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == "number: no such invoice (number（发票号码）：没有这张发票)"


@pytest.mark.logged_errors_expected
def test_an_unexpected_error_is_logged_in_full_and_the_clerk_gets_one_line(tmp_path, capsys):
    def broken(args: argparse.Namespace) -> int:
        known: dict[str, int] = {}
        return known["missing"]

    assert run_command(namespace(tmp_path, broken)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "KeyError" in err and str(tmp_path / logs.LOG_FILE) in err
    logged = (tmp_path / logs.LOG_FILE).read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in logged and "KeyError: 'missing'" in logged


def test_a_store_from_a_newer_version_is_refused_without_a_traceback(tmp_path):
    assert run_cli(tmp_path, "list").returncode == 0  # creates the store
    conn = sqlite3.connect(tmp_path / STORE_FILE)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    result = run_cli(tmp_path, "list")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "更新版本" in result.stderr and "newer than this program" in result.stderr
    assert (tmp_path / logs.LOG_FILE).exists()


@pytest.mark.logged_errors_expected
def test_an_exception_in_a_thread_reaches_the_log_and_the_listeners(tmp_path):
    heard: list[tuple[str, Path | None]] = []

    def listener(summary: str, where: Path | None) -> None:
        heard.append((summary, where))

    logs.configure(tmp_path)
    logs.add_exception_listener(listener)
    try:
        thread = threading.Thread(target=lambda: 1 / 0, name="upload-worker")
        thread.start()
        thread.join()
    finally:
        logs.remove_exception_listener(listener)
    assert heard == [("ZeroDivisionError: division by zero", tmp_path / logs.LOG_FILE)]
    logged = (tmp_path / logs.LOG_FILE).read_text(encoding="utf-8")
    assert "uncaught exception in upload-worker" in logged and "ZeroDivisionError" in logged


def test_an_unwritable_log_folder_is_not_fatal(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert logs.configure(blocker / "logs") is None and logs.log_path() is None
    assert "cannot write the log" in capsys.readouterr().err
    logging.getLogger("app").warning("still fine")


def test_desk_error_describes_itself_without_english_too():
    assert DeskError("只有中文").describe("en") == "只有中文"

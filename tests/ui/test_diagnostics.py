"""When something goes wrong: Qt's messages in the log, a dialog naming the log file for an uncaught
exception (from any thread), a store the desk cannot open said in a box, and 帮助 → 关于."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer, qCritical, qWarning
from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.base import logs
from app.store.database import STORE_FILE
from app.ui.application import build_main_window, run_desktop
from app.ui.diagnostics import AboutDialog, ErrorReporter, install_qt_message_handler, restore_qt_message_handler


@pytest.mark.logged_errors_expected
def test_qt_messages_go_to_the_log(qtbot, caplog):
    previous = install_qt_message_handler()
    try:
        with caplog.at_level(logging.INFO, logger="qt"):
            qWarning("a widget warned")
            qCritical("a widget failed")
    finally:
        restore_qt_message_handler(previous)
    records = [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name == "qt"]
    assert records == [("qt", logging.WARNING, "a widget warned"), ("qt", logging.ERROR, "a widget failed")]


@pytest.mark.logged_errors_expected
def test_an_exception_in_a_worker_thread_shows_a_dialog_naming_the_log(qtbot, tmp_path):
    log_file = logs.configure(tmp_path / "logs")  # the hooks are put back by tests/ui/conftest.py
    assert log_file is not None
    reporter = ErrorReporter().install()
    try:
        def fail() -> None:
            raise RuntimeError("the worker broke")

        worker = threading.Thread(target=fail, name="test-worker")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=5000)
        dialog = reporter.dialog
        assert dialog is not None and dialog.objectName() == "error_report"
        assert not dialog.isModal()  # the clerk can go on working
        assert str(log_file) in dialog.informativeText() and "the worker broke" in dialog.informativeText()
        assert "出错了" in dialog.windowTitle()
        assert reporter.reports == ["RuntimeError: the worker broke"]
        logged = log_file.read_text(encoding="utf-8")
        assert "uncaught exception in test-worker" in logged and "RuntimeError: the worker broke" in logged
        dialog.grab().save(str(tmp_path / "error_report.png"))
        dialog.close()
    finally:
        reporter.uninstall()


@pytest.mark.logged_errors_expected
def test_a_store_from_a_newer_desk_is_said_in_a_box_and_exits_1(qtbot, data_dir, capfd):
    from app.services.store_access import open_store

    open_store(data_dir).close()
    with sqlite3.connect(str(data_dir / STORE_FILE)) as connection:
        connection.execute("PRAGMA user_version = 999")
    connection.close()
    seen: dict[str, str] = {}

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box.objectName() != "desk_error":
            QTimer.singleShot(20, answer)
            return
        seen["title"], seen["text"], seen["details"] = box.windowTitle(), box.text(), box.informativeText()
        box.grab().save(str(data_dir.parent / "desk_error.png"))
        box.accept()

    QTimer.singleShot(20, answer)
    assert run_desktop(data_dir) == 1
    assert seen["title"] == "无法启动开票台"
    assert seen["text"].startswith("本地数据库由更新版本的开票台写入") and "999" in seen["text"]
    assert "newer than this program" in seen["text"]  # English beside the Chinese
    assert str(data_dir / logs.LOG_FILE) in seen["details"]
    assert "Traceback" not in capfd.readouterr().err
    assert "cannot open the store" in (data_dir / logs.LOG_FILE).read_text(encoding="utf-8")


def test_about_dialog_shows_the_version_data_folder_and_log(qtbot, store, tmp_path):
    log_file = logs.configure(tmp_path / "logs")
    window = build_main_window(store)
    qtbot.addWidget(window)
    assert window.about_action in window.help_menu.actions() and window.about_action.text() == "关于"
    window.about_action.trigger()
    dialog = window.about_dialog
    assert isinstance(dialog, AboutDialog) and dialog.isVisible() and not dialog.isModal()
    assert dialog.windowTitle() == "关于"
    assert dialog.version_label.text() == __version__
    assert dialog.data_dir_label.text() == str(Path(store.data_dir))
    assert dialog.log_file_label.text() == str(log_file)
    assert "发票离线开票台" in "".join(label.text() for label in dialog.findChildren(type(dialog.version_label)))
    dialog.grab().save(str(tmp_path / "about.png"))
    assert window.show_about() is dialog  # one at a time
    dialog.close()
    assert window.about_dialog is None


def test_about_dialog_in_english_without_a_log(qtbot, store):
    from app.ui.i18n import set_language

    logs.configure(None)
    set_language("en")
    dialog = AboutDialog(Path(store.data_dir))
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "About" and dialog.log_file_label.text() == "(no log file)"

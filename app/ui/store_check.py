"""The whole-file damage check (PRAGMA quick_check), run once the main window is up, off the GUI thread.

Opening the store checks only what is cheap (app.store.damage: the header, the length, the edges of
every b-tree), so the window shows in the same time at a thousand invoices or a million. The check
that reads every page then runs in a BackgroundTask; the status bar says so while it runs, and says
the outcome. Damage found: a warning (non-modal, the list stays usable to look things up) that
offers the restore from the newest good backup.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from app.ui.i18n import tr
from app.ui.tasks import BackgroundTask, Progress, TaskCancelled, Work

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

RESULT_SHOWN_MS = 10000


class _Interruptible:
    """The check's connection, so the GUI thread can stop a check still running when the app closes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self.stopped = False

    def connected(self, connection: sqlite3.Connection) -> None:
        from app.store.damage import CheckInterrupted

        with self._lock:
            if self.stopped:  # interrupt() is a no-op before a statement runs
                raise CheckInterrupted()
            self._connection = connection

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            if self._connection is not None:
                # The check may have ended and closed its connection meanwhile: nothing to stop then.
                with contextlib.suppress(sqlite3.ProgrammingError):
                    self._connection.interrupt()


def _check_work(path: Path, handle: _Interruptible) -> Work[str | None]:
    def work(progress: Progress) -> str | None:
        from app.store.damage import CheckInterrupted, check_whole_file

        try:
            return check_whole_file(path, connected=handle.connected)
        except CheckInterrupted:
            raise TaskCancelled() from None

    return work


class StoreFileCheck(BackgroundTask[str | None]):
    """PRAGMA quick_check of the window's store in a thread; the problem (or None) in value."""

    def __init__(self, window: MainWindow) -> None:
        self._handle = _Interruptible()
        super().__init__(_check_work(Path(window.store.path), self._handle), window)
        self._window = window
        self.warning: QMessageBox | None = None
        self.on_success(self._checked)
        self.on_failure(self._check_failed)

    def start(self) -> StoreFileCheck:
        self._window.statusBar().showMessage(tr("正在后台检查数据库文件…（可照常使用）",
                                                "Checking the store file in the background… (the desk is usable)"))
        super().start()
        return self

    def stop(self, ms: int = 5000) -> bool:
        """Interrupt a check still running (the app is closing) and wait for its thread."""
        self._handle.stop()
        self.cancel()
        return self.wait(ms)

    def _checked(self, problem: str | None) -> None:
        if problem is None:
            self._window.statusBar().showMessage(tr("数据库文件检查完毕：完好", "Store file checked: whole"),
                                                 RESULT_SHOWN_MS)
            return
        self._window.statusBar().showMessage(tr("数据库文件已损坏", "The store file is damaged"))
        box = QMessageBox(QMessageBox.Icon.Critical, tr("数据库文件已损坏", "The store file is damaged"),
                          tr("本机数据库文件检查未通过：{problem}\n\n请勿继续开票，从最近的正常备份恢复。",
                             "The store file failed its check: {problem}\n\n"
                             "Do not issue invoices; restore the newest good backup.", problem=problem),
                          QMessageBox.StandardButton.Close, self._window)
        box.setObjectName("store_damage_warning")
        restore = box.addButton(tr("从备份恢复…", "Restore from a backup…"), QMessageBox.ButtonRole.AcceptRole)
        restore.clicked.connect(lambda: self._window.backup_actions.show_restore())
        self.warning = box
        box.open()  # not exec(): the clerk can still look at the list

    def _check_failed(self, error: str) -> None:
        text = tr("数据库文件检查未能完成：{error}", "The store file check did not finish: {error}", error=error)
        self._window.statusBar().showMessage(text, RESULT_SHOWN_MS)


def start_store_check(window: MainWindow) -> StoreFileCheck:
    """Check the whole store file in the background; the status bar tells while it runs."""
    check = StoreFileCheck(window)
    window.store_check = check
    return check.start()

"""Backups in the app: 文件 → 立即备份 / 从备份恢复… / 备份设置…, the schedule (every N hours,
checked by a timer; the backup itself runs in a BackgroundTask, never on the GUI thread) and a
last backup when the app quits. The chain check at start is app/ui/startup_checks.py."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.core.clock import now
from app.core.errors import ValidationFailed
from app.ui.i18n import tr
from app.ui.tasks import BackgroundTask, Progress

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the backup service (and the checks behind it) loads when a backup is looked at or made
    from app.services import backup
    from app.ui.main_window import MainWindow
    from app.ui.reconcile_view import ReconcileView
    from app.ui.restore_dialog import RestoreDialog

TICK_MS = 60_000  # how often the schedule is looked at; a backup is due every backup.every_hours


class BackupSettingsDialog(QDialog):
    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backup_settings")
        self.setWindowTitle(tr("备份设置", "Backup settings"))
        self.data_dir = data_dir
        from app.services import backup

        settings = backup.backup_settings(data_dir)
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.folder = QLineEdit(settings["folder"], self)
        self.folder.setObjectName("backup_folder")
        self.folder.setMinimumWidth(380)
        browse = QPushButton(tr("浏览…", "Browse…"), self)
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow(tr("备份文件夹（U 盘或网络共享）", "Folder (USB stick or network share)"), row)
        self.keep = QSpinBox(self)
        self.keep.setRange(1, 1000)
        self.keep.setValue(settings["keep"])
        form.addRow(tr("保留最新的份数", "Keep the newest"), self.keep)
        self.every_hours = QDoubleSpinBox(self)
        self.every_hours.setRange(0.25, 720)
        self.every_hours.setValue(settings["every_hours"])
        form.addRow(tr("每隔（小时）自动备份", "Back up every (hours)"), self.every_hours)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, tr("选择备份文件夹", "Choose the backup folder"),
                                                  self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def save(self) -> bool:
        from app.services import backup

        try:
            backup.set_backup_settings(self.data_dir, folder=self.folder.text().strip(), keep=self.keep.value(),
                                       every_hours=self.every_hours.value())
        except ValidationFailed as failed:
            self.error = QMessageBox(QMessageBox.Icon.Warning, tr("备份设置", "Backup settings"), failed.describe(),
                                     QMessageBox.StandardButton.Ok, self)
            self.error.open()
            return False
        self.accept()
        return True


class BackupActions:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.task: BackgroundTask[backup.BackupRecord | None] | None = None
        self.last: backup.BackupRecord | None = None
        self.dialogs: list[QWidget] = []
        self.backup_action = QAction(tr("立即备份", "Back up now"), window)
        self.backup_action.triggered.connect(lambda: self.backup_now())
        self.restore_action = QAction(tr("从备份恢复…", "Restore from a backup…"), window)
        self.restore_action.triggered.connect(lambda: self.show_restore())
        self.settings_action = QAction(tr("备份设置…", "Backup settings…"), window)
        self.settings_action.triggered.connect(self.edit_settings)
        menu = window.file_menu
        ours = (self.backup_action, self.restore_action, self.settings_action)
        first = menu.actions()[0] if menu.actions() else None
        if first is None:
            menu.addActions(list(ours))
            menu.addSeparator()
        else:
            for action in ours:
                menu.insertAction(first, action)
            menu.insertSeparator(first)
        self.timer = QTimer(window)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.backup_if_due)
        self.timer.start()

    @property
    def data_dir(self) -> Path:
        return Path(self.window.store.data_dir)

    # --- backing up --------------------------------------------------------------------------------

    def backup_now(self, reason: str = "manual",
                   only_if_due: bool = False) -> BackgroundTask[backup.BackupRecord | None] | None:
        """Write and verify a backup in a background thread; the result shows in the status bar.

        With only_if_due the thread first looks whether the newest good backup is older than the
        interval (the folder may be a slow network share: not looked at on the GUI thread)."""
        if self.task is not None:
            return None
        data_dir = self.data_dir

        def work(progress: Progress) -> backup.BackupRecord | None:
            from app.services import backup

            if only_if_due and not backup_due(data_dir):
                return None
            return backup.backup_store(data_dir, reason=reason)

        task = BackgroundTask(work, self.window)
        task.on_success(self._backed_up)
        task.on_failure(self._backup_failed)
        task.on_finished(self._task_ended)
        self.task = task
        if not only_if_due:
            self.window.statusBar().showMessage(tr("正在备份…", "Backing up…"))
        task.start()
        return task

    def _task_ended(self) -> None:
        self.task = None

    def _backed_up(self, record: backup.BackupRecord | None) -> None:
        if record is None:
            return  # not due yet
        self.last = record
        if record.ok:
            self.window.statusBar().showMessage(
                tr("备份完成并已校验：{f}", "Backup written and verified: {f}", f=record.file), 15000)
        else:
            self._backup_failed(tr("备份未通过校验（已标记为损坏）：", "The backup failed verification (marked bad): ")
                                + "; ".join(record.problems))

    def _backup_failed(self, error: str) -> None:
        self.window.statusBar().showMessage(tr("备份失败", "Backup failed"), 15000)
        box = QMessageBox(QMessageBox.Icon.Warning, tr("备份失败", "Backup failed"), error,
                          QMessageBox.StandardButton.Ok, self.window)
        box.setObjectName("backup_failed")
        self.dialogs.append(box)
        box.open()

    def backup_if_due(self) -> BackgroundTask[backup.BackupRecord | None] | None:
        """The timer's look: a task that backs up when the interval has passed (None: one is running)."""
        return self.backup_now(reason="scheduled", only_if_due=True)

    def backup_at_close(self) -> str | None:
        """A last backup as the app quits (run_desktop calls it, after the window has gone): written in its
        thread, the process waits. Skipped, saying why (the log, and the terminal if any), when the newest good
        backup holds everything or is less than an hour old. Returns that reason, or None when it backed up."""
        if self.task is not None:
            self.task.wait(120_000)
            self.task = None  # the event loop has ended: its callbacks will not run to clear it
        from app.services import backup

        reason = backup.close_backup_skipped(self.data_dir)
        if reason is not None:
            log.info("backup at close skipped: %s", reason)
            print(reason, file=sys.stderr)
            return reason
        task = self.backup_now(reason="at close")
        if task is not None:
            task.wait(120_000)
        return None

    # --- restoring ---------------------------------------------------------------------------------

    def show_restore(self) -> RestoreDialog:
        from app.ui.restore_dialog import RestoreDialog  # opened by the clerk: not loaded at start

        dialog = RestoreDialog(self.data_dir, self.window)
        dialog.before_restore = self._close_store
        dialog.finished.connect(lambda result: self._after_restore(dialog))
        self.dialogs.append(dialog)
        dialog.open()
        return dialog

    def _close_store(self) -> None:
        """Everything that holds the store lets go before its file is replaced."""
        self.timer.stop()
        if self.task is not None:
            self.task.wait(120_000)
        runner = getattr(getattr(self.window, "sync_actions", None), "runner", None)
        thread = getattr(runner, "_worker_thread", None)
        self._runner_was_running = thread is not None and thread.is_alive()
        if runner is not None:
            runner.stop()
        self.window.store.close()
        self._closed = True

    def _after_restore(self, dialog: RestoreDialog) -> None:
        if not getattr(self, "_closed", False):
            return
        from app.services.store_access import open_store

        self._closed = False
        self.window.store = open_store(self.data_dir)
        self.window.refresh()
        runner = getattr(getattr(self.window, "sync_actions", None), "runner", None)
        if runner is not None and self._runner_was_running:
            runner.start()
        self.timer.start()
        if dialog.restored is not None:
            reconcile_after_restore(self.window, dialog.restored)

    def edit_settings(self) -> BackupSettingsDialog:
        dialog = BackupSettingsDialog(self.data_dir, self.window)
        self.dialogs.append(dialog)
        dialog.open()
        return dialog


def backup_due(data_dir: Path) -> bool:
    """No good backup yet, or the newest is older than backup.every_hours."""
    from app.services import backup

    settings = backup.backup_settings(data_dir)
    newest = backup.newest_good(Path(settings["folder"]))
    if newest is None:
        return True
    return now() >= datetime.fromisoformat(newest.created_at) + timedelta(hours=settings["every_hours"])


def reconcile_after_restore(window: MainWindow, result: backup.RestoreResult) -> ReconcileView | None:
    """What came after the backup is recovered from the platform: the reconciliation view
    (app/ui/reconcile_view.py) opened on the period from the backup's day to today, comparing."""
    actions = getattr(window, "trust_actions", None)
    if actions is None or not hasattr(actions, "show_reconcile"):
        return None
    from PySide6.QtCore import QDate

    from app.ui.restore_dialog import since_date

    view = actions.show_reconcile()
    since = since_date(result)
    if since and hasattr(view, "date_from"):
        view.date_from.setDate(QDate.fromString(since, "yyyy-MM-dd"))
    view.show()
    # Compare at once, off the GUI thread: if the platform is still down the view says so
    # and the clerk runs it again later with its button.
    view.start()
    return view


def install(window: MainWindow) -> BackupActions:
    actions = BackupActions(window)
    window.backup_actions = actions
    return actions

"""Restore from a backup: the backups in the backup folder with their verification result;
only a good one can be restored. Shown from 文件 → 从备份恢复…, and at start when the store
is damaged (then it names the damage and selects the newest good backup)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services import backup
from app.ui.i18n import tr
from app.ui.tasks import BackgroundTask

TIME, STATUS, INVOICES, REASON, FILE = range(5)


class RestoreDialog(QDialog):
    def __init__(self, data_dir: Path, parent: QWidget | None = None, *, damage: str | None = None,
                 folder: Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("restore_dialog")
        self.setWindowTitle(tr("从备份恢复", "Restore from a backup"))
        self.resize(820, 420)
        self.data_dir = Path(data_dir)
        self.folder = Path(folder) if folder else backup.backup_folder(self.data_dir)
        self.before_restore: Callable[[], None] | None = None  # close the store's connections
        self.restored: backup.RestoreResult | None = None  # set once a restore succeeded
        self.task: BackgroundTask[backup.RestoreResult] | None = None
        self.restoring: Path = Path()  # the file of the restore under way (asked again for an older backup)
        self.records: list[backup.BackupRecord] = []

        layout = QVBoxLayout(self)
        if damage:
            warning = QLabel(tr("本机数据库已损坏，无法打开：{reason}\n请从最新的完好备份恢复；"
                                "备份之后开具的发票随后与平台对账找回。损坏的数据库会另存一份，不会删除。",
                                "The store is damaged and cannot be opened: {reason}\nRestore the newest good "
                                "backup; invoices issued after it are then recovered by reconciling with the "
                                "platform. The damaged file is kept aside, never deleted.", reason=damage), self)
            warning.setObjectName("damage_message")
            warning.setWordWrap(True)
            warning.setStyleSheet("color: #b00020; font-weight: bold")
            layout.addWidget(warning)
        folder_row = QHBoxLayout()
        self.folder_label = QLabel(self)
        folder_row.addWidget(self.folder_label, 1)
        choose = QPushButton(tr("选择备份文件夹…", "Choose folder…"), self)
        choose.clicked.connect(self._choose_folder)
        folder_row.addWidget(choose)
        layout.addLayout(folder_row)

        self.table = QTableWidget(0, 5, self)
        self.table.setObjectName("backup_table")
        self.table.setHorizontalHeaderLabels([tr("备份时间", "Time"), tr("校验", "Verification"),
                                              tr("发票数", "Invoices"), tr("原因", "Reason"), tr("文件", "File")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(FILE, QHeaderView.ResizeMode.Stretch)
        for column, width in ((TIME, 150), (STATUS, 200), (INVOICES, 70), (REASON, 150)):
            self.table.setColumnWidth(column, width)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 1)
        self.message = QLabel(self)
        self.message.setObjectName("restore_message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

        buttons = QHBoxLayout()
        other = QPushButton(tr("恢复其它备份文件…", "Restore another file…"), self)
        other.setObjectName("restore_file_button")
        other.clicked.connect(self._choose_file)
        buttons.addWidget(other)
        buttons.addStretch(1)
        self.restore_button = QPushButton(tr("恢复所选备份", "Restore the selected backup"), self)
        self.restore_button.setObjectName("restore_button")
        self.restore_button.clicked.connect(lambda: self.restore_selected())
        self.close_button = QPushButton(tr("退出" if damage else "关闭", "Quit" if damage else "Close"), self)
        self.close_button.clicked.connect(self.reject)
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.load()

    # --- the list --------------------------------------------------------------------------------

    def load(self) -> None:
        self.folder_label.setText(tr("备份文件夹：{f}", "Backup folder: {f}", f=str(self.folder)))
        self.records = [r for r in backup.read_manifest(self.folder) if (self.folder / r.file).exists()]
        self.table.setRowCount(len(self.records))
        for row, record in enumerate(self.records):
            status = tr("良好", "good") if record.ok else tr("损坏：", "BAD: ") + "; ".join(record.problems)[:200]
            cells = [record.created_at[:19].replace("T", " "), status, str(record.invoices), record.reason, record.file]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == STATUS:
                    item.setForeground(QColor("#1b5e20" if record.ok else "#b00020"))
                    item.setToolTip("\n".join(record.problems))
                self.table.setItem(row, column, item)
        good = next((i for i, r in enumerate(self.records) if r.ok), None)
        if good is not None:
            self.table.selectRow(good)
        if not self.records:
            self.message.setText(tr("此文件夹中没有备份。", "No backups in this folder."))
        self._selection_changed()

    def selected_record(self) -> backup.BackupRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.records[rows[0].row()] if rows else None

    def _selection_changed(self) -> None:
        record = self.selected_record()
        self.restore_button.setEnabled(record is not None and record.ok and self.task is None)
        if record is not None and not record.ok:
            self.message.setText(tr("此备份未通过校验，不能用于恢复。",
                                    "This backup failed verification and cannot be restored."))

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, tr("选择备份文件夹", "Choose the backup folder"),
                                                  str(self.folder))
        if chosen:
            self.folder = Path(chosen)
            self.load()

    # --- restoring -------------------------------------------------------------------------------

    def _choose_file(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, tr("选择备份文件", "Choose a backup file"), str(self.folder),
                                                "SQLite (*.sqlite3 *.db);;* (*)")
        if chosen:
            self.restore_file(Path(chosen))

    def restore_file(self, path: Path, confirm: bool = True) -> BackgroundTask[backup.RestoreResult] | None:
        """A file not in the manifest (e.g. brought from another PC): verified first like any other."""
        if confirm and QMessageBox.question(
                self, tr("从备份恢复", "Restore from a backup"),
                tr("校验并用 {f} 替换本机数据库？当前数据库会另存一份，不会删除。",
                   "Verify {f} and replace the store with it? The current store is kept aside.",
                   f=path.name)) != QMessageBox.StandardButton.Yes:
            return None
        return self._start(path)

    def restore_selected(self, confirm: bool = True) -> BackgroundTask[backup.RestoreResult] | None:
        record = self.selected_record()
        if record is None or not record.ok:
            return None
        if confirm and QMessageBox.question(
                self, tr("从备份恢复", "Restore from a backup"),
                tr("用 {time} 的备份替换本机数据库？当前数据库会另存一份，不会删除。",
                   "Replace the store with the backup of {time}? The current store is kept aside.",
                   time=record.created_at[:19].replace("T", " "))) != QMessageBox.StandardButton.Yes:
            return None
        return self._start(self.folder / record.file)

    def _start(self, path: Path, confirm_older: bool = False) -> BackgroundTask[backup.RestoreResult]:
        if self.before_restore is not None:
            self.before_restore()
        data_dir = self.data_dir
        self.restoring = path
        self.restore_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.message.setText(tr("正在校验并恢复…", "Verifying and restoring…"))
        task = BackgroundTask(lambda progress: backup.restore_backup(data_dir, path, confirm_older=confirm_older),
                              self)
        task.on_success(self._restored)
        task.on_failure(self._failed)
        self.task = task
        task.start()
        return task

    def confirm_older(self, why: str) -> bool:
        """A backup older than the newest verified one: what was recorded since would be lost. Asked once."""
        buttons = QMessageBox.StandardButton
        return QMessageBox.warning(
            self, tr("恢复较旧的备份？", "Restore an older backup?"),
            tr("{why}\n\n仍要恢复这个较旧的备份吗？之后开具的发票可用对账从平台找回。",
               "{why}\n\nRestore this older backup all the same? Invoices issued since can be recovered from the "
               "platform by reconciliation.", why=why),
            buttons.Yes | buttons.Cancel, buttons.Cancel) == buttons.Yes

    def _restored(self, result: backup.RestoreResult) -> None:
        self.restored = result
        self.task = None
        self.close_button.setEnabled(True)
        self.message.setText(tr("已恢复：{n} 张发票。", "Restored: {n} invoices.", n=result.snapshot.invoices))
        self.accept()

    def _failed(self, error: str) -> None:
        older = self.task is not None and isinstance(self.task.exception, backup.OlderBackup)
        self.task = None
        self.close_button.setEnabled(True)
        if older and self.confirm_older(error):
            self._start(self.restoring, confirm_older=True)
            return
        self.message.setText(error)
        self.message.setStyleSheet("color: #b00020")
        self._selection_changed()


def since_date(result: backup.RestoreResult) -> str:
    """The day the backup was taken: reconciliation from it recovers what came after."""
    return (result.backup_created_at or "")[:10]

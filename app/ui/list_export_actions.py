"""Excel in and out from the main window: 发票 → 批量开票… (app/ui/batch_issue_dialog.py), 保存批量开票模板…,
and 导出发票列表… (the list as the window shows it: its search, filters and order, the status and the
dates changeable in the dialog, to .xlsx or .csv; app.services.list_export). The export runs in a
BackgroundTask with a cancel button, never on the GUI thread."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.invoice_query import InvoiceQuery
from app.core.status import INVOICE_STATUSES, status_label
from app.services.seller import get_seller
from app.ui.i18n import language, tr
from app.ui.tasks import BackgroundTask, Progress, TaskCancelled

if TYPE_CHECKING:
    # openpyxl behind these: loaded when the clerk first exports or imports, not at the desk's start
    from app.services import batch_workbook
    from app.services.list_export import ExportResult, ListFilter
    from app.ui.batch_issue_dialog import BatchIssueDialog
    from app.ui.main_window import MainWindow


def _clerk() -> str:
    seller = get_seller()
    return seller.drawer if seller is not None else ""


def _day(edit: QDateEdit) -> date:
    value = edit.date()
    return date(value.year(), value.month(), value.day())


class ListExportDialog(QDialog):
    """导出发票列表: what the list shows (its search, filters and order), the status and dates preset from
    it and changeable here, lines or not, then the file."""

    def __init__(self, parent: QWidget | None = None, status: str | None = None,
                 query: InvoiceQuery | None = None) -> None:
        super().__init__(parent)
        self.base_query = query or InvoiceQuery(status=status)
        self.setObjectName("list_export_dialog")
        self.setWindowTitle(tr("导出发票列表", "Export the invoice list"))
        self.task: BackgroundTask[Any] | None = None
        self.exported: ExportResult | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.status = QComboBox(self)
        self.status.setObjectName("export_status")
        self.status.addItem(tr("全部"), None)
        for code in INVOICE_STATUSES:
            self.status.addItem(status_label(code, language()), code)
        self.status.setCurrentIndex(max(self.status.findData(self.base_query.status), 0))
        form.addRow(tr("状态"), self.status)
        today = QDate.currentDate()
        self.use_from = QCheckBox(tr("开票日期从", "Issued from"), self)
        self.use_from.setObjectName("use_from")
        self.date_from = QDateEdit(today.addMonths(-1), self)
        self.date_from.setObjectName("date_from")
        self.use_to = QCheckBox(tr("至", "to"), self)
        self.use_to.setObjectName("use_to")
        self.date_to = QDateEdit(today, self)
        self.date_to.setObjectName("date_to")
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        dates = QHBoxLayout()
        for widget in (self.use_from, self.date_from, self.use_to, self.date_to):
            dates.addWidget(widget)
        dates.addStretch(1)
        form.addRow(tr("日期", "Dates"), dates)
        # The list's dates preset the dialog's; its search words and other filters are kept as they are.
        for box, edit, day in ((self.use_from, self.date_from, self.base_query.date_from),
                               (self.use_to, self.date_to, self.base_query.date_to)):
            if day is not None:
                box.setChecked(True)
                edit.setDate(QDate(day.year, day.month, day.day))
        if self.base_query.words or not replace(self.base_query, status=None, date_from=None,
                                                date_to=None).plain:
            words = " ".join(word for _, word in self.base_query.words)
            kept = QLabel(tr("按列表当前的搜索和筛选导出{words}", "Exports what the list's search and filters "
                             "show{words}", words=f"：{words}" if words else ""), self)
            kept.setObjectName("export_kept_query")
            kept.setWordWrap(True)
            form.addRow("", kept)
        self.lines = QCheckBox(tr("包含发票明细（Excel 第二个工作表）",
                                  "With the invoice lines (a second Excel sheet)"), self)
        self.lines.setObjectName("with_lines")
        form.addRow("", self.lines)
        layout.addLayout(form)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("export_progress")
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.message = QLabel("", self)
        self.message.setObjectName("export_message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.export_button = QPushButton(tr("导出…", "Export…"), self)
        self.export_button.setObjectName("export_button")
        self.export_button.clicked.connect(lambda: self.export())
        self.cancel_button = QPushButton(tr("取消"), self)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

    def chosen_filter(self) -> ListFilter:
        """The list's query with the status and dates chosen here."""
        return replace(self.base_query, status=self.status.currentData(),
                       date_from=_day(self.date_from) if self.use_from.isChecked() else None,
                       date_to=_day(self.date_to) if self.use_to.isChecked() else None)

    def export(self, path: Path | None = None) -> BackgroundTask[Any] | None:
        if self.task is not None:
            return None
        if path is None:
            name, _ = QFileDialog.getSaveFileName(self, tr("导出发票列表", "Export the invoice list"), "发票列表.xlsx",
                                                  "Excel (*.xlsx);;CSV (*.csv)")
            if not name:
                return None
            path = Path(name)
        target, chosen, lines = path, self.chosen_filter(), self.lines.isChecked()
        from app.services.list_export import ExportCancelled, export_list

        def work(progress: Progress) -> ExportResult:
            try:
                return export_list(target, chosen, lines=lines, progress=progress)
            except ExportCancelled:
                raise TaskCancelled() from None

        task: BackgroundTask[Any] = BackgroundTask(work, self)
        self.export_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.message.setText(tr("正在导出到 {name}…", "Exporting to {name}…", name=target.name))
        task.on_progress(self._progressed)
        task.on_success(self._exported)
        task.on_failure(lambda error: self.message.setText(tr("未导出：{error}", "Not exported: {error}", error=error)))
        task.on_cancel(lambda: self.message.setText(tr("已取消导出，没有写入文件",
                                                       "Export cancelled: no file written")))
        task.on_finished(self._ended)
        self.task = task
        return task.start()

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, total))

    def _exported(self, result: ExportResult) -> None:
        self.exported = result
        text = tr("已导出 {n} 张发票到 {path}", "Exported {n} invoices to {path}", n=f"{result.invoices:,}",
                  path=str(result.path))
        if result.lines:
            text += tr("（{lines} 行明细）", " ({lines} lines)", lines=f"{result.lines:,}")
        self.message.setText(text)

    def _ended(self) -> None:
        self.task = None
        self.export_button.setEnabled(True)
        self.progress.setVisible(False)

    def _cancel_or_close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        else:
            self.close()


class ExcelActions:
    """The menu entries and the windows they open (one of each at a time)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.batch_dialog: BatchIssueDialog | None = None
        self.export_dialog: ListExportDialog | None = None
        self.template_task: BackgroundTask[Any] | None = None
        self.batch_action = QAction(tr("批量开票…", "Batch issue…"), window)
        self.batch_action.setObjectName("batch_issue_action")
        self.batch_action.triggered.connect(lambda: self.open_batch())
        self.template_action = QAction(tr("保存批量开票模板…", "Save the batch template…"), window)
        self.template_action.setObjectName("batch_template_action")
        self.template_action.triggered.connect(lambda: self.save_template())
        self.export_action = QAction(tr("导出发票列表…", "Export the invoice list…"), window)
        self.export_action.setObjectName("export_list_action")
        self.export_action.triggered.connect(lambda: self.open_export())
        menu = window.invoice_menu
        menu.addSeparator()
        for action in (self.batch_action, self.template_action, self.export_action):
            menu.addAction(action)

    def _show(self, dialog: QWidget) -> None:
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def open_batch(self) -> BatchIssueDialog:
        from app.ui.batch_issue_dialog import BatchIssueDialog

        if self.batch_dialog is None:
            dialog = BatchIssueDialog(self.window, clerk=_clerk(), on_issued=self._issued)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.destroyed.connect(lambda _=None: setattr(self, "batch_dialog", None))
            self.batch_dialog = dialog
        self._show(self.batch_dialog)
        return self.batch_dialog

    def _issued(self, issued: list[batch_workbook.BatchIssued]) -> None:
        self.window.refresh()
        if issued:
            self.window.select_number(issued[-1].number)
        self.window.statusBar().showMessage(tr("批量开具 {n} 张发票", "{n} invoices issued from the file",
                                               n=len(issued)), 10000)
        sync = getattr(self.window, "sync_actions", None)
        if sync is not None:
            sync.invoice_issued()

    def open_export(self) -> ListExportDialog:
        if self.export_dialog is None:
            dialog = ListExportDialog(self.window, query=self.window.list_model.query)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.destroyed.connect(lambda _=None: setattr(self, "export_dialog", None))
            self.export_dialog = dialog
        else:
            dialog = self.export_dialog
            dialog.status.setCurrentIndex(max(dialog.status.findData(self.window.list_model.status), 0))
        self._show(self.export_dialog)
        return self.export_dialog

    def save_template(self, path: Path | None = None) -> BackgroundTask[Any] | None:
        if self.template_task is not None:
            return None
        from app.services import batch_workbook
        from app.ui.batch_issue_dialog import ask_template_path

        path = path or ask_template_path(self.window)
        if path is None:
            return None
        target = path
        task: BackgroundTask[Any] = BackgroundTask(lambda progress: batch_workbook.save_template(target), self.window)
        bar = self.window.statusBar()
        task.on_success(lambda written: bar.showMessage(tr("模板已保存到 {path}", "Template saved to {path}",
                                                           path=str(written)), 10000))
        task.on_failure(lambda error: bar.showMessage(tr("模板未保存：{error}", "Template not saved: {error}",
                                                         error=error), 15000))
        task.on_finished(lambda: setattr(self, "template_task", None))
        self.template_task = task
        return task.start()


def install(window: MainWindow) -> ExcelActions:
    actions = ExcelActions(window)
    window.excel_actions = actions  # type: ignore[attr-defined]
    return actions

"""The outage log: each outage, its errors, notes and invoices; add a note; export the fault report.

The report is written in a background thread (reportlab parses the font on first use), with
app/ui/tasks.BackgroundTask, which also closes that thread's store connection.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ValidationFailed, stored_message
from app.core.money import format_money
from app.core.status import status_label
from app.reports.fault_report import write_fault_report
from app.services import outages
from app.store import queries
from app.ui.i18n import language, tr
from app.ui.tasks import BackgroundTask


def _when(text: str | None) -> str:
    return text[:19].replace("T", " ") if text else tr("进行中", "ongoing")


class OutageLogView(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("停机记录", "Outage log"))
        self.resize(960, 600)
        layout = QVBoxLayout(self)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.table = QTableWidget(0, 6, self)
        self.table.setObjectName("outage_table")
        self.table.setHorizontalHeaderLabels([tr("编号", "No."), tr("开始", "Started"), tr("恢复", "Ended"),
                                              tr("持续", "Duration"), tr("期间发票", "Invoices"), tr("错误", "Errors")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 50), (1, 150), (2, 150), (3, 80), (4, 80)):
            self.table.setColumnWidth(column, width)
        self.table.verticalHeader().hide()
        splitter.addWidget(self.table)
        self.detail = QTextBrowser(self)
        self.detail.setObjectName("outage_detail")
        splitter.addWidget(self.detail)
        layout.addWidget(splitter)
        notes = QHBoxLayout()
        self.note = QLineEdit(self)
        self.note.setObjectName("outage_note")
        self.note.setPlaceholderText(tr("添加备注：已采取的措施、联系了谁…",
                                        "Add a note: what was tried, who was called…"))
        self.add_note_button = QPushButton(tr("添加备注", "Add note"), self)
        self.add_note_button.clicked.connect(self.add_note)
        notes.addWidget(self.note)
        notes.addWidget(self.add_note_button)
        layout.addLayout(notes)
        actions = QHBoxLayout()
        self.message = QLabel(self)
        self.message.setObjectName("outage_message")
        actions.addWidget(self.message, 1)
        self.pdf_button = QPushButton(tr("导出故障报告 PDF", "Export fault report (PDF)"), self)
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        self.text_button = QPushButton(tr("导出文本", "Export text"), self)
        self.text_button.clicked.connect(lambda: self.export("txt"))
        self.refresh_button = QPushButton(tr("刷新"), self)
        self.refresh_button.clicked.connect(self.refresh)
        for button in (self.pdf_button, self.text_button, self.refresh_button):
            actions.addWidget(button)
        layout.addLayout(actions)
        self.table.itemSelectionChanged.connect(self.show_selected)
        self.tasks: list[BackgroundTask[Path]] = []
        self.outages: list[queries.OutageRecord] = []
        self.refresh()

    def refresh(self) -> None:
        selected = self.selected_id()
        self.outages = queries.list_outages()
        self.table.setRowCount(len(self.outages))
        for r, o in enumerate(self.outages):
            errors = tr("；", "; ").join(f"{stored_message(e.message, language())} ×{e.count}" for e in o.errors)
            for c, text in enumerate((str(o.id), _when(o.started_at), _when(o.ended_at), o.duration(),
                                      str(len(o.invoices)), errors)):
                self.table.setItem(r, c, QTableWidgetItem(text))
        if self.outages:
            ids = [o.id for o in self.outages]
            self.table.selectRow(ids.index(selected) if selected in ids else 0)
        self.show_selected()

    def selected_id(self) -> int | None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.outages):
            return None
        return self.outages[row].id

    def show_selected(self) -> None:
        outage_id = self.selected_id()
        enabled = outage_id is not None
        for widget in (self.pdf_button, self.text_button, self.add_note_button, self.note):
            widget.setEnabled(enabled)
        if outage_id is None:
            self.detail.setHtml(escape(tr("没有停机记录。", "No outages recorded.")))
            return
        o = next(o for o in self.outages if o.id == outage_id)
        tried = tr("自动检测失败 {n} 次，上传失败 {m} 次", "failed checks {n}, failed uploads {m}",
                   n=o.failed_checks, m=o.upload_attempts)
        parts = [f"<h3>{escape(tr('停机', 'Outage'))} {o.id}：{escape(_when(o.started_at))} → "
                 f"{escape(_when(o.ended_at))}（{o.duration()}）</h3>",
                 f"<p>{escape(tried)}</p>",
                 f"<b>{escape(tr('错误', 'Errors'))}</b><ul>"]
        parts += [f"<li>{escape(stored_message(e.message, language()))} ×{e.count}（{escape(_when(e.first_seen))} – "
                  f"{escape(_when(e.last_seen))}）</li>" for e in o.errors]
        parts.append(f"</ul><b>{escape(tr('备注', 'Notes'))}</b><ul>")
        parts += [f"<li>{escape(_when(n.at))} {escape(n.clerk)}：{escape(n.text)}</li>" for n in o.notes]
        parts.append(f"</ul><b>{escape(tr('期间开具的发票', 'Invoices issued meanwhile'))}</b><ul>")
        parts += [f"<li>{escape(i.number)} {escape(_when(i.issued_at))} {escape(i.buyer_name)} "
                  f"¥{format_money(i.total_with_tax)} {escape(status_label(i.status, language()))}</li>"
                  for i in o.invoices]
        parts.append("</ul>")
        self.detail.setHtml("".join(parts))

    def add_note(self) -> bool:
        outage_id = self.selected_id()
        if outage_id is None:
            return False
        try:
            outages.add_note(outage_id, self.note.text())
        except ValidationFailed as failed:
            self.message.setText(failed.describe(language()))
            return False
        self.note.clear()
        self.message.setText(tr("备注已添加", "Note added"))
        self.refresh()
        return True

    def export(self, kind: str, path: Path | None = None) -> BackgroundTask[Path] | None:
        outage_id = self.selected_id()
        if outage_id is None:
            return None
        if path is None:
            name, _ = QFileDialog.getSaveFileName(self, tr("导出故障报告", "Export fault report"),
                                                  f"fault-report-{outage_id}.{kind}",
                                                  "PDF (*.pdf)" if kind == "pdf" else "Text (*.txt)")
            if not name:
                return None
            path = Path(name)
        target = path
        lang = language()  # the report in the clerk's language, the same as the view
        task = BackgroundTask(lambda progress: write_fault_report(outages.fault_report(outage_id), target, lang),
                              self)
        task.on_success(lambda written: self._exported(str(written), ""))
        task.on_failure(lambda error: self._exported(str(target), error))
        task.on_finished(lambda: self.tasks.remove(task) if task in self.tasks else None)
        self.tasks.append(task)
        self.message.setText(tr("正在导出…", "Exporting…"))
        task.start()
        return task

    def _exported(self, path: str, error: str) -> None:
        self.message.setText(tr("导出失败：{error}", "Export failed: {error}", error=error) if error
                             else tr("已导出 {path}", "Saved {path}", path=path))

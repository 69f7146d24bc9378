"""The reconciliation view: a period, the platform's list against the store side by side, and the fixes.

The platform's side is its protocol v2 records (GET /v2/invoices); a direct-channel invoice is shown
under its official number, a pre-issue record under its provisional one until the platform issues it.
Downloading, the fixes (requeue, import) and the report files run in BackgroundTasks
(app/ui/tasks.py), off the GUI thread; they call app.services.reconcile, which holds every rule.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import clock
from app.core.errors import stored_message
from app.platform.client import PlatformClient
from app.reports import reconcile_report
from app.services import reconcile as rec
from app.ui.i18n import language, tr
from app.ui.tasks import BackgroundTask, Progress

COLUMNS = [("类别", "Kind"), ("号码", "Number"), ("本地状态", "Here: status"), ("本地价税合计", "Here: total"),
           ("本地购买方", "Here: buyer"), ("平台号码", "Platform: number"),
           ("平台价税合计", "Platform: total"), ("平台购买方", "Platform: buyer"), ("说明", "Detail")]
KIND_COLORS = {rec.MISSING_ON_PLATFORM: "#fff3e0", rec.MISSING_LOCALLY: "#e3f2fd", rec.MISMATCH: "#ffebee",
               rec.UNRECORDED: "#f1f8e9", rec.DUPLICATE: "#fce4ec"}


def _default_client() -> PlatformClient:
    from app.services.settings import make_client

    return make_client()


class ReconcileView(QDialog):
    changed = Signal()  # invoices were requeued or imported

    def __init__(self, parent: QWidget | None = None,
                 client_factory: Callable[[], PlatformClient] | None = None) -> None:
        super().__init__(parent)
        self.client_factory = client_factory or _default_client
        self.report: rec.ReconcileReport | None = None
        self.import_result: rec.ImportResult | None = None
        self.setWindowTitle(tr("与平台对账", "Reconcile with the platform"))
        self.resize(1200, 640)
        layout = QVBoxLayout(self)
        period = QHBoxLayout()
        today = clock.today()
        self.date_from = QDateEdit(QDate(today.year, today.month, 1), self)
        self.date_from.setObjectName("date_from")
        self.date_to = QDateEdit(QDate(today.year, today.month, today.day), self)
        self.date_to.setObjectName("date_to")
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.run_button = QPushButton(tr("下载平台清单并对账", "Download and compare"), self)
        self.run_button.setObjectName("run_reconcile")
        self.run_button.clicked.connect(self.start)
        period.addWidget(QLabel(tr("期间", "Period")))
        period.addWidget(self.date_from)
        period.addWidget(QLabel("—"))
        period.addWidget(self.date_to)
        period.addWidget(self.run_button)
        period.addStretch(1)
        layout.addLayout(period)
        self.summary = QLabel(tr("选择期间后开始对账。", "Choose a period and compare."), self)
        self.summary.setObjectName("reconcile_summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("reconcile_table")
        self.table.setHorizontalHeaderLabels([tr(zh, en) for zh, en in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        for column, width in ((0, 130), (1, 100), (5, 175), (4, 140), (7, 140)):
            self.table.setColumnWidth(column, width)
        layout.addWidget(self.table)
        actions = QHBoxLayout()
        self.requeue_button = QPushButton(tr("重新上传本地有、平台无的发票", "Re-queue those missing on the platform"),
                                          self)
        self.requeue_button.clicked.connect(self.requeue)
        self.import_button = QPushButton(tr("导入平台有、本地无的发票", "Import those missing here"), self)
        self.import_button.clicked.connect(self.import_missing)
        self.pdf_button = QPushButton(tr("保存报告 PDF", "Save report (PDF)"), self)
        self.pdf_button.clicked.connect(lambda: self.save("pdf"))
        self.csv_button = QPushButton(tr("保存报告 CSV", "Save report (CSV)"), self)
        self.csv_button.clicked.connect(lambda: self.save("csv"))
        for button in (self.requeue_button, self.import_button, self.pdf_button, self.csv_button):
            button.setEnabled(False)
            actions.addWidget(button)
        actions.addStretch(1)
        layout.addLayout(actions)
        self.message = QLabel(self)
        self.message.setObjectName("reconcile_message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.tasks: list[BackgroundTask[Any]] = []  # kept alive while they run

    def period(self) -> tuple[str, str]:
        return (self.date_from.date().toString("yyyy-MM-dd"), self.date_to.date().toString("yyyy-MM-dd"))

    def start(self) -> BackgroundTask[rec.ReconcileReport]:
        """Download and compare in a background thread (BackgroundTask closes its store connection)."""
        date_from, date_to = self.period()
        factory = self.client_factory
        self.run_button.setEnabled(False)
        self.message.setText(tr("正在下载平台清单…", "Downloading the platform's list…"))

        def work(progress: Progress) -> rec.ReconcileReport:
            client = factory()
            try:
                return rec.reconcile(client, date_from, date_to)
            finally:
                client.close()

        return self._run(work, self._succeeded, self._failed)

    def _run(self, work: Callable[[Progress], Any], succeeded: Callable[[Any], object],
             failed: Callable[[str], object]) -> BackgroundTask[Any]:
        task: BackgroundTask[Any] = BackgroundTask(work, self)
        task.on_success(succeeded)
        task.on_failure(failed)
        task.on_finished(lambda: self.tasks.remove(task) if task in self.tasks else None)
        self.tasks.append(task)
        task.start()
        return task

    def _succeeded(self, report: rec.ReconcileReport) -> None:
        self.run_button.setEnabled(True)
        self.show_report(report)
        self.message.setText(tr("对账完成", "Done"))

    def _failed(self, error: str) -> None:
        self.run_button.setEnabled(True)
        self.message.setText(tr("对账失败：{error}", "Reconciliation failed: {error}", error=error))

    def show_report(self, report: rec.ReconcileReport) -> None:
        self.report = report
        lang = language()
        self.summary.setText("\n".join(reconcile_report.summary_lines(report, lang)))
        rows = [reconcile_report.shown_row(row, lang) for row in reconcile_report.report_rows(report)]
        self.table.setRowCount(len(rows))
        for r, (row, difference) in enumerate(zip(rows, report.differences, strict=True)):
            values = [row["kind_label"], row["number"], row["local_status"] or "—",
                      row["local_total_with_tax"] or "—", row["local_buyer"] or "—",
                      row["platform_official_number"] or "—", row["platform_total_with_tax"] or "—",
                      row["platform_buyer"] or "—", row["detail"]]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setBackground(QColor(KIND_COLORS.get(difference.kind, "#ffffff")))
                item.setToolTip(row["detail"])
                self.table.setItem(r, c, item)
        self.requeue_button.setEnabled(any(d.can_requeue for d in report.differences))
        self.import_button.setEnabled(any(d.can_import for d in report.differences))
        self.pdf_button.setEnabled(True)
        self.csv_button.setEnabled(True)

    def requeue(self) -> BackgroundTask[list[str]] | None:
        """Back in the upload queue, in a background thread (one store write per invoice)."""
        if self.report is None:
            return None
        differences = list(self.report.differences)
        self.requeue_button.setEnabled(False)
        return self._run(lambda progress: rec.requeue(differences), self._requeued, self._requeue_failed)

    def _requeued(self, numbers: list[str]) -> None:
        self.message.setText(tr("已重新排队 {n} 张：{numbers}；上传队列将把它们送到平台（同一幂等键，只会记录一次）",
                                "{n} re-queued: {numbers}; the upload queue sends them (same key, recorded once)",
                                n=len(numbers), numbers=" ".join(numbers)))
        self.changed.emit()

    def _requeue_failed(self, error: str) -> None:
        self.requeue_button.setEnabled(True)
        self.message.setText(tr("重新排队失败：{error}", "Re-queueing failed: {error}", error=error))

    def import_missing(self) -> BackgroundTask[rec.ImportResult] | None:
        """Import in a background thread: a rebuilt store may take thousands (about 500 a second)."""
        if self.report is None:
            return None
        differences = list(self.report.differences)
        self.import_button.setEnabled(False)
        self.run_button.setEnabled(False)
        self.message.setText(tr("正在导入…", "Importing…"))
        return self._run(lambda progress: rec.import_records(differences), self._imported, self._failed)

    def _imported(self, result: rec.ImportResult) -> None:
        self.run_button.setEnabled(True)
        self.import_result = result
        failed = tr("；", "; ").join(f"{n}{tr('：', ': ')}{stored_message(why, language())}"
                                    for n, why in result.failed)
        self.message.setText(tr("已导入 {n} 张，补记平台接受 {m} 张{failed}",
                                "{n} imported, {m} acceptances recorded{failed}",
                                n=len(result.imported), m=len(result.recorded),
                                failed=(tr("；失败：", "; failed: ") + failed) if failed else ""))
        self.changed.emit()

    def save(self, kind: str, path: Path | None = None) -> BackgroundTask[Path] | None:
        """The report as a PDF or CSV file, written in a background thread (reportlab parses its font)."""
        if self.report is None:
            return None
        if path is None:
            date_from, date_to = self.period()
            name, _ = QFileDialog.getSaveFileName(self, tr("保存对账报告", "Save reconciliation report"),
                                                  f"reconcile-{date_from}-{date_to}.{kind}",
                                                  "PDF (*.pdf)" if kind == "pdf" else "CSV (*.csv)")
            if not name:
                return None
            path = Path(name)
        report, target = self.report, path

        def work(progress: Progress) -> Path:
            if kind == "pdf":
                from app.reports.reconcile_report import write_reconcile_pdf

                write_reconcile_pdf(report, target)
            else:
                reconcile_report.write_csv(report, target)
            return target

        return self._run(work, self._saved, self._save_failed)

    def _saved(self, path: Path) -> None:
        self.message.setText(tr("已保存 {path}", "Saved {path}", path=path))

    def _save_failed(self, error: str) -> None:
        self.message.setText(tr("保存失败：{error}", "Saving failed: {error}", error=error))

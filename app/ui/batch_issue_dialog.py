"""批量开票: a batch workbook (app.services.batch_workbook) read, checked and previewed, then issued with 开具.

Reading and issuing run in a BackgroundTask (never on the GUI thread). A file with a bad row shows every
error by sheet, row and column and nothing can be issued; a good file shows one row an invoice (serial,
buyer, lines, totals) and enables 开具, which issues them all or none. The dialog holds no rule: the
service checks the file and issues, this only shows what it returned.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import FieldError, ValidationFailed, field_label
from app.core.invoice import InvoiceKind
from app.core.money import format_money_grouped
from app.core.tax import find_rate
from app.services import batch_workbook
from app.ui.i18n import language, tr
from app.ui.tasks import BackgroundTask, Progress

PREVIEW_HEADINGS = (("流水号", "Serial"), ("发票种类", "Kind"), ("购买方", "Buyer"), ("纳税人识别号", "Tax id"),
                    ("行数", "Lines"), ("金额", "Amount"), ("税额", "Tax"), ("价税合计", "Total with tax"))
SERIAL, KIND, BUYER, TAX_ID, LINES, AMOUNT, TAX, TOTAL = range(len(PREVIEW_HEADINGS))
LINE_HEADINGS = (("明细行", "Sheet row"), ("项目名称", "Item"), ("数量", "Quantity"), ("单价", "Unit price"),
                 ("金额", "Amount"), ("税率", "Rate"))


def error_text(error: FieldError) -> str:
    lang = language()
    if isinstance(error, batch_workbook.SheetCellError):
        return error.describe(lang)
    label = field_label(error.field, lang)
    return f"{label}：{error.message(lang)}" if lang == "zh" else f"{label}: {error.message(lang)}"


def _kind_label(kind: str) -> str:
    try:
        return InvoiceKind(kind).label(language())
    except ValueError:
        return kind


class BatchIssueDialog(QDialog):
    """Open a workbook, see its invoices (or its errors), issue them with 开具."""

    def __init__(self, parent: QWidget | None = None, clerk: str = "",
                 on_issued: Callable[[list[batch_workbook.BatchIssued]], None] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batch_issue_dialog")
        self.setWindowTitle(tr("批量开票", "Batch issue"))
        self.resize(980, 560)
        self.clerk = clerk
        self.on_issued = on_issued
        self.batch: batch_workbook.Batch | None = None
        self.task: BackgroundTask[Any] | None = None
        self.issued: list[batch_workbook.BatchIssued] = []

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.open_button = QPushButton(tr("选择文件…", "Open file…"), self)
        self.open_button.setObjectName("open_button")
        self.open_button.clicked.connect(lambda: self.load_file())
        self.template_button = QPushButton(tr("保存模板…", "Save template…"), self)
        self.template_button.setObjectName("template_button")
        self.template_button.clicked.connect(lambda: self.save_template())
        self.file_label = QLabel(tr("请选择批量开票文件（.xlsx：1-发票基本信息、2-发票明细信息）",
                                    "Choose a batch workbook (.xlsx: invoices and lines sheets)"), self)
        self.file_label.setObjectName("file_label")
        top.addWidget(self.open_button)
        top.addWidget(self.template_button)
        top.addWidget(self.file_label, 1)
        layout.addLayout(top)

        self.message = QLabel("", self)
        self.message.setObjectName("batch_message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

        self.errors = QListWidget(self)
        self.errors.setObjectName("batch_errors")
        self.errors.setStyleSheet("color: #b71c1c;")
        self.errors.setWordWrap(True)
        self.errors.setVisible(False)
        layout.addWidget(self.errors, 1)

        self.preview = QTableWidget(0, len(PREVIEW_HEADINGS), self)
        self.preview.setObjectName("batch_preview")
        self.preview.setHorizontalHeaderLabels([tr(zh, en) for zh, en in PREVIEW_HEADINGS])
        self.preview.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setAlternatingRowColors(True)
        self.preview.setWordWrap(False)
        self.preview.verticalHeader().hide()
        header = self.preview.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in ((SERIAL, 130), (KIND, 120), (TAX_ID, 170), (LINES, 50), (AMOUNT, 100), (TAX, 90),
                              (TOTAL, 110)):
            self.preview.setColumnWidth(column, width)
        header.setSectionResizeMode(BUYER, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.preview, 3)
        self.shown: list[batch_workbook.BatchInvoice] = []
        self.lines_label = QLabel(tr("所选发票的明细", "Lines of the selected invoice"), self)
        layout.addWidget(self.lines_label)
        self.lines_table = QTableWidget(0, len(LINE_HEADINGS), self)
        self.lines_table.setObjectName("batch_lines")
        self.lines_table.setHorizontalHeaderLabels([tr(zh, en) for zh, en in LINE_HEADINGS])
        self.lines_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines_table.verticalHeader().hide()
        self.lines_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.lines_table, 2)
        self.preview.currentCellChanged.connect(lambda row, *_: self._show_lines(row))

        self.summary = QLabel("", self)
        self.summary.setObjectName("batch_summary")
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        self.issue_button = QPushButton(tr("开具", "Issue"), self)
        self.issue_button.setObjectName("issue_button")
        self.issue_button.setEnabled(False)
        self.issue_button.clicked.connect(lambda: self.issue())
        self.close_button = QPushButton(tr("关闭", "Close"), self)
        self.close_button.clicked.connect(self.close)
        buttons.addWidget(self.issue_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

    # --- reading --------------------------------------------------------------------------------

    def _busy(self, text: str) -> None:
        for button in (self.open_button, self.template_button, self.issue_button):
            button.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText(text)

    def _idle(self) -> None:
        self.open_button.setEnabled(True)
        self.template_button.setEnabled(True)
        self.issue_button.setEnabled(self.batch is not None and bool(self.batch.invoices))
        self.task = None

    def load_file(self, path: Path | None = None) -> BackgroundTask[Any] | None:
        """Read and check a workbook in the background; then the preview or the errors."""
        if self.task is not None:
            return None
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self, tr("选择批量开票文件", "Choose a batch workbook"), "",
                                                  "Excel (*.xlsx)")
            if not name:
                return None
            path = Path(name)
        source = path
        self.batch = None
        self.file_label.setText(str(source))
        self._show_errors([])
        self._fill([])
        self._busy(tr("正在检查 {name}…", "Checking {name}…", name=source.name))

        def work(progress: Progress) -> batch_workbook.Batch:
            return batch_workbook.read_batch(source)

        task: BackgroundTask[Any] = BackgroundTask(work, self)
        task.on_success(self._loaded)
        task.on_failure(lambda error: self._refused(task, error, tr("文件有误，未开具任何发票",
                                                                    "The file has errors: nothing was issued")))
        task.on_finished(self._idle)
        self.task = task
        return task.start()

    def _loaded(self, batch: batch_workbook.Batch) -> None:
        self.batch = batch
        self._fill(list(batch.invoices))
        self.message.setStyleSheet("")
        self.message.setText(tr("文件检查无误。请核对以下 {n} 张发票，然后点击“开具”。",
                                "The file is good. Check these {n} invoices, then press Issue.",
                                n=len(batch.invoices)))

    def _refused(self, task: BackgroundTask[Any], error: str, heading: str) -> None:
        self.message.setStyleSheet("color: #b71c1c;")
        exception = task.exception
        if isinstance(exception, ValidationFailed):
            self.message.setText(tr("{heading}：共 {n} 处错误，请在文件中改正后重新选择",
                                    "{heading}: {n} error(s); fix them in the file and open it again",
                                    heading=heading, n=len(exception.errors)))
            self._show_errors(exception.errors)
        else:
            self.message.setText(f"{heading}：{error}" if language() == "zh" else f"{heading}: {error}")

    def _show_errors(self, errors: list[FieldError]) -> None:
        self.errors.clear()
        for error in errors:
            self.errors.addItem(error_text(error))
        self.errors.setVisible(bool(errors))

    def _show_lines(self, row: int) -> None:
        invoice = self.shown[row] if 0 <= row < len(self.shown) else None
        lines = invoice.lines if invoice is not None else ()
        self.lines_table.setRowCount(len(lines))
        for index, line in enumerate(lines):
            rate = find_rate(line.tax_rate)
            values = (str(line.row), line.item_name, line.quantity, line.unit_price, format_money_grouped(line.amount),
                      rate.label(language()) if rate is not None else line.tax_rate)
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column != 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.lines_table.setItem(index, column, item)

    def _fill(self, invoices: list[batch_workbook.BatchInvoice]) -> None:
        self.shown = invoices
        self.preview.setRowCount(len(invoices))
        for row, invoice in enumerate(invoices):
            values = (invoice.serial, _kind_label(invoice.kind), invoice.buyer_name, invoice.buyer_tax_id,
                      str(len(invoice.lines)), format_money_grouped(invoice.total_amount),
                      format_money_grouped(invoice.total_tax), format_money_grouped(invoice.total_with_tax))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column in (LINES, AMOUNT, TAX, TOTAL):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == BUYER:
                    item.setToolTip("\n".join(f"{line.item_name}  {format_money_grouped(line.amount)}"
                                              for line in invoice.lines))
                self.preview.setItem(row, column, item)
        if invoices:
            self.preview.selectRow(0)
            self._show_lines(0)
        else:
            self._show_lines(-1)
        if invoices:
            total = sum((i.total_with_tax for i in invoices), Decimal("0.00"))
            lines = sum(len(i.lines) for i in invoices)
            self.summary.setText(tr("共 {n} 张发票、{lines} 行，价税合计 {total}",
                                    "{n} invoices, {lines} lines, total with tax {total}",
                                    n=len(invoices), lines=lines, total=format_money_grouped(total)))
        else:
            self.summary.setText("")

    def preview_rows(self) -> list[list[str]]:
        """What the preview shows, cell by cell (for tests)."""
        return [[cell.text() if (cell := self.preview.item(r, c)) is not None else ""
                 for c in range(self.preview.columnCount())] for r in range(self.preview.rowCount())]

    def error_texts(self) -> list[str]:
        return [item.text() for i in range(self.errors.count()) if (item := self.errors.item(i)) is not None]

    # --- issuing --------------------------------------------------------------------------------

    def issue(self) -> BackgroundTask[Any] | None:
        """开具: every invoice of the preview, all or none."""
        batch = self.batch
        if batch is None or self.task is not None:
            return None
        clerk = self.clerk
        self._busy(tr("正在开具 {n} 张发票…", "Issuing {n} invoices…", n=len(batch.invoices)))

        def work(progress: Progress) -> list[batch_workbook.BatchIssued]:
            return batch_workbook.issue_batch(batch, clerk)

        task: BackgroundTask[Any] = BackgroundTask(work, self)
        self.batch = None  # never twice: a second 开具 needs the file opened again
        task.on_success(self._issued)
        task.on_failure(lambda error: self._refused(task, error, tr("未开具任何发票", "Nothing was issued")))
        task.on_finished(self._idle)
        self.task = task
        return task.start()

    def _issued(self, issued: list[batch_workbook.BatchIssued]) -> None:
        self.issued = issued
        self.message.setStyleSheet("color: #1b5e20;")
        first, last = issued[0].number, issued[-1].number
        self.message.setText(tr("已开具 {n} 张（{first} 至 {last}）", "Issued {n} ({first} to {last})",
                                n=len(issued), first=first, last=last))
        if self.on_issued is not None:
            self.on_issued(issued)

    # --- the template ---------------------------------------------------------------------------

    def save_template(self, path: Path | None = None) -> BackgroundTask[Any] | None:
        if self.task is not None:
            return None
        if path is None:
            path = ask_template_path(self)
            if path is None:
                return None
        target = path
        self._busy(tr("正在保存模板…", "Saving the template…"))
        task: BackgroundTask[Any] = BackgroundTask(lambda progress: batch_workbook.save_template(target), self)
        task.on_success(lambda written: self._template_saved(written))
        task.on_failure(lambda error: self._refused(task, error, tr("模板未保存", "The template was not saved")))
        task.on_finished(self._idle)
        self.task = task
        return task.start()

    def _template_saved(self, written: Path) -> None:
        self.message.setStyleSheet("")
        self.message.setText(tr("模板已保存到 {path}", "Template saved to {path}", path=str(written)))


def ask_template_path(parent: QWidget) -> Path | None:
    title = tr("保存批量开票模板", "Save the batch template")
    name, _ = QFileDialog.getSaveFileName(parent, title, "批量开票模板.xlsx", "Excel (*.xlsx)")
    return Path(name) if name else None

"""Print preview of the real PDF, page by page, with zoom; print or save from it.

The PDF shown is the one that will print (rendered by app.printing from the stored
invoices, in a background task); choosing the layout or the paper renders it again.
The layouts: the 数电 face on plain paper (pre-issue records as their slip), or paper invoices onto the
pre-printed forms (套打: app.services.paper_printing; the preview shows the sheets the print would take, and
takes none). The face's page is 210 wide and grows with the lines; on A4 it is centred, scaled down if taller.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF
from PySide6.QtGui import QKeySequence
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.printing.document import FULL, OVERLAY, PrintOptions
from app.ui.i18n import tr
from app.ui.print_jobs import RenderResult, render_work
from app.ui.tasks import BackgroundTask

ZOOM_STEP = 1.25
ZOOM_MIN, ZOOM_MAX = 0.25, 6.0


class PdfPages(QWidget):
    """A PDF shown one page at a time, with page and zoom controls."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = QPdfDocument(self)
        self._buffer: QBuffer | None = None
        self.view = QPdfView(self)
        self.view.setObjectName("pdf_view")
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.SinglePage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitInView)

        self.previous_button = QToolButton(self)
        self.previous_button.setObjectName("previous_page")
        self.previous_button.setText("◀")
        self.previous_button.setToolTip(tr("上一页", "Previous page"))
        self.next_button = QToolButton(self)
        self.next_button.setObjectName("next_page")
        self.next_button.setText("▶")
        self.next_button.setToolTip(tr("下一页", "Next page"))
        self.page_label = QLabel(self)
        self.page_label.setObjectName("page_label")
        self.zoom_out_button = QToolButton(self)
        self.zoom_out_button.setObjectName("zoom_out")
        self.zoom_out_button.setText("−")
        self.zoom_out_button.setToolTip(tr("缩小", "Zoom out"))
        self.zoom_in_button = QToolButton(self)
        self.zoom_in_button.setObjectName("zoom_in")
        self.zoom_in_button.setText("+")
        self.zoom_in_button.setToolTip(tr("放大", "Zoom in"))
        self.fit_button = QToolButton(self)
        self.fit_button.setObjectName("zoom_fit")
        self.fit_button.setText(tr("适合窗口", "Fit"))
        self.zoom_label = QLabel(self)
        self.zoom_label.setObjectName("zoom_label")

        bar = QHBoxLayout()
        for widget in (self.previous_button, self.page_label, self.next_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        for widget in (self.zoom_out_button, self.zoom_label, self.zoom_in_button, self.fit_button):
            bar.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

        self.previous_button.clicked.connect(lambda: self.go_to(self.current_page() - 1))
        self.next_button.clicked.connect(lambda: self.go_to(self.current_page() + 1))
        self.zoom_in_button.clicked.connect(lambda: self.set_zoom(self.zoom() * ZOOM_STEP))
        self.zoom_out_button.clicked.connect(lambda: self.set_zoom(self.zoom() / ZOOM_STEP))
        self.fit_button.clicked.connect(self.fit)
        self.view.pageNavigator().currentPageChanged.connect(lambda _: self._update_labels())
        self.view.zoomFactorChanged.connect(lambda _: self._update_labels())
        self._update_labels()

    def load(self, pdf: bytes) -> None:
        self.document.close()
        self._buffer = QBuffer(self)
        self._buffer.setData(QByteArray(pdf))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(self._buffer)
        self.go_to(0)
        self._update_labels()

    def page_count(self) -> int:
        return self.document.pageCount()

    def current_page(self) -> int:
        return self.view.pageNavigator().currentPage()

    def go_to(self, page: int) -> None:
        if self.page_count() == 0:
            return
        page = max(0, min(page, self.page_count() - 1))
        self.view.pageNavigator().jump(page, QPointF(), self.view.zoomFactor())
        self._update_labels()

    def zoom(self) -> float:
        return self.view.zoomFactor()

    def set_zoom(self, factor: float) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.Custom)
        self.view.setZoomFactor(max(ZOOM_MIN, min(ZOOM_MAX, factor)))
        self._update_labels()

    def fit(self) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.FitInView)
        self._update_labels()

    def _update_labels(self) -> None:
        count = self.page_count()
        page = self.current_page() + 1 if count else 0
        self.page_label.setText(tr("第 {page} / {count} 页", "Page {page} of {count}", page=page, count=count))
        self.previous_button.setEnabled(page > 1)
        self.next_button.setEnabled(0 < page < count)
        if self.view.zoomMode() == QPdfView.ZoomMode.FitInView:
            self.zoom_label.setText("")  # the 适合窗口 button beside it says so
        else:
            self.zoom_label.setText(f"{self.zoom() * 100:.0f}%")


class PrintPreviewDialog(QDialog):
    """Preview of the given stored invoices; the print actions connect print_button and save_button."""

    def __init__(self, numbers: Sequence[str], options: PrintOptions, parent: QWidget | None = None,
                 printer_name: str = ""):
        super().__init__(parent)
        self.setObjectName("print_preview")
        self.setWindowTitle(tr("打印预览", "Print preview"))
        self.resize(1000, 680)
        self.numbers = list(numbers)
        self.options = options
        self.printer_name = printer_name  # whose profile (offset and scale) forms are printed with
        self.rendered: RenderResult | None = None
        self.task: BackgroundTask[RenderResult] | None = None

        self.pages = PdfPages(self)
        self.layout_choice = QComboBox(self)
        self.layout_choice.setObjectName("layout_choice")
        self.layout_choice.addItem(tr("版式文件（普通纸）", "Invoice face (plain paper)"), FULL)
        self.layout_choice.addItem(tr("套打纸质发票（预印发票纸）", "Paper invoices onto pre-printed forms"), OVERLAY)
        self.layout_choice.setCurrentIndex(self.layout_choice.findData(options.layout))
        self.paper_choice = QComboBox(self)
        self.paper_choice.setObjectName("paper_choice")
        self.paper_choice.addItem(tr("发票大小（宽 210 毫米，随行数加高）", "Invoice size (210 mm wide, taller with "
                                     "the lines)"), "invoice")
        self.paper_choice.addItem("A4", "a4")
        self.paper_choice.setCurrentIndex(self.paper_choice.findData(options.paper))
        self.status_label = QLabel(self)
        self.status_label.setObjectName("preview_status")
        self.print_button = QPushButton(tr("打印…", "Print…"), self)
        self.print_button.setObjectName("print_button")
        self.print_button.setShortcut(QKeySequence.StandardKey.Print)
        self.save_button = QPushButton(tr("另存为 PDF…", "Save as PDF…"), self)
        self.save_button.setObjectName("save_button")
        close_button = QPushButton(tr("关闭"), self)

        options_bar = QHBoxLayout()
        options_bar.addWidget(QLabel(tr("版式", "Layout")))
        options_bar.addWidget(self.layout_choice)
        options_bar.addWidget(QLabel(tr("纸张", "Paper")))
        options_bar.addWidget(self.paper_choice)
        options_bar.addWidget(self.status_label, 1)
        options_bar.addWidget(self.print_button)
        options_bar.addWidget(self.save_button)
        options_bar.addWidget(close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(options_bar)
        layout.addWidget(self.pages, 1)

        self.layout_choice.currentIndexChanged.connect(self._options_changed)
        self.paper_choice.currentIndexChanged.connect(self._options_changed)
        close_button.clicked.connect(self.reject)
        self.render_pages()

    def _options_changed(self) -> None:
        self.options = PrintOptions(layout=self.layout_choice.currentData(), paper=self.paper_choice.currentData(),
                                    offset_x_mm=self.options.offset_x_mm, offset_y_mm=self.options.offset_y_mm)
        self.render_pages()

    def render_pages(self) -> BackgroundTask[RenderResult]:
        """Render in the background; the buttons wait until the PDF is there."""
        if self.task is not None and self.task.running:
            self.task.cancel()
        self.print_button.setEnabled(False)
        self.save_button.setEnabled(False)
        self.status_label.setText(tr("正在生成…", "Rendering…"))
        self.paper_choice.setEnabled(self.options.layout != OVERLAY)  # forms are their own size: 210 × 140
        task = BackgroundTask(render_work(self.numbers, self.options, self.printer_name), self)
        task.on_success(self._rendered)
        task.on_failure(self._failed)
        self.task = task
        task.start()
        return task

    def _rendered(self, result: RenderResult) -> None:
        if result.options != self.options:
            return  # an older render finished after the clerk changed the options
        self.rendered = result
        self.pages.load(result.pdf)
        copies = sum(1 for v in result.views if v.copy)
        text = tr("{count} 张发票", "{count} invoices", count=len(result.views))
        job = result.paper_job
        if job is not None:
            sheets = "、".join(f"{p.sheet.code} {p.sheet.number}" for p in job.prints)
            text += tr("，纸质发票 {sheets}", ", paper forms {sheets}", sheets=sheets)
        if copies:
            text += tr("，其中 {copies} 张已打印过，将标为副本", ", {copies} printed before: marked as copies",
                       copies=copies)
        self.status_label.setText(text)
        self.print_button.setEnabled(True)
        self.save_button.setEnabled(True)

    def _failed(self, message: str) -> None:
        self.status_label.setText(tr("无法生成预览", "Cannot render the preview"))
        QMessageBox.warning(self, tr("打印预览", "Print preview"), message)

    def done(self, result: int) -> None:  # QDialog.done, overridden: a render still running is stopped first
        if self.task is not None and self.task.running:
            self.task.cancel()
            self.task.wait()
        super().done(result)

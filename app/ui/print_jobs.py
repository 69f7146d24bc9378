"""Printing work that runs off the GUI thread, with progress and cancel.

A job is a function work(progress) run in a QThread; progress(done, total) reports and
returns False once the clerk pressed cancel. The works here: render stored invoices to PDF
bytes (for the preview), save them as a PDF file, and send PDF pages to a QPrinter (Qt
allows painting on a QPrinter outside the GUI thread). Every store access of a job happens
in its thread (peewee keeps one SQLite connection per thread) and that connection is closed
when the job ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMarginsF,
    QObject,
    QRectF,
    QSize,
    QSizeF,
    Qt,
    QThread,
    QTimer,
)
from PySide6.QtGui import QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.printing.document import Cancelled, PrintOptions, render_invoices
from app.printing.geometry import paper as paper_named
from app.printing.view import PrintView
from app.services.printing import print_to_pdf
from app.services.printing_log import load_print_views, record_printed
from app.store.models import database
from app.ui.i18n import tr

Progress = Callable[[int, int], bool]
PRINT_DPI = 300  # pages go to the printer as images at this resolution


class JobCancelled(Exception):
    pass


@dataclass
class RenderResult:
    views: list[PrintView]
    pdf: bytes
    options: PrintOptions


def render_work(numbers: Sequence[str], options: PrintOptions) -> Callable[[Progress], RenderResult]:
    def work(progress: Progress) -> RenderResult:
        views = load_print_views(numbers)
        try:
            data = render_invoices(views, options, lambda done: progress(done, len(views)))
        except Cancelled:
            raise JobCancelled() from None
        return RenderResult(views, data, options)

    return work


def pdf_file_work(numbers: Sequence[str], path: Path, options: PrintOptions, clerk: str = "") -> Callable[[Progress], Path]:
    def work(progress: Progress) -> Path:
        total = len(numbers)
        try:
            print_to_pdf(numbers, path, options, clerk=clerk, progress=lambda done: progress(done, total))
        except Cancelled:
            raise JobCancelled() from None
        return Path(path)

    return work


def set_printer_paper(printer: QPrinter, paper_name: str) -> None:
    """The job's page: the invoice size or A4, landscape, no margins (the overlay measures from the edge)."""
    sheet = paper_named(paper_name)
    if paper_name == "a4":
        size = QPageSize(QPageSize.PageSizeId.A4)
    else:
        size = QPageSize(QSizeF(sheet.height_mm, sheet.width_mm), QPageSize.Unit.Millimeter, "发票 240×140",
                         QPageSize.SizeMatchPolicy.ExactMatch)
    printer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Landscape, QMarginsF(0, 0, 0, 0),
                                      QPageLayout.Unit.Millimeter))
    printer.setFullPage(True)


def print_pdf_pages(pdf: bytes, printer: QPrinter, progress: Progress) -> int:
    """Every page of the PDF onto the printer as an image at PRINT_DPI. Returns the pages sent."""
    buffer = QBuffer()
    buffer.setData(QByteArray(pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    document.load(buffer)
    pages = document.pageCount()
    if pages <= 0:
        raise RuntimeError("the rendered PDF has no pages")
    painter = QPainter()
    if not painter.begin(printer):
        raise RuntimeError(tr("无法开始打印（打印机不可用）", "cannot start printing (printer not available)"))
    try:
        for page in range(pages):
            if page:
                printer.newPage()
            points = document.pagePointSize(page)
            pixels = QSize(round(points.width() / 72 * PRINT_DPI), round(points.height() / 72 * PRINT_DPI))
            image = document.render(page, pixels)
            target = QRectF(printer.pageLayout().fullRectPixels(printer.resolution()))
            painter.drawImage(target, image)
            if progress(page + 1, pages) is False:
                printer.abort()
                raise JobCancelled()
    finally:
        painter.end()
        document.close()
    return pages


def printer_work(rendered: RenderResult, printer: QPrinter, clerk: str = "") -> Callable[[Progress], int]:
    """Send already rendered invoices to the printer, then record them as printed."""
    def work(progress: Progress) -> int:
        set_printer_paper(printer, rendered.options.paper)
        pages = print_pdf_pages(rendered.pdf, printer, progress)
        target = printer.outputFileName() or printer.printerName() or "printer"
        record_printed(rendered.views, clerk=clerk, layout=rendered.options.layout, paper=rendered.options.paper,
                       target=target)
        return pages

    return work


def render_and_print_work(numbers: Sequence[str], options: PrintOptions, printer: QPrinter,
                          clerk: str = "") -> Callable[[Progress], int]:
    """Batch print: render the selected invoices into one PDF, then one print job of all its pages.
    Progress counts invoices rendered first, then pages printed."""
    def work(progress: Progress) -> int:
        views = load_print_views(numbers)
        total = len(views)
        try:
            data = render_invoices(views, options, lambda done: progress(done, total * 2))
        except Cancelled:
            raise JobCancelled() from None
        rendered = RenderResult(views, data, options)
        return printer_work(rendered, printer, clerk)(lambda done, pages: progress(total + done * total // pages,
                                                                                    total * 2))

    return work


class _WorkThread(QThread):
    """Runs the work; leaves its outcome in attributes (no Python signal is emitted: see BackgroundJob)."""

    def __init__(self, work: Callable[[Progress], object], stop: threading.Event):
        super().__init__()
        self._work = work
        self._stop = stop
        self.progress: tuple[int, int] | None = None
        self.outcome: tuple[object, str, bool] = (None, "", False)

    def run(self) -> None:
        def progress(done: int, total: int) -> bool:
            self.progress = (done, total)
            return not self._stop.is_set()

        try:
            self.outcome = (self._work(progress), "", False)
        except JobCancelled:
            self.outcome = (None, "", True)
        except Exception as error:  # shown to the clerk; the job's own service left nothing half-done
            self.outcome = (None, str(error) or type(error).__name__, False)
        finally:
            if database.obj is not None and not database.is_closed():
                database.close()  # this thread's connection


class BackgroundJob(QObject):
    """One work function in its own QThread; callbacks run on the GUI thread.

    Progress is polled by a timer and the end comes from QThread.finished, both C++ signals:
    PySide6 6.12.0 drops a reference to Python's True on every Signal.emit() made from Python,
    and on Python 3.11 enough emits crash the interpreter, so a busy job must not emit.
    """

    POLL_MS = 50

    def __init__(self, work: Callable[[Progress], object], parent: QObject | None = None):
        super().__init__(parent)
        self._stop = threading.Event()
        self._thread = _WorkThread(work, self._stop)
        self._thread.finished.connect(self._finish)
        self._timer = QTimer(self)
        self._timer.setInterval(self.POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._last_progress: tuple[int, int] | None = None
        self._progress_callbacks: list[Callable[[int, int], None]] = []
        self._success_callbacks: list[Callable[[object], None]] = []
        self._failure_callbacks: list[Callable[[str], None]] = []
        self._cancel_callbacks: list[Callable[[], None]] = []
        self._finished_callbacks: list[Callable[[], None]] = []
        self.result: object = None
        self.error = ""
        self.was_cancelled = False
        self.running = False
        self.done = False

    # Callbacks, called on the GUI thread.
    def on_progress(self, callback: Callable[[int, int], None]) -> None:
        self._progress_callbacks.append(callback)

    def on_success(self, callback: Callable[[object], None]) -> None:
        self._success_callbacks.append(callback)

    def on_failure(self, callback: Callable[[str], None]) -> None:
        self._failure_callbacks.append(callback)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        self._cancel_callbacks.append(callback)

    def on_finished(self, callback: Callable[[], None]) -> None:
        """After the success, failure or cancel callbacks."""
        self._finished_callbacks.append(callback)

    def start(self) -> None:
        self.running = True
        self._timer.start()
        self._thread.start()

    def cancel(self) -> None:
        self._stop.set()

    def wait(self, ms: int = 30000) -> bool:
        return self._thread.wait(ms)

    def _poll(self) -> None:
        progress = self._thread.progress
        if progress is not None and progress != self._last_progress:
            self._last_progress = progress
            for callback in list(self._progress_callbacks):
                callback(*progress)

    def _finish(self) -> None:
        self._timer.stop()
        self._poll()
        self.running = False
        self.result, self.error, self.was_cancelled = self._thread.outcome
        self.done = True
        if self.was_cancelled:
            callbacks = [lambda c=c: c() for c in self._cancel_callbacks]
        elif self.error:
            callbacks = [lambda c=c: c(self.error) for c in self._failure_callbacks]
        else:
            callbacks = [lambda c=c: c(self.result) for c in self._success_callbacks]
        for callback in callbacks + list(self._finished_callbacks):
            callback()


def with_progress_dialog(job: BackgroundJob, parent: QWidget | None, label: str) -> QProgressDialog:
    """A window-modal progress dialog whose cancel button stops the job; it closes when the job ends."""
    dialog = QProgressDialog(label, tr("取消"), 0, 0, parent)
    dialog.setObjectName("print_progress")
    dialog.setWindowTitle(tr("打印", "Print"))
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)

    def progressed(done: int, total: int) -> None:
        dialog.setMaximum(max(total, 1))
        dialog.setValue(min(done, total))

    def close() -> None:
        dialog.close()
        dialog.deleteLater()

    job.on_progress(progressed)
    dialog.canceled.connect(job.cancel)
    job.on_finished(close)
    return dialog

"""Printing work that runs off the GUI thread, with progress and cancel.

Each function here makes a work function for app/ui/tasks.BackgroundTask: work(progress) runs in
the task's thread; progress(done, total) reports and returns False once the clerk pressed cancel.
The works: render stored invoices to PDF bytes (for the preview), save them as a PDF file, and
send PDF pages to a QPrinter (Qt allows painting on a QPrinter outside the GUI thread). The task
closes its thread's store connection when the work ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMarginsF,
    QRectF,
    QSize,
    QSizeF,
)
from PySide6.QtGui import QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter

from app.printing.document import Cancelled, PrintOptions, render_invoices
from app.printing.geometry import paper as paper_named
from app.printing.view import PrintView
from app.services.printing import print_to_pdf
from app.services.printing_log import load_print_views, record_printed
from app.ui.i18n import tr
from app.ui.tasks import Progress, TaskCancelled

PRINT_DPI = 300  # pages go to the printer as images at this resolution


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
            raise TaskCancelled() from None
        return RenderResult(views, data, options)

    return work


def pdf_file_work(numbers: Sequence[str], path: Path, options: PrintOptions,
                  clerk: str = "") -> Callable[[Progress], Path]:
    def work(progress: Progress) -> Path:
        total = len(numbers)
        try:
            print_to_pdf(numbers, path, options, clerk=clerk, progress=lambda done: progress(done, total))
        except Cancelled:
            raise TaskCancelled() from None
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
                raise TaskCancelled()
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
            raise TaskCancelled() from None
        rendered = RenderResult(views, data, options)
        return printer_work(rendered, printer, clerk)(lambda done, pages: progress(total + done * total // pages,
                                                                                    total * 2))

    return work

"""Printing work that runs off the GUI thread, with progress and cancel.

Each function here makes a work function for app/ui/tasks.BackgroundTask: work(progress) runs in
the task's thread; progress(done, total) reports and returns False once the clerk pressed cancel.
The works: render stored invoices to PDF bytes (for the preview), save them as a PDF file, and
send PDF pages to a QPrinter (Qt allows painting on a QPrinter outside the GUI thread). The task
closes its thread's store connection when the work ends.

Options with the layout `overlay` (the 套打 switch) mean paper 数电 invoices onto the pre-printed forms: they go
through app.services.paper_printing, whose one transaction takes each sheet, renders with the printer's
calibration, sends the pages and records the print (the preview takes no sheet: it shows the ones that would be
taken). Each page goes to the printer at its own size: the face is 210 wide and grows in height with the lines,
the paper form is 210 × 140; on A4 every page is A4 landscape.
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

from app.printing.document import OVERLAY, Cancelled, PrintOptions, render_invoices
from app.printing.view import PrintView
from app.services.paper_printing import PaperJob, preview_paper_invoices, print_paper_invoices, print_paper_to_pdf
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
    paper_job: PaperJob | None = None  # onto forms: the sheets the print would take (none taken yet)


def onto_forms(options: PrintOptions) -> bool:
    """The 套打 switch: paper invoices onto the pre-printed forms."""
    return options.layout == OVERLAY


def render_work(numbers: Sequence[str], options: PrintOptions,
                printer_name: str = "") -> Callable[[Progress], RenderResult]:
    def work(progress: Progress) -> RenderResult:
        if onto_forms(options):
            job = preview_paper_invoices(numbers, printer=printer_name)
            progress(len(job.prints), len(job.prints))
            return RenderResult(job.views, job.pdf, options, job)
        views = load_print_views(numbers)
        try:
            data = render_invoices(views, options, lambda done: progress(done, len(views)))
        except Cancelled:
            raise TaskCancelled() from None
        return RenderResult(views, data, options)

    return work


def pdf_file_work(numbers: Sequence[str], path: Path, options: PrintOptions,
                  clerk: str = "", printer_name: str = "") -> Callable[[Progress], Path]:
    def work(progress: Progress) -> Path:
        total = len(numbers)
        if onto_forms(options):
            print_paper_to_pdf(path, numbers, printer=printer_name, clerk=clerk)
            progress(total, total)
            return Path(path)
        try:
            print_to_pdf(numbers, path, options, clerk=clerk, progress=lambda done: progress(done, total))
        except Cancelled:
            raise TaskCancelled() from None
        return Path(path)

    return work


def _page_layout(paper_name: str, width_mm: float, height_mm: float) -> QPageLayout:
    """A4 landscape, or a page of exactly width × height mm; no margins (the forms' data measures from the edge)."""
    if paper_name == "a4":
        return QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Landscape,
                           QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)
    short, long = sorted((width_mm, height_mm))
    size = QPageSize(QSizeF(short, long), QPageSize.Unit.Millimeter, f"{width_mm:g}×{height_mm:g}",
                     QPageSize.SizeMatchPolicy.ExactMatch)
    orientation = QPageLayout.Orientation.Landscape if width_mm > height_mm else QPageLayout.Orientation.Portrait
    return QPageLayout(size, orientation, QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)


def set_printer_paper(printer: QPrinter, paper_name: str, width_mm: float = 210.0, height_mm: float = 140.0) -> None:
    """The job's page: A4 landscape, or width × height mm (the face's or the form's page; the calibration page's)."""
    printer.setPageLayout(_page_layout(paper_name, width_mm, height_mm))
    printer.setFullPage(True)


def print_pdf_pages(pdf: bytes, printer: QPrinter, progress: Progress, paper_name: str = "invoice") -> int:
    """Every page of the PDF onto the printer as an image at PRINT_DPI, each page at the PDF page's own size
    (A4 landscape throughout on `a4`). Returns the pages sent."""
    buffer = QBuffer()
    buffer.setData(QByteArray(pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    document.load(buffer)
    pages = document.pageCount()
    if pages <= 0:
        raise RuntimeError("the rendered PDF has no pages")

    def size_mm(page: int) -> tuple[float, float]:
        points = document.pagePointSize(page)
        return points.width() / 72 * 25.4, points.height() / 72 * 25.4

    set_printer_paper(printer, paper_name, *size_mm(0))
    painter = QPainter()
    if not painter.begin(printer):
        raise RuntimeError(tr("无法开始打印（打印机不可用）", "cannot start printing (printer not available)"))
    try:
        for page in range(pages):
            if page:
                if paper_name != "a4":
                    printer.setPageLayout(_page_layout(paper_name, *size_mm(page)))  # for the page newPage opens
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
        pages = print_pdf_pages(rendered.pdf, printer, progress, rendered.options.paper)
        target = printer.outputFileName() or printer.printerName() or "printer"
        record_printed(rendered.views, clerk=clerk, layout=rendered.options.layout, paper=rendered.options.paper,
                       target=target)
        return pages

    return work


def render_and_print_work(numbers: Sequence[str], options: PrintOptions, printer: QPrinter,
                          clerk: str = "") -> Callable[[Progress], int]:
    """Batch print: render the selected invoices into one PDF, then one print job of all its pages.
    Progress counts invoices rendered first, then pages printed. Onto forms (the 套打 switch): paper_print_work
    with the chosen printer's profile."""
    if onto_forms(options):
        return paper_print_work(numbers, printer, printer.printerName() or "", clerk)

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


def paper_print_work(numbers: Sequence[str], printer: QPrinter, profile_name: str,
                     clerk: str = "") -> Callable[[Progress], int]:
    """Paper invoices onto the forms in the printer: sheets taken, pages sent and the print recorded in one
    transaction (app.services.paper_printing); a failure or a cancel while printing takes no sheet."""
    def work(progress: Progress) -> int:
        sent: list[int] = []

        def deliver(pdf: bytes) -> None:
            sent.append(print_pdf_pages(pdf, printer, progress, "invoice"))

        target = printer.outputFileName() or printer.printerName() or "printer"
        print_paper_invoices(numbers, deliver, target=target, printer=profile_name, clerk=clerk)
        return sent[0]

    return work

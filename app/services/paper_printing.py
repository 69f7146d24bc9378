"""Printing onto pre-printed forms (套打) means one thing: a paper 数电 invoice (medium paper, platform channel,
issued: it holds its official number) onto the tax bureau's form in the printer.

One job is one IMMEDIATE transaction: the views are loaded (app.services.printing_log.load_print_views), anything
that is not a paper invoice is refused before any sheet is taken (an electronic invoice prints on plain paper, its
face; a pre-issue record is no invoice; more than 8 lines do not fit the form), each invoice takes its sheet
(app.services.paper_stock.sheet_for_print: the one it holds on a reprint, else the next one in the printer), the
pages are rendered with the printer profile's calibration (offset and x/y scale), handed to the caller's deliver
(the file or the printer) and the print recorded (app.services.printing_log.record_printed, the sheet's code and
number in the detail). Any failure on the way, the deliver included, rolls all of it back: no sheet is taken, no
print recorded.

A reprint (the invoice holds a sheet already) goes onto the record of that same sheet, and is marked 副本; a first
print onto a new sheet is the invoice, also when its earlier sheet was spoiled (then it is no copy).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from app.base.files import write_atomically
from app.printing.calibration import Calibration
from app.printing.paper_form import check_all, paper_qr_content, render_paper_invoices
from app.printing.view import PrintView
from app.services import paper_stock
from app.services.printer_profiles import DEFAULT_PRINTER, get_profile
from app.services.printing_log import load_print_views, record_printed
from app.store.models import database

LAYOUT = "paper_form"  # the layout recorded with the print
PAPER = "paper_form"  # the form itself: 210 × 140 mm, whatever the profile's paper for faces


@dataclass(frozen=True)
class PaperPrint:
    view: PrintView  # copy: a reprint onto the record of the sheet the invoice held already
    sheet: paper_stock.Sheet
    qr: str  # the paper QR content drawn (shudian-rules.md section 7)

    @property
    def new_sheet(self) -> bool:
        return not self.view.copy


@dataclass(frozen=True)
class PaperJob:
    prints: list[PaperPrint]
    pdf: bytes
    printer: str
    calibration: Calibration

    @property
    def views(self) -> list[PrintView]:
        return [p.view for p in self.prints]

    @property
    def copies(self) -> int:
        return sum(1 for p in self.prints if p.view.copy)


class _Preview(Exception):
    """Ends a preview's transaction: what it took is rolled back."""


def _job(numbers: Sequence[str], printer: str, clerk: str) -> PaperJob:
    """Inside the caller's transaction: views, refusals, sheets, the PDF."""
    views = load_print_views(numbers)  # UnknownInvoices names every number not stored
    check_all(views)  # NotOnPaperForm: pre-issue records, electronic invoices, more than 8 lines
    calibration = get_profile(printer).calibration
    taken: list[tuple[PrintView, paper_stock.Sheet]] = []
    for view in views:
        # NotAPaperInvoice (not the platform channel) or NoPaperForm (no sheet of its kind left): all rolled back.
        got = paper_stock.sheet_for_print(view.invoice.number, clerk=clerk or view.invoice.drawer, reprint=True)
        taken.append((replace(view, copy=not got.new), got.sheet))
    pdf_prints = [(view, sheet.form) for view, sheet in taken]
    pdf = render_paper_invoices(pdf_prints, calibration)
    prints = [PaperPrint(view, sheet, paper_qr_content(view, sheet.form)) for view, sheet in taken]
    return PaperJob(prints, pdf, printer, calibration)


def print_paper_invoices(numbers: Sequence[str], deliver: Callable[[bytes], object], *, target: str,
                         printer: str = DEFAULT_PRINTER, clerk: str = "") -> PaperJob:
    """Print paper invoices onto the forms in `printer`: all of it in one IMMEDIATE transaction, deliver(pdf)
    (write the file, send the pages to the printer) included; target is recorded (a path or a printer name).

    Raises app.services.printing_log.UnknownInvoices, app.printing.paper_form.NotOnPaperForm,
    app.services.paper_stock.NotAPaperInvoice / NoPaperForm, or whatever deliver raises: nothing taken then."""
    with database.atomic("IMMEDIATE"):
        job = _job(numbers, printer, clerk)
        deliver(job.pdf)
        record_printed(job.views, clerk=clerk, layout=LAYOUT, paper=PAPER, target=target,
                       forms=[p.sheet.form for p in job.prints])
    return job


def print_paper_to_pdf(path: Path, numbers: Sequence[str], *, printer: str = DEFAULT_PRINTER,
                       clerk: str = "") -> PaperJob:
    """The job into a PDF file at path (for a printer that prints files, or to keep): written and on disk before
    the transaction ends, renamed into place after; a failure leaves neither the file nor a sheet taken."""
    path = Path(path)
    done: list[PaperJob] = []

    def write(out: BinaryIO) -> None:
        def deliver(pdf: bytes) -> None:
            out.write(pdf)
            out.flush()
            os.fsync(out.fileno())

        done.append(print_paper_invoices(numbers, deliver, target=str(path.resolve()), printer=printer,
                                         clerk=clerk))

    write_atomically(path, write, prefix=".paper-printing-")
    return done[0]


def preview_paper_invoices(numbers: Sequence[str], *, printer: str = DEFAULT_PRINTER) -> PaperJob:
    """What the job would print now (the sheets it would take, the copies it would mark), rendered in a
    transaction that is rolled back: no sheet taken, nothing recorded. Raises as print_paper_invoices."""
    result: list[PaperJob] = []
    try:
        with database.atomic("IMMEDIATE"):
            result.append(_job(numbers, printer, ""))
            raise _Preview()
    except _Preview:
        pass
    return result[0]

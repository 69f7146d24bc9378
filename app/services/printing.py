"""Printing stored invoices to a PDF file: the one path the command line and the app's
"save as PDF" take. Load the stored invoices, render, record the prints, then put the
file in place, so a failure leaves neither a file nor an audit entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from app.base.files import write_atomically
from app.printing.document import OVERLAY, PrintOptions, write_invoices
from app.printing.view import PrintView
from app.services.printer_profiles import DEFAULT_PRINTER, get_profile
from app.services.printing_log import load_print_views, record_printed


def options_for(printer: str = DEFAULT_PRINTER, *, overlay: bool = False, paper: str | None = None) -> PrintOptions:
    """The printer's profile (paper, calibrated offset), the paper overridable per job."""
    profile = get_profile(printer)
    return PrintOptions(layout=OVERLAY if overlay else "full", paper=paper or profile.paper,
                        offset_x_mm=profile.offset_x_mm, offset_y_mm=profile.offset_y_mm)


def write_pdf_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """write(file) into a temporary file beside path, renamed over path only if it succeeds."""
    write_atomically(path, write, prefix=".printing-")


def print_to_pdf(numbers: Sequence[str], path: Path, options: PrintOptions, *, clerk: str = "",
                 progress: Callable[[int], bool] | None = None) -> list[PrintView]:
    """Print the stored invoices named by numbers into one PDF at path.

    Raises app.services.printing_log.UnknownInvoices (nothing written) if a number is not stored.
    """
    views = load_print_views(numbers)
    path = Path(path)

    def write(out: BinaryIO) -> None:
        write_invoices(out, views, options, progress)
        # Recorded before the rename: if the store cannot record, no paper appears unaccounted for.
        record_printed(views, clerk=clerk, layout=options.layout, paper=options.paper, target=str(path.resolve()))

    write_pdf_atomically(path, write)
    return views

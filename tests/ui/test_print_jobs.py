"""Batch printing in the background: to a real QPrinter (PDF file output), with progress and cancel."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QPushButton

from app.printing.document import PrintOptions, render_invoices
from app.services.issuing import issue_invoices
from app.services.printing_log import load_print_views
from app.store.models import AuditEntry
from app.ui.print_jobs import pdf_file_work, render_and_print_work
from app.ui.tasks import BackgroundTask, with_progress_dialog
from tests.helpers.bodies import invoice_body
from tests.helpers.pdf import MM, dark_fraction

FACE_BOX_MM = (10, 24, 220, 96)  # the ruled area of the face


def pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def printed_count() -> int:
    return AuditEntry.select().where(AuditEntry.action == "printed").count()


def test_batch_print_of_selected_invoices_is_one_job_in_the_background(qtbot, seller, tmp_path):
    numbers = [i.number for i in issue_invoices([invoice_body() for _ in range(12)])]
    out = tmp_path / "job.pdf"
    job = BackgroundTask(render_and_print_work(numbers, PrintOptions(), pdf_printer(out)))
    steps: list[tuple[int, int]] = []
    job.on_progress(lambda done, total: steps.append((done, total)))
    job.start()
    qtbot.waitUntil(lambda: job.ended, timeout=60000)
    assert job.error == "" and not job.was_cancelled and job.value == 12
    assert steps and steps[-1] == (24, 24) and steps == sorted(steps)
    reader = PdfReader(str(out))
    assert len(reader.pages) == 12
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / MM), round(float(box.height) / MM)) == (210, 140)  # the slip's own size
    # The printed page is the rendered invoice, in the same place: about as much ink in the face.
    direct = tmp_path / "direct.pdf"
    direct.write_bytes(render_invoices(load_print_views([numbers[-1]]), PrintOptions()))
    ink, expected = dark_fraction(out, 12, FACE_BOX_MM), dark_fraction(direct, 1, FACE_BOX_MM)
    assert expected > 0.005 and 0.7 < ink / expected < 1.4
    assert printed_count() == 12


def test_batch_print_can_be_cancelled_from_the_progress_dialog(qtbot, seller, tmp_path):
    numbers = [i.number for i in issue_invoices([invoice_body() for _ in range(300)])]
    job = BackgroundTask(render_and_print_work(numbers, PrintOptions(), pdf_printer(tmp_path / "cancelled.pdf")))
    dialog = with_progress_dialog(job, None, "printing", "Print")
    cancel_button = dialog.findChild(QPushButton)
    assert cancel_button is not None
    job.on_progress(lambda done, total: cancel_button.click())
    job.start()
    qtbot.waitUntil(lambda: job.ended, timeout=60000)
    assert job.was_cancelled and job.value is None
    assert printed_count() == 0  # nothing went to the printer, nothing is recorded


def test_save_as_pdf_in_the_background(qtbot, seller, direct, tmp_path):
    # Invoices of the direct channel: a 3-line face 210 × 140, a 45-line one 210 × 315 (each page its own size).
    from tests.helpers.bodies import long_lines

    numbers = [i.number for i in issue_invoices([invoice_body(), invoice_body(lines=long_lines(45))])]
    out = tmp_path / "saved.pdf"
    job = BackgroundTask(pdf_file_work(numbers, out, PrintOptions()))
    job.start()
    qtbot.waitUntil(lambda: job.ended, timeout=30000)
    reader = PdfReader(str(out))
    assert job.value == out and len(reader.pages) == 2
    sizes = [(round(float(p.mediabox.width) / MM), round(float(p.mediabox.height) / MM)) for p in reader.pages]
    assert sizes == [(210, 140), (210, 315)]
    assert printed_count() == 2
    # To a printer, each page goes at its own size too (the face grows in height).
    printed = tmp_path / "printed.pdf"
    printing_job = BackgroundTask(render_and_print_work(numbers, PrintOptions(), pdf_printer(printed)))
    printing_job.start()
    qtbot.waitUntil(lambda: printing_job.ended, timeout=60000)
    assert printing_job.error == ""
    got = [(round(float(p.mediabox.width) / MM), round(float(p.mediabox.height) / MM))
           for p in PdfReader(str(printed)).pages]
    assert got == [(210, 140), (210, 315)]


def test_onto_forms_an_electronic_invoice_is_refused_and_nothing_recorded(qtbot, seller, direct, tmp_path):
    numbers = [i.number for i in issue_invoices([invoice_body()])]
    out = tmp_path / "forms.pdf"
    job = BackgroundTask(pdf_file_work(numbers, out, PrintOptions(layout="overlay")))
    job.start()
    qtbot.waitUntil(lambda: job.ended, timeout=30000)
    assert "medium" in job.error and "普通纸" in job.error and not out.exists()
    assert printed_count() == 0


def test_a_failing_job_reports_and_writes_nothing(qtbot, seller, tmp_path):
    out = tmp_path / "none.pdf"
    job = BackgroundTask(pdf_file_work(["LX-0000999"], out, PrintOptions()))
    failures: list[str] = []
    job.on_failure(failures.append)
    job.start()
    qtbot.waitUntil(lambda: job.ended, timeout=30000)
    assert failures == [job.error]
    assert "LX-0000999" in job.error and not out.exists()

"""Print preview of the real PDF (page by page, zoom), and the overlay calibration dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from app.printing.document import PrintOptions
from app.services.issuing import issue_invoice, issue_invoices
from app.services.printer_profiles import get_profile, save_profile
from app.ui.calibration_dialog import CalibrationDialog
from app.ui.print_preview import PrintPreviewDialog
from tests.helpers.bodies import invoice_body, long_lines

SHOTS = Path("/work/notes/prints")


def shoot(widget, name):
    if SHOTS.is_dir():
        widget.grab().save(str(SHOTS / name))


def test_preview_shows_every_page_of_the_real_pdf_with_zoom(qtbot, seller, direct):
    # Invoices of the direct channel (official numbers): a 45-line one prints one page 315 mm tall, a 100-line one
    # breaks into pages past 42 lines (shudian-rules.md section 6; no 销货清单 any more).
    from app.printing.layout import plan_pages

    taller, longest = issue_invoices([invoice_body(lines=long_lines(45)), invoice_body(lines=long_lines(100))])
    expected = len(plan_pages(45)) + len(plan_pages(100))
    assert len(plan_pages(45)) == 1 and len(plan_pages(100)) > 1
    dialog = PrintPreviewDialog([taller.number, longest.number], PrintOptions())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.rendered is not None, timeout=20000)
    pages = dialog.pages
    assert pages.page_count() == expected
    first = pages.document.pagePointSize(0)
    assert round(first.width() / 72 * 25.4) == 210 and round(first.height() / 72 * 25.4) == 315
    second = pages.document.pagePointSize(1)
    assert round(second.width() / 72 * 25.4) == 210 and second.height() > 0
    assert pages.page_label.text() == f"第 1 / {expected} 页"
    assert not pages.previous_button.isEnabled() and dialog.print_button.isEnabled()
    qtbot.mouseClick(pages.next_button, Qt.MouseButton.LeftButton)
    assert pages.current_page() == 1 and pages.page_label.text() == f"第 2 / {expected} 页"
    pages.go_to(expected - 1)
    assert not pages.next_button.isEnabled()
    pages.go_to(0)
    before = pages.zoom()
    qtbot.mouseClick(pages.zoom_in_button, Qt.MouseButton.LeftButton)
    assert abs(pages.zoom() - before * 1.25) < 1e-6 and pages.zoom_label.text().endswith("%")
    qtbot.mouseClick(pages.fit_button, Qt.MouseButton.LeftButton)
    assert pages.view.zoomMode() == pages.view.ZoomMode.FitInView and pages.zoom_label.text() == ""
    assert "2 张发票" in dialog.status_label.text()
    assert "210" in dialog.paper_choice.itemText(0) and "240" not in dialog.paper_choice.itemText(0)
    qtbot.wait(200)
    shoot(dialog, "preview-full.png")

    # On A4: rendered again in the background, every page A4 landscape, the same page count.
    dialog.paper_choice.setCurrentIndex(dialog.paper_choice.findData("a4"))

    def on_a4() -> bool:
        rendered = dialog.rendered
        return rendered is not None and rendered.options.paper == "a4"

    qtbot.waitUntil(on_a4, timeout=20000)
    size = pages.document.pagePointSize(0)
    assert round(size.width() / 72 * 25.4) == 297 and round(size.height() / 72 * 25.4) == 210
    assert pages.page_count() == expected
    dialog.close()


def test_preview_says_which_invoices_will_print_as_copies(qtbot, seller, tmp_path):
    from app.services.printing import options_for, print_to_pdf

    issued = issue_invoice(invoice_body())
    print_to_pdf([issued.number], tmp_path / "first.pdf", options_for())
    dialog = PrintPreviewDialog([issued.number], PrintOptions())
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.rendered is not None, timeout=10000)
    assert dialog.rendered is not None and dialog.rendered.views[0].copy and "副本" in dialog.status_label.text()


def test_calibration_dialog_corrects_and_keeps_the_offset(qtbot, store):
    save_profile("", paper="invoice", offset_x_mm=1.0, offset_y_mm=0)
    dialog = CalibrationDialog("")
    qtbot.addWidget(dialog)
    assert dialog.offset_x.value() == 1.0 and dialog.measured_x.value() == 20.0
    assert (dialog.printer(), dialog.paper()) == ("", "invoice")
    # The cross meant for (20, 20) landed at (21.5, 19.0): move the print 1.5 mm left and 1 mm down.
    dialog.measured_x.setValue(21.5)
    dialog.measured_y.setValue(19.0)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert (dialog.offset_x.value(), dialog.offset_y.value()) == (-0.5, 1.0)
    dialog.paper_choice.setCurrentIndex(dialog.paper_choice.findData("a4"))
    assert dialog.nominal() == (48.5, 30.0)
    shoot(dialog, "calibration-dialog.png")
    dialog.save()
    profile = get_profile("")
    assert (profile.paper, profile.offset_x_mm, profile.offset_y_mm) == ("a4", -0.5, 1.0)


def test_main_window_print_menu_prints_the_selected_invoices(qtbot, store, seller, tmp_path):
    from pypdf import PdfReader
    from PySide6.QtCore import QItemSelectionModel
    from PySide6.QtPrintSupport import QPrinter

    from app.store.models import AuditEntry
    from app.ui.main_window import MainWindow
    from app.ui.print_actions import selected_numbers

    issued = issue_invoices([invoice_body(), invoice_body(), invoice_body()])
    window = MainWindow(store)
    qtbot.addWidget(window)
    window.refresh()
    actions = window.print_actions
    titles = [a.text() for a in window.print_menu.actions() if a.text()]
    assert titles[:2] == ["打印预览…", "打印…"] and "套打校准…" in titles
    selection = window.list_view.selectionModel()
    for row in (0, 2):
        selection.select(window.list_model.index(row, 0),
                         QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    numbers = selected_numbers(window)
    assert numbers == [issued[2].number, issued[0].number]  # newest first, as the list shows
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "batch.pdf"))
    job = actions.print_numbers(numbers, printer=printer)
    assert job is not None
    qtbot.waitUntil(lambda: job.ended, timeout=30000)
    assert job.error == "" and len(PdfReader(str(tmp_path / "batch.pdf")).pages) == 2
    assert AuditEntry.select().where(AuditEntry.action == "printed").count() == 2

    dialog = actions.preview(numbers)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.rendered is not None, timeout=10000)
    assert dialog.pages.page_count() == 2 and "2 张已打印过" in dialog.status_label.text()
    calibration = actions.calibrate()
    assert calibration.isVisible()
    calibration.close()
    dialog.close()

    from PySide6.QtWidgets import QPushButton
    detail = window.open_invoice(issued[1].number)
    preview_button = detail.findChild(QPushButton, "detail_print_preview")
    assert preview_button is not None
    preview_button.click()
    from_detail = actions.dialogs[-1]
    assert isinstance(from_detail, PrintPreviewDialog)
    qtbot.waitUntil(lambda: from_detail.rendered is not None, timeout=10000)
    assert from_detail.numbers == [issued[1].number] and from_detail.pages.page_count() == 1
    from_detail.close()
    detail.close()

"""Hooks printing into the main window: a 打印 menu with preview, print, batch print of the
selected invoices, save as PDF, the 套打 switch and calibration.

Every print goes through app.printing (the PDF) and app.services.printing_log (the audit entry);
slow work runs in a BackgroundTask (app/ui/tasks.py) with a progress dialog whose cancel button stops it.
The 套打 switch means paper 数电 invoices onto the tax bureau's pre-printed forms: those prints go through
app.services.paper_printing (each takes its sheet, with the printer's offset and scale; electronic invoices and
pre-issue records are refused there, saying why).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import QAbstractItemView, QDialog, QFileDialog, QMenu, QMessageBox

from app.ui.i18n import tr
from app.ui.tasks import BackgroundTask, Progress, Work, with_progress_dialog

if TYPE_CHECKING:
    from app.printing.document import PrintOptions
    from app.ui.calibration_dialog import CalibrationDialog
    from app.ui.invoice_detail import InvoiceDetail
    from app.ui.main_window import MainWindow
    from app.ui.print_jobs import RenderResult
    from app.ui.print_preview import PrintPreviewDialog

# The printing code (reportlab, QtPdf, the face) is imported when the clerk first prints, not at start: the
# window comes up sooner (issue 13), and a desk that never prints never loads it.

T = TypeVar("T")


def selected_numbers(window: MainWindow) -> list[str]:
    """The invoices selected in the list, top to bottom; the current one if none is selected."""
    view = window.list_view
    rows = sorted({index.row() for index in view.selectionModel().selectedRows()})
    numbers = []
    for row in rows:
        item = window.list_model.summary(row)
        if item is not None:
            numbers.append(item.number)
    current = window.selected_number()
    if not numbers and current:
        numbers.append(current)
    return numbers


class PrintActions:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.tasks: list[BackgroundTask[Any]] = []  # kept alive while they run
        self.dialogs: list[QDialog] = []
        # Batch printing needs more than one row selected; the rest of the window uses the current row.
        window.list_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

        menu = QMenu(tr("打印(&P)", "&Print"), window)
        menu.setObjectName("print_menu")
        window.menuBar().insertMenu(window.help_menu.menuAction(), menu)
        window.print_menu = menu
        self.menu = menu
        self.preview_action = QAction(tr("打印预览…", "Print preview…"), window)
        self.preview_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.preview_action.triggered.connect(lambda: self.preview())
        self.print_action = QAction(tr("打印…", "Print…"), window)
        self.print_action.setShortcut(QKeySequence.StandardKey.Print)
        self.print_action.triggered.connect(lambda: self.print_numbers())
        self.batch_action = QAction(tr("批量打印所选发票…", "Print selected invoices…"), window)
        self.batch_action.triggered.connect(lambda: self.print_numbers(selected_numbers(window)))
        self.save_action = QAction(tr("另存为 PDF…", "Save as PDF…"), window)
        self.save_action.triggered.connect(lambda: self.save_pdf())
        self.overlay_action = QAction(tr("套打纸质发票（预印发票纸）", "Paper invoices onto pre-printed forms"), window)
        self.overlay_action.setCheckable(True)
        self.overlay_action.setToolTip(tr("纸质数电发票打印在税务机关的纸质发票上，每张取用一张纸；电子发票用普通纸打印",
                                          "paper 数电 invoices onto the tax bureau's forms, one sheet each; "
                                          "electronic invoices print on plain paper"))
        self.calibrate_action = QAction(tr("套打校准…", "Overlay calibration…"), window)
        self.calibrate_action.triggered.connect(lambda: self.calibrate())
        for action in (self.preview_action, self.print_action, self.batch_action, self.save_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.overlay_action)
        menu.addAction(self.calibrate_action)
        menu.aboutToShow.connect(self._enable_for_selection)
        window.toolbar.addAction(self.print_action)
        # The toolbar and the shortcuts follow the selection too, not only the menu when it opens.
        window.list_view.selectionModel().selectionChanged.connect(lambda *_: self._enable_for_selection())
        window.list_view.selectionModel().currentChanged.connect(lambda *_: self._enable_for_selection())
        window.list_model.modelReset.connect(self._enable_for_selection)
        window.list_model.rowsInserted.connect(lambda *_: self._enable_for_selection())
        self._enable_for_selection()

    def add_detail_buttons(self, detail: InvoiceDetail) -> None:
        """打印预览… on an invoice's detail view (printing goes on from the preview)."""
        from PySide6.QtWidgets import QDialogButtonBox, QPushButton

        button = QPushButton(tr("打印预览…", "Print preview…"), detail)
        button.setObjectName("detail_print_preview")
        button.clicked.connect(lambda: self.preview([detail.number]))
        detail.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)

    def _enable_for_selection(self) -> None:
        count = len(selected_numbers(self.window))
        for action in (self.preview_action, self.print_action, self.save_action):
            action.setEnabled(count > 0)
        self.batch_action.setEnabled(count > 1)
        self.batch_action.setText(tr("批量打印所选发票（{count} 张）…", "Print selected invoices ({count})…",
                                     count=count))

    # --- options ------------------------------------------------------------------------------

    def options(self, printer_name: str | None = None) -> PrintOptions:
        """The printer's profile (paper) with the 套打 switch (layout `overlay`: onto forms, app.ui.print_jobs)."""
        from app.services.printing import options_for

        name = self.default_printer() if printer_name is None else printer_name
        return options_for(name, overlay=self.overlay_action.isChecked())

    @staticmethod
    def default_printer() -> str:
        return QPrinterInfo.defaultPrinterName() or ""

    def _numbers(self, numbers: Sequence[str] | None) -> list[str]:
        chosen = list(numbers) if numbers is not None else selected_numbers(self.window)
        if not chosen:
            QMessageBox.information(self.window, tr("打印", "Print"), tr("请先在列表中选择发票。",
                                                                       "Select invoices in the list first."))
        return chosen

    def _ask_printer(self, count: int) -> QPrinter | None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self.window)
        dialog.setWindowTitle(tr("打印 {count} 张发票", "Print {count} invoices", count=count))
        return printer if dialog.exec() == QDialog.DialogCode.Accepted else None

    def _start(self, work: Work[T], label: str, done_message: str) -> BackgroundTask[T]:
        task: BackgroundTask[T] = BackgroundTask(work, self.window)
        self.tasks.append(task)
        self.progress_dialog = with_progress_dialog(task, self.window, label, tr("打印", "Print"), "print_progress")
        task.on_success(lambda _: self.window.statusBar().showMessage(done_message, 10000))
        task.on_cancel(lambda: self.window.statusBar().showMessage(tr("已取消打印", "Printing cancelled"), 10000))
        task.on_failure(lambda message: QMessageBox.warning(self.window, tr("打印失败", "Printing failed"), message))
        task.on_finished(lambda: self.tasks.remove(task) if task in self.tasks else None)
        task.start()
        return task

    # --- actions ------------------------------------------------------------------------------

    def preview(self, numbers: Sequence[str] | None = None) -> PrintPreviewDialog | None:
        from app.ui.print_preview import PrintPreviewDialog

        chosen = self._numbers(numbers)
        if not chosen:
            return None
        dialog = PrintPreviewDialog(chosen, self.options(), self.window, printer_name=self.default_printer())
        dialog.print_button.clicked.connect(lambda: self.print_rendered(dialog))
        dialog.save_button.clicked.connect(lambda: self.save_pdf(dialog.numbers, options=dialog.options))
        dialog.finished.connect(lambda _: self.dialogs.remove(dialog) if dialog in self.dialogs else None)
        self.dialogs.append(dialog)
        dialog.show()
        return dialog

    def print_numbers(self, numbers: Sequence[str] | None = None,
                      printer: QPrinter | None = None) -> BackgroundTask[int] | None:
        """Print (or batch print) stored invoices as one print job, rendered in the background."""
        from app.ui.print_jobs import render_and_print_work

        chosen = self._numbers(numbers)
        if not chosen:
            return None
        printer = printer or self._ask_printer(len(chosen))
        if printer is None:
            return None
        options = self.options(printer.printerName())
        return self._start(render_and_print_work(chosen, options, printer),
                           tr("正在打印 {count} 张发票…", "Printing {count} invoices…", count=len(chosen)),
                           tr("已打印 {count} 张发票", "{count} invoices printed", count=len(chosen)))

    def print_rendered(self, dialog: PrintPreviewDialog,
                       printer: QPrinter | None = None) -> BackgroundTask[int] | None:
        """Print what the preview shows; rendered again if the chosen printer's profile differs."""
        from app.services.printing import options_for
        from app.ui.print_jobs import onto_forms, paper_print_work, printer_work, render_and_print_work

        rendered: RenderResult | None = dialog.rendered
        if rendered is None:
            return None
        printer = printer or self._ask_printer(len(rendered.views))
        if printer is None:
            return None
        count = len(rendered.views)
        label = tr("正在打印 {count} 张发票…", "Printing {count} invoices…", count=count)
        done = tr("已打印 {count} 张发票", "{count} invoices printed", count=count)
        if onto_forms(rendered.options):  # the preview took no sheet: the print takes them, with this printer's profile
            return self._start(paper_print_work(dialog.numbers, printer, printer.printerName() or ""), label, done)
        profile = options_for(printer.printerName() or "", paper=rendered.options.paper)
        if profile != rendered.options:
            return self._start(render_and_print_work(dialog.numbers, profile, printer), label, done)
        return self._start(printer_work(rendered, printer), label, done)

    def save_pdf(self, numbers: Sequence[str] | None = None, path: str | Path | None = None,
                 options: PrintOptions | None = None) -> BackgroundTask[Path] | None:
        from app.ui.print_jobs import pdf_file_work

        chosen = self._numbers(numbers)
        if not chosen:
            return None
        if path is None:
            suggested = f"{chosen[0]}.pdf" if len(chosen) == 1 else "发票.pdf"
            path, _ = QFileDialog.getSaveFileName(self.window, tr("另存为 PDF…", "Save as PDF…"), suggested,
                                                  "PDF (*.pdf)")
            if not path:
                return None
        return self._start(pdf_file_work(chosen, Path(path), options or self.options(),
                                         printer_name=self.default_printer()),
                           tr("正在生成 PDF…", "Writing the PDF…"), tr("已保存 {path}", "Saved {path}", path=path))

    def calibrate(self) -> CalibrationDialog:
        from app.ui.calibration_dialog import CalibrationDialog

        dialog = CalibrationDialog(QPrinterInfo.defaultPrinterName() or "", self.window)
        dialog.print_page_button.clicked.connect(
            lambda: self.print_calibration_page(dialog.printer(), dialog.paper(), dialog.offset_x.value(),
                                                dialog.offset_y.value(), scale_x=dialog.scale_x.value(),
                                                scale_y=dialog.scale_y.value()))
        dialog.finished.connect(lambda _: self.dialogs.remove(dialog) if dialog in self.dialogs else None)
        self.dialogs.append(dialog)
        dialog.show()
        return dialog

    def print_calibration_page(self, printer_name: str, paper: str, offset_x: float, offset_y: float,
                               printer: QPrinter | None = None, *, scale_x: float = 1.0,
                               scale_y: float = 1.0) -> BackgroundTask[int] | None:
        """The calibration page with the offset and the x/y scale shown in the dialog."""
        from app.printing.document import render_calibration
        from app.ui.print_jobs import print_pdf_pages

        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            if printer_name:
                printer.setPrinterName(printer_name)
            if QPrintDialog(printer, self.window).exec() != QDialog.DialogCode.Accepted:
                return None
        chosen_printer = printer

        def work(progress: Progress) -> int:
            page = render_calibration(paper, offset_x, offset_y, printer_name, scale_x, scale_y)
            return print_pdf_pages(page, chosen_printer, progress, paper)

        return self._start(work, tr("正在打印校准页…", "Printing the calibration page…"),
                           tr("已打印校准页", "Calibration page printed"))


def install(window: MainWindow) -> PrintActions:
    window.print_actions = PrintActions(window)
    return window.print_actions

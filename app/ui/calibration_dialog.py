"""Calibrating the overlay (套打) for one printer: print the calibration page, measure where a
cross landed, and keep the corrected offset in that printer's profile."""

from __future__ import annotations

from PySide6.QtPrintSupport import QPrinterInfo
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ValidationFailed
from app.printing.calibration import CROSSES, corrected_offset, nominal_on_paper
from app.printing.geometry import paper as paper_named
from app.services.printer_profiles import MAX_OFFSET_MM, get_profile, save_profile
from app.ui.i18n import language, tr


def _spin(parent: QWidget, name: str, low: float, high: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setObjectName(name)
    box.setDecimals(1)
    box.setSingleStep(0.1)
    box.setRange(low, high)
    box.setSuffix(" mm")
    return box


class CalibrationDialog(QDialog):
    """The print actions connect print_page_button to print the page with the values shown."""

    def __init__(self, printer: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("calibration_dialog")
        self.setWindowTitle(tr("套打校准", "Overlay calibration"))
        self.printer_choice = QComboBox(self)
        self.printer_choice.setObjectName("printer_choice")
        self.printer_choice.addItem(tr("默认（命令行和未设置的打印机）", "Default (command line, unset printers)"), "")
        for name in QPrinterInfo.availablePrinterNames():
            self.printer_choice.addItem(name, name)
        if printer and self.printer_choice.findData(printer) < 0:
            self.printer_choice.addItem(printer, printer)
        self.paper_choice = QComboBox(self)
        self.paper_choice.setObjectName("paper_choice")
        self.paper_choice.addItem(tr("发票纸 240×140 毫米", "Invoice 240×140 mm"), "invoice")
        self.paper_choice.addItem("A4", "a4")
        self.offset_x = _spin(self, "offset_x", -MAX_OFFSET_MM, MAX_OFFSET_MM)
        self.offset_y = _spin(self, "offset_y", -MAX_OFFSET_MM, MAX_OFFSET_MM)
        self.measured_x = _spin(self, "measured_x", 0, 300)
        self.measured_y = _spin(self, "measured_y", 0, 300)
        self.nominal_label = QLabel(self)
        self.nominal_label.setObjectName("nominal_label")
        self.print_page_button = QPushButton(tr("打印校准页…", "Print calibration page…"), self)
        self.print_page_button.setObjectName("print_calibration_page")
        self.apply_button = QPushButton(tr("按量得位置修正偏移", "Correct the offset from the measurement"), self)
        self.apply_button.setObjectName("apply_measurement")

        form = QFormLayout()
        form.addRow(tr("打印机", "Printer"), self.printer_choice)
        form.addRow(tr("纸张", "Paper"), self.paper_choice)
        form.addRow(tr("水平偏移（向右为正）", "Offset across (right +)"), self.offset_x)
        form.addRow(tr("垂直偏移（向下为正）", "Offset down (down +)"), self.offset_y)
        form.addRow(self.print_page_button)
        form.addRow(self.nominal_label)
        measured = QHBoxLayout()
        measured.addWidget(QLabel(tr("距左边", "from left")))
        measured.addWidget(self.measured_x)
        measured.addWidget(QLabel(tr("距上边", "from top")))
        measured.addWidget(self.measured_y)
        form.addRow(tr("量得位置", "Measured at"), measured)
        form.addRow(self.apply_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(tr("保存"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

        self.printer_choice.currentIndexChanged.connect(self._load_profile)
        self.paper_choice.currentIndexChanged.connect(self._show_nominal)
        self.apply_button.clicked.connect(self.apply_measurement)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.printer_choice.setCurrentIndex(max(0, self.printer_choice.findData(printer)))
        self._load_profile()

    def printer(self) -> str:
        return self.printer_choice.currentData()

    def paper(self) -> str:
        return self.paper_choice.currentData()

    def nominal(self) -> tuple[float, float]:
        """Where the top-left cross belongs on the sheet, in mm from its left and top edges."""
        return nominal_on_paper(paper_named(self.paper()), *CROSSES[0])

    def _load_profile(self) -> None:
        profile = get_profile(self.printer())
        self.paper_choice.setCurrentIndex(self.paper_choice.findData(profile.paper))
        self.offset_x.setValue(profile.offset_x_mm)
        self.offset_y.setValue(profile.offset_y_mm)
        self._show_nominal()

    def _show_nominal(self) -> None:
        x, y = self.nominal()
        self.nominal_label.setText(tr("量出左上角十字中心的位置（应在距左边 {x:g} 毫米、距上边 {y:g} 毫米处）：",
                                      "Measure the centre of the top-left cross (it belongs {x:g} mm from the left "
                                      "and {y:g} mm from the top):", x=x, y=y))
        self.measured_x.setValue(x)
        self.measured_y.setValue(y)

    def apply_measurement(self) -> None:
        x, y = corrected_offset((self.offset_x.value(), self.offset_y.value()), self.nominal(),
                                (self.measured_x.value(), self.measured_y.value()))
        self.offset_x.setValue(x)
        self.offset_y.setValue(y)
        self._show_nominal()

    def save(self) -> None:
        try:
            save_profile(self.printer(), paper=self.paper(), offset_x_mm=f"{self.offset_x.value():.1f}",
                         offset_y_mm=f"{self.offset_y.value():.1f}")
        except ValidationFailed as failed:
            QMessageBox.warning(self, tr("无法保存"), failed.describe(language()))
            return
        self.accept()

"""Calibrating the overlay (套打) for one printer: print the calibration page, measure where the crosses
landed, and keep the corrected offset and x/y scale in that printer's profile.

The top-left cross corrects the offset; the top-right cross (from the left edge) and the bottom-left cross
(from the top edge), when measured, correct the scale of each axis (app.printing.calibration). A far cross
left at 0 (shown as 未量) is not measured: that axis keeps its scale."""

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
from app.printing.calibration import (
    CROSSES,
    FAR_ACROSS,
    FAR_DOWN,
    NEAR,
    Calibration,
    corrected_calibration,
    nominal_on_paper,
)
from app.printing.geometry import paper as paper_named
from app.services.printer_profiles import MAX_OFFSET_MM, MAX_SCALE_CHANGE, get_profile, save_profile
from app.ui.i18n import language, tr


def _spin(parent: QWidget, name: str, low: float, high: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setObjectName(name)
    box.setDecimals(1)
    box.setSingleStep(0.1)
    box.setRange(low, high)
    box.setSuffix(" mm")
    return box


def _scale_spin(parent: QWidget, name: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setObjectName(name)
    box.setDecimals(4)
    box.setSingleStep(0.0005)
    change = float(MAX_SCALE_CHANGE)  # ok-float: a ratio shown in a spin box
    box.setRange(1 - change, 1 + change)
    box.setValue(1.0)
    return box


def _far_spin(parent: QWidget, name: str) -> QDoubleSpinBox:
    """A far cross's measurement: 0 (shown as 未量) means not measured."""
    box = _spin(parent, name, 0, 300)
    box.setSpecialValueText(tr("未量", "not measured"))
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
        self.scale_x = _scale_spin(self, "scale_x")
        self.scale_y = _scale_spin(self, "scale_y")
        self.measured_far_x = _far_spin(self, "measured_far_x")
        self.measured_far_y = _far_spin(self, "measured_far_y")
        self.far_label = QLabel(self)
        self.far_label.setObjectName("far_label")
        self.nominal_label = QLabel(self)
        self.nominal_label.setObjectName("nominal_label")
        self.print_page_button = QPushButton(tr("打印校准页…", "Print calibration page…"), self)
        self.print_page_button.setObjectName("print_calibration_page")
        self.apply_button = QPushButton(
            tr("按量得位置修正偏移和比例", "Correct the offset and scale from the measurement"), self)
        self.apply_button.setObjectName("apply_measurement")

        form = QFormLayout()
        form.addRow(tr("打印机", "Printer"), self.printer_choice)
        form.addRow(tr("纸张", "Paper"), self.paper_choice)
        form.addRow(tr("水平偏移（向右为正）", "Offset across (right +)"), self.offset_x)
        form.addRow(tr("垂直偏移（向下为正）", "Offset down (down +)"), self.offset_y)
        form.addRow(tr("水平比例", "Scale across"), self.scale_x)
        form.addRow(tr("垂直比例", "Scale down"), self.scale_y)
        form.addRow(self.print_page_button)
        form.addRow(self.nominal_label)
        measured = QHBoxLayout()
        measured.addWidget(QLabel(tr("距左边", "from left")))
        measured.addWidget(self.measured_x)
        measured.addWidget(QLabel(tr("距上边", "from top")))
        measured.addWidget(self.measured_y)
        form.addRow(tr("量得位置", "Measured at"), measured)
        form.addRow(self.far_label)
        far = QHBoxLayout()
        far.addWidget(QLabel(tr("右上角十字距左边", "top-right cross from left")))
        far.addWidget(self.measured_far_x)
        far.addWidget(QLabel(tr("左下角十字距上边", "bottom-left cross from top")))
        far.addWidget(self.measured_far_y)
        form.addRow(tr("比例（可选）", "Scale (optional)"), far)
        form.addRow(self.apply_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
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
        return nominal_on_paper(paper_named(self.paper()), *CROSSES[NEAR])

    def far_nominal(self) -> tuple[float, float]:
        """Where the top-right cross belongs from the left edge, and the bottom-left one from the top edge."""
        sheet = paper_named(self.paper())
        return nominal_on_paper(sheet, *CROSSES[FAR_ACROSS])[0], nominal_on_paper(sheet, *CROSSES[FAR_DOWN])[1]

    def calibration(self) -> Calibration:
        """The values shown (those the calibration page is printed with)."""
        return Calibration(self.offset_x.value(), self.offset_y.value(), self.scale_x.value(), self.scale_y.value())

    def _load_profile(self) -> None:
        profile = get_profile(self.printer())
        self.paper_choice.setCurrentIndex(self.paper_choice.findData(profile.paper))
        self.offset_x.setValue(profile.offset_x_mm)
        self.offset_y.setValue(profile.offset_y_mm)
        self.scale_x.setValue(profile.scale_x)
        self.scale_y.setValue(profile.scale_y)
        self._show_nominal()

    def _show_nominal(self) -> None:
        x, y = self.nominal()
        self.nominal_label.setText(tr("量出左上角十字中心的位置（应在距左边 {x:g} 毫米、距上边 {y:g} 毫米处）：",
                                      "Measure the centre of the top-left cross (it belongs {x:g} mm from the left "
                                      "and {y:g} mm from the top):", x=x, y=y))
        self.measured_x.setValue(x)
        self.measured_y.setValue(y)
        far_x, far_y = self.far_nominal()
        self.far_label.setText(tr("要修正伸缩比例，再量出右上角十字距左边（应为 {x:g} 毫米）"
                                  "和左下角十字距上边（应为 {y:g} 毫米）的位置：",
                                  "To correct the scale, measure the top-right cross from the left "
                                  "(it belongs at {x:g} mm) and the bottom-left cross from the top (at {y:g} mm):",
                                  x=far_x, y=far_y))
        self.measured_far_x.setValue(0)
        self.measured_far_y.setValue(0)

    def apply_measurement(self) -> None:
        """Correct the values shown from the crosses measured on a page printed with them."""
        nominal = self.nominal()
        far_x, far_y = self.far_nominal()
        measured_far_x, measured_far_y = self.measured_far_x.value(), self.measured_far_y.value()
        try:
            corrected = corrected_calibration(
                self.calibration(), nominal, (self.measured_x.value(), self.measured_y.value()),
                (far_x, measured_far_x) if measured_far_x > 0 else None,
                (far_y, measured_far_y) if measured_far_y > 0 else None)
        except ValueError:
            QMessageBox.warning(self, tr("无法修正"),
                                tr("两个十字的量得位置不能相同",
                                   "the two crosses cannot be measured at the same place"))
            return
        low, high = self.scale_x.minimum(), self.scale_x.maximum()
        for name, value in (("scale_x", corrected.scale_x), ("scale_y", corrected.scale_y)):
            if not low <= value <= high:
                QMessageBox.warning(self, tr("无法修正"), tr(
                    "{name}（比例）：量得位置算出的比例 {value:.4f} 超出 {low:.2f}–{high:.2f}，请重新测量",
                    "{name} (scale): the measurement gives {value:.4f}, outside {low:.2f}-{high:.2f}; measure again",
                    name=name, value=value, low=low, high=high))
                return
        self.offset_x.setValue(corrected.offset_x_mm)
        self.offset_y.setValue(corrected.offset_y_mm)
        self.scale_x.setValue(corrected.scale_x)
        self.scale_y.setValue(corrected.scale_y)
        self._show_nominal()

    def save(self) -> None:
        try:
            save_profile(self.printer(), paper=self.paper(), offset_x_mm=f"{self.offset_x.value():.1f}",
                         offset_y_mm=f"{self.offset_y.value():.1f}", scale_x=f"{self.scale_x.value():.4f}",
                         scale_y=f"{self.scale_y.value():.4f}")
        except ValidationFailed as failed:
            QMessageBox.warning(self, tr("无法保存"), failed.describe(language()))
            return
        self.accept()

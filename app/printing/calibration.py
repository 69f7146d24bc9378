"""The calibration page: crosses at known places of the overlay layout, printed with the
printer's current offset and scale, so a clerk can measure how far they land from where they should.

Offset: the clerk measures the top-left cross's centre from the left and top edges of the paper; the new
offset is the current one plus (nominal − measured) on each axis (the scale unchanged).

Scale (printers stretch: a feed roller a little worn prints 200 mm as 201): the clerk also measures the
top-right cross from the left edge and the bottom-left cross from the top edge, 200 and 100 mm away from the
top-left one. On each axis the printer turns a distance d of the page into k·d on paper, k = (measured
far − measured near) / (nominal far − nominal near) for the page printed with scale c; the corrected scale is
c / k and the offset is chosen so the near cross lands where it belongs.

Where a calibrated page puts a point (x, y) of the sheet (mm from its left and top edges): at
(offset_x + scale_x · x, offset_y + scale_y · y) on the page handed to the printer; the scale pivots on the
sheet's top-left corner. apply_calibration() sets that on a reportlab canvas.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.colors import black
from reportlab.pdfgen.canvas import Canvas

from app.printing.fonts import FIGURE_FONT, TEXT_FONT
from app.printing.geometry import MM, Paper
from app.printing.pen import Pen

CROSS_ARM = 5.0
# Nominal cross centres in mm from the invoice's top-left corner: near the corners and the middle.
CROSSES = ((20.0, 20.0), (220.0, 20.0), (120.0, 70.0), (20.0, 120.0), (220.0, 120.0))
NEAR, FAR_ACROSS, FAR_DOWN = 0, 1, 3  # the crosses measured: top-left, top-right (x), bottom-left (y)


@dataclass(frozen=True)
class Calibration:
    """One printer's correction: the page moves by the offset, and stretches by the scale about the sheet's
    top-left corner (1.0: as drawn)."""

    offset_x_mm: float = 0.0
    offset_y_mm: float = 0.0
    scale_x: float = 1.0
    scale_y: float = 1.0

    def place(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        """Where the point (x, y) of the sheet is drawn on the page, in mm from its left and top edges."""
        return self.offset_x_mm + self.scale_x * x_mm, self.offset_y_mm + self.scale_y * y_mm


def apply_calibration(canvas: Canvas, page_height_mm: float, calibration: Calibration) -> None:
    """Transform the canvas so that whatever is drawn next at sheet position (x, y) lands at calibration.place(x, y).
    Call between saveState() and restoreState()."""
    sx, sy = calibration.scale_x, calibration.scale_y
    canvas.transform(sx, 0, 0, sy, calibration.offset_x_mm * MM,
                     (page_height_mm * (1 - sy) - calibration.offset_y_mm) * MM)


def draw_calibration(canvas: Canvas, paper: Paper, offset_x_mm: float, offset_y_mm: float, printer: str,
                     scale_x: float = 1.0, scale_y: float = 1.0) -> None:
    calibration = Calibration(offset_x_mm, offset_y_mm, scale_x, scale_y)
    canvas.saveState()
    apply_calibration(canvas, paper.height_mm, calibration)
    pen = Pen(canvas, paper.height_mm, paper.form_left_mm, paper.form_top_mm)
    canvas.saveState()
    canvas.setStrokeColor(black)
    canvas.setLineWidth(0.3)
    for x, y in CROSSES:
        pen.hline(x - CROSS_ARM, x + CROSS_ARM, y)
        pen.vline(x, y - CROSS_ARM, y + CROSS_ARM)
        canvas.circle(pen.px(x), pen.py(y), 1.5 * 2.835, stroke=1, fill=0)
    # A millimetre ruler along the top, to check the printer's scale as well.
    for tick in range(30, 211):
        length = 3.0 if tick % 10 == 0 else (2.0 if tick % 5 == 0 else 1.0)
        pen.vline(tick, 40.0, 40.0 + length)
    pen.hline(30, 210, 40.0)
    canvas.restoreState()
    pen.begin_text()
    for x, y in CROSSES:
        nominal = nominal_on_paper(paper, x, y)
        pen.text(x + 1.5, y - 1.5, f"({nominal[0]:g}, {nominal[1]:g})", FIGURE_FONT, 6.5)
    for mark in range(30, 211, 10):
        pen.text(mark, 46.0, str(mark), FIGURE_FONT, 5.5, "centre")
    pen.text(120.0, 30.0, "套打校准页", TEXT_FONT, 14.0, "centre")
    lines = [
        f"打印机：{printer or '默认'}    纸张：{paper.name}    "
        f"当前偏移：X {offset_x_mm:+.1f} mm，Y {offset_y_mm:+.1f} mm    比例：X {scale_x:.4f}，Y {scale_y:.4f}",
        "用尺量出左上角十字中心到纸张左边缘和上边缘的距离（毫米），填入校准对话框；",
        "括号内是应有的位置。偏移量 = 当前偏移 + (应有位置 − 量得位置)。",
        "再量出右上角十字到左边缘、左下角十字到上边缘的距离，即可修正打印机的伸缩比例。",
    ]
    for index, line in enumerate(lines):
        pen.text(120.0, 88.0 + index * 5.0, line, TEXT_FONT, 8.0, "centre")
    pen.end_text()
    canvas.restoreState()


def nominal_on_paper(paper: Paper, x: float, y: float) -> tuple[float, float]:
    """Where a cross belongs, measured from the sheet's left and top edges."""
    return paper.form_left_mm + x, paper.form_top_mm + y


def corrected_offset(current: tuple[float, float], nominal: tuple[float, float],
                     measured: tuple[float, float]) -> tuple[float, float]:
    """The offset that puts a cross measured at `measured` where it belongs (one cross, the scale at 1)."""
    return (round(current[0] + nominal[0] - measured[0], 1), round(current[1] + nominal[1] - measured[1], 1))


def corrected_axis(offset: float, scale: float, near: tuple[float, float],
                   far: tuple[float, float] | None) -> tuple[float, float]:
    """(offset, scale) on one axis from the near cross's (nominal, measured) and, when measured, the far one's.
    Without the far cross the scale stays and the offset moves the near cross where it belongs.

    Raises ValueError when the two crosses are not apart (nominal or measured), which no real page gives."""
    nominal_near, measured_near = near
    if far is None:
        k = 1.0
    else:
        nominal_far, measured_far = far
        if nominal_far == nominal_near or measured_far == measured_near:
            raise ValueError("the two crosses must be apart")
        k = (measured_far - measured_near) / (nominal_far - nominal_near)
    new_scale = scale / k
    # The near cross was drawn at p = offset + scale·N and landed at m = a + s·p with s = k / scale.
    new_offset = offset + scale * nominal_near - measured_near * scale / k
    return round(new_offset, 1), round(new_scale, 4)


def corrected_calibration(current: Calibration, near_nominal: tuple[float, float],
                          near_measured: tuple[float, float], far_x: tuple[float, float] | None = None,
                          far_y: tuple[float, float] | None = None) -> Calibration:
    """The calibration that puts the crosses where they belong. near_*: the top-left cross (x, y) on the sheet;
    far_x: (nominal, measured) distance from the left edge of the top-right cross; far_y: (nominal, measured)
    distance from the top edge of the bottom-left cross; either None when not measured (its scale stays)."""
    ox, sx = corrected_axis(current.offset_x_mm, current.scale_x, (near_nominal[0], near_measured[0]), far_x)
    oy, sy = corrected_axis(current.offset_y_mm, current.scale_y, (near_nominal[1], near_measured[1]), far_y)
    return Calibration(ox, oy, sx, sy)

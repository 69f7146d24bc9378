"""The calibration page: crosses at known places of the overlay layout, printed with the
printer's current offset, so a clerk can measure how far they land from where they should.

The clerk measures each cross centre from the left and top edges of the paper; the new
offset is the current one plus (nominal − measured) on each axis, averaged over the crosses.
"""

from __future__ import annotations

from reportlab.lib.colors import black

from app.printing.fonts import FIGURE_FONT, TEXT_FONT
from app.printing.geometry import Paper
from app.printing.pen import Pen

CROSS_ARM = 5.0
# Nominal cross centres in mm from the invoice's top-left corner: near the corners and the middle.
CROSSES = ((20.0, 20.0), (220.0, 20.0), (120.0, 70.0), (20.0, 120.0), (220.0, 120.0))


def draw_calibration(canvas, paper: Paper, offset_x_mm: float, offset_y_mm: float, printer: str) -> None:
    pen = Pen(canvas, paper.height_mm, paper.form_left_mm + offset_x_mm, paper.form_top_mm + offset_y_mm)
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
        f"当前偏移：X {offset_x_mm:+.1f} mm，Y {offset_y_mm:+.1f} mm",
        "用尺量出每个十字中心到纸张左边缘和上边缘的距离（毫米），填入校准对话框；",
        "括号内是应有的位置。偏移量 = 当前偏移 + (应有位置 − 量得位置)。",
    ]
    for index, line in enumerate(lines):
        pen.text(120.0, 88.0 + index * 5.0, line, TEXT_FONT, 8.0, "centre")
    pen.end_text()


def nominal_on_paper(paper: Paper, x: float, y: float) -> tuple[float, float]:
    """Where a cross belongs, measured from the sheet's left and top edges."""
    return paper.form_left_mm + x, paper.form_top_mm + y


def corrected_offset(current: tuple[float, float], nominal: tuple[float, float],
                     measured: tuple[float, float]) -> tuple[float, float]:
    """The offset that puts a cross measured at `measured` where it belongs (one cross)."""
    return (round(current[0] + nominal[0] - measured[0], 1), round(current[1] + nominal[1] - measured[1], 1))

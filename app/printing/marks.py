"""The marks a paper invoice may carry besides its data: offline (离线开具 待上传, with the
QR code), copy (副本), red-letter (销项负数) and cancelled (作废)."""

from __future__ import annotations

from reportlab.lib.colors import Color

from app.printing import layout as L
from app.printing.fonts import FIGURE_FONT, TEXT_FONT
from app.printing.geometry import MM
from app.printing.pen import Pen, width_mm
from app.printing.qr import draw_qr
from app.printing.view import PrintView

MARK_RED = Color(0.82, 0.06, 0.06)
OFFLINE_MARK = "离线开具 待上传"
COPY_MARK = "副本"
RED_LETTER_MARK = "销项负数"
CANCELLED_MARK = "作废"


def draw_face_marks_text(pen: Pen, view: PrintView) -> None:
    """Marks set as text; call between pen.begin_text() and pen.end_text()."""
    area = L.CODE_AREA
    if view.invoice.is_red_letter:
        pen.text(area.x + 1, area.y + 4.0, RED_LETTER_MARK, TEXT_FONT, 9.0, "left", MARK_RED)
    if not view.accepted:
        pen.text(area.x + area.w / 2, area.y + 10.0, OFFLINE_MARK, TEXT_FONT, 14.0, "centre", MARK_RED)
        pen.text(area.x + area.w / 2, area.y + 15.0, f"临时号码 {view.invoice.number}  内容校验 {view.short_hash}",
                 FIGURE_FONT, 6.5, "centre", MARK_RED)
    if view.copy:
        x, y = L.COPY_MARK_AT
        pen.text(x, y + 1.8, COPY_MARK, TEXT_FONT, 14.0, "centre", MARK_RED)


def draw_face_marks_graphics(pen: Pen, view: PrintView) -> None:
    """Marks drawn as graphics (QR code, boxes, the cancelled stamp); outside a text object."""
    if not view.accepted:
        box = L.QR_BOX
        draw_qr(pen, view.qr_payload(), box.x, box.y, box.w)
    canvas = pen.canvas
    if view.copy:
        x, y = L.COPY_MARK_AT
        w = width_mm(COPY_MARK, TEXT_FONT, 14.0) + 4
        canvas.saveState()
        canvas.setStrokeColor(MARK_RED)
        canvas.setLineWidth(1.2)
        pen.rect(x - w / 2, y - 4.2, w, 8.0)
        canvas.restoreState()
    if view.cancelled:
        draw_cancelled_stamp(pen, 120.0, 70.0)


def draw_cancelled_stamp(pen: Pen, x_mm: float, y_mm: float) -> None:
    """作废 in a red frame across the middle, tilted like a rubber stamp."""
    canvas = pen.canvas
    canvas.saveState()
    canvas.translate(pen.px(x_mm), pen.py(y_mm))
    canvas.rotate(15)
    canvas.setStrokeColor(MARK_RED)
    canvas.setFillColor(MARK_RED)
    canvas.setLineWidth(2.5)
    w, h = 60 * MM, 24 * MM
    canvas.rect(-w / 2, -h / 2, w, h, stroke=1, fill=0)
    canvas.setFont(TEXT_FONT, 44)
    canvas.drawCentredString(0, -15, CANCELLED_MARK)
    canvas.restoreState()

"""The marks a paper invoice may carry besides its data: offline (离线开具 待上传, with the
QR code), copy (副本), red-letter (销项负数) and cancelled (作废); and the marks of a pre-issue
record (预开单), which is not an invoice: its banner in place of the invoice title, and its
not-an-invoice mark repeated diagonally across the page."""

from __future__ import annotations

from functools import cache

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.colors import Color
from reportlab.lib.utils import ImageReader

from app.base.resources import cjk_font_path
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
# A pre-issue record (预开单) is not an invoice: these say so where an invoice has its title and number.
PRE_ISSUE_TITLE = "预开单（非发票）"
PRE_ISSUE_SUBTITLE = "平台恢复后开具正式发票"
PRE_ISSUE_ENGLISH = "Pre-issue record — NOT AN INVOICE"
PRE_ISSUE_NUMBER_LABEL = "预开单号："
PRE_ISSUE_WATERMARK = "预开单 非发票 NOT AN INVOICE"
PRE_ISSUE_COPY_LABEL = "预开单（非发票）不得作为发票使用"  # in place of the copy strip 第二联：发票联


def draw_face_marks_text(pen: Pen, view: PrintView) -> None:
    """Marks set as text; call between pen.begin_text() and pen.end_text()."""
    area = L.CODE_AREA
    if view.invoice.is_red_letter:
        pen.text(area.x + 1, area.y + 4.0, RED_LETTER_MARK, TEXT_FONT, 9.0, "left", MARK_RED)
    if view.pre_issue:
        pen.text(area.x + area.w / 2, area.y + 8.0, PRE_ISSUE_TITLE, TEXT_FONT, 13.0, "centre", MARK_RED)
        pen.text(area.x + area.w / 2, area.y + 12.5, PRE_ISSUE_SUBTITLE, TEXT_FONT, 7.5, "centre", MARK_RED)
        pen.text(area.x + area.w / 2, area.y + 16.0, f"预开单号 {view.invoice.number}  内容校验 {view.short_hash}",
                 FIGURE_FONT, 6.5, "centre", MARK_RED)
    elif not view.accepted:
        pen.text(area.x + area.w / 2, area.y + 10.0, OFFLINE_MARK, TEXT_FONT, 14.0, "centre", MARK_RED)
        pen.text(area.x + area.w / 2, area.y + 15.0, f"发票号码 {view.invoice.number}  内容校验 {view.short_hash}",
                 FIGURE_FONT, 6.5, "centre", MARK_RED)
    if view.copy:
        x, y = L.COPY_MARK_AT
        pen.text(x, y + 1.8, COPY_MARK, TEXT_FONT, 14.0, "centre", MARK_RED)


def draw_face_marks_graphics(pen: Pen, view: PrintView) -> None:
    """Marks drawn as graphics (QR code, boxes, the cancelled stamp); outside a text object.

    A pre-issue record gets no QR code: it is not an invoice, and its paper must not carry one."""
    if not view.accepted and not view.pre_issue:
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


def draw_pre_issue_banner(pen: Pen, centre_x: float, top: float) -> None:
    """The banner in place of an invoice's title: 预开单（非发票）, the promise, the English. In a text object."""
    pen.text(centre_x, top, PRE_ISSUE_TITLE, TEXT_FONT, 16.0, "centre", MARK_RED)
    pen.text(centre_x, top + 5.5, f"· {PRE_ISSUE_SUBTITLE} ·", TEXT_FONT, 8.5, "centre", MARK_RED)
    pen.text(centre_x, top + 9.5, PRE_ISSUE_ENGLISH, TEXT_FONT, 8.0, "centre", MARK_RED)


WATERMARK_DPI = 96
WATERMARK_SIZE_PT = 15.0
WATERMARK_ANGLE = 25.0
WATERMARK_RGBA = (209, 15, 15, 46)  # MARK_RED, faint: the data stays readable through it


@cache
def _watermark(width_mm_: float, height_mm_: float) -> ImageReader:
    """预开单 非发票 NOT AN INVOICE on diagonal rows, as a transparent image of the area.

    An image, not text: rotated text in the page would be read back (pdftotext, copy and paste, a screen reader)
    in among the data, letter by letter; the banner and the marks say the same words as text."""
    px = WATERMARK_DPI / 25.4
    width, height = round(width_mm_ * px), round(height_mm_ * px)
    side = int((width ** 2 + height ** 2) ** 0.5) + 4
    font = ImageFont.truetype(str(cjk_font_path()), size=round(WATERMARK_SIZE_PT / 72 * WATERMARK_DPI), index=0)
    step_x = round(font.getlength(PRE_ISSUE_WATERMARK) + 18 * px)
    step_y = round(26 * px)
    alpha = Image.new("L", (side, side), 0)  # the shapes are in the alpha only: the colour is one, and compresses away
    draw = ImageDraw.Draw(alpha)
    for row, y in enumerate(range(0, side, step_y)):
        for x in range(-(row % 2) * step_x // 2, side, step_x):
            draw.text((x, y), PRE_ISSUE_WATERMARK, font=font, fill=WATERMARK_RGBA[3])
    left, top = (side - width) // 2, (side - height) // 2
    alpha = alpha.rotate(WATERMARK_ANGLE, resample=Image.Resampling.BICUBIC)
    alpha = alpha.crop((left, top, left + width, top + height))
    image = Image.new("RGBA", (width, height), WATERMARK_RGBA)
    image.putalpha(alpha)
    return ImageReader(image)


def draw_pre_issue_watermark(pen: Pen, width_mm_: float, height_mm_: float) -> None:
    """The not-an-invoice mark repeated diagonally over the whole area (x 0..width, y 0..height mm from the
    pen's origin). The same image on every page: the PDF holds it once. Outside a text object."""
    pen.canvas.drawImage(_watermark(width_mm_, height_mm_), pen.px(0), pen.py(height_mm_), width_mm_ * MM,
                         height_mm_ * MM, mask="auto")

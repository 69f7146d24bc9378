"""Marks a print may carry besides its data: copy (副本), cancelled (作废, legacy invoices only: an electronic
数电 invoice is never cancelled), the red invoice's watermark, and the not-an-invoice mark of a pre-issue
record (预开单) repeated diagonally across its slip.

Watermarks are images, not text: rotated text in the page would be read back (pdftotext, copy and paste, a
screen reader) in among the data, letter by letter. One image per size and kind: the PDF stores it once.
"""

from __future__ import annotations

from functools import cache

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.colors import Color
from reportlab.lib.utils import ImageReader

from app.base.resources import cjk_font_path
from app.printing.fonts import TEXT_FONT
from app.printing.geometry import MM
from app.printing.pen import Pen

MARK_RED = Color(0.82, 0.06, 0.06)
COPY_MARK = "副本"
CANCELLED_MARK = "作废"
PRE_ISSUE_WATERMARK = "预开单 非发票 NOT AN INVOICE"
RED_WATERMARK = "红字发票"

WATERMARK_DPI = 96
WATERMARK_SIZE_PT = 15.0
WATERMARK_ANGLE = 25.0
PRE_ISSUE_RGBA = (209, 15, 15, 46)  # MARK_RED, faint: the data stays readable through it
RED_RGBA = (200, 40, 40, 30)


def draw_cancelled_stamp(pen: Pen, x_mm: float, y_mm: float) -> None:
    """作废 in a red frame, tilted like a rubber stamp, centred at (x_mm, y_mm). Outside a text object."""
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


@cache
def _watermark(text: str, rgba: tuple[int, int, int, int], width_mm_: float, height_mm_: float) -> ImageReader:
    """text on diagonal rows over the area, as a transparent image."""
    px = WATERMARK_DPI / 25.4
    width, height = round(width_mm_ * px), round(height_mm_ * px)
    side = int((width ** 2 + height ** 2) ** 0.5) + 4
    font = ImageFont.truetype(str(cjk_font_path()), size=round(WATERMARK_SIZE_PT / 72 * WATERMARK_DPI), index=0)
    step_x = round(font.getlength(text) + 18 * px)
    step_y = round(26 * px)
    alpha = Image.new("L", (side, side), 0)  # the shapes are in the alpha only: the colour is one, and compresses away
    draw = ImageDraw.Draw(alpha)
    for row, y in enumerate(range(0, side, step_y)):
        for x in range(-(row % 2) * step_x // 2, side, step_x):
            draw.text((x, y), text, font=font, fill=rgba[3])
    left, top = (side - width) // 2, (side - height) // 2
    alpha = alpha.rotate(WATERMARK_ANGLE, resample=Image.Resampling.BICUBIC)
    alpha = alpha.crop((left, top, left + width, top + height))
    image = Image.new("RGBA", (width, height), rgba)
    image.putalpha(alpha)
    return ImageReader(image)


def _draw_watermark(pen: Pen, text: str, rgba: tuple[int, int, int, int], width_mm_: float,
                    height_mm_: float) -> None:
    pen.canvas.drawImage(_watermark(text, rgba, width_mm_, height_mm_), pen.px(0), pen.py(height_mm_),
                         width_mm_ * MM, height_mm_ * MM, mask="auto")


def draw_pre_issue_watermark(pen: Pen, width_mm_: float, height_mm_: float) -> None:
    """The not-an-invoice mark over the whole area (x 0..width, y 0..height mm from the pen's origin)."""
    _draw_watermark(pen, PRE_ISSUE_WATERMARK, PRE_ISSUE_RGBA, width_mm_, height_mm_)


def draw_red_watermark(pen: Pen, width_mm_: float, height_mm_: float) -> None:
    """A red invoice's watermark: 红字发票 on diagonal rows, faint, under the data."""
    _draw_watermark(pen, RED_WATERMARK, RED_RGBA, width_mm_, height_mm_)

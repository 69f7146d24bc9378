"""Text and lines placed in millimetres from the invoice's top-left corner.

All text of one page layer goes into one PDF text object (BT … ET): far cheaper in
reportlab than a drawString per field, which is what keeps batch printing fast.
"""

from __future__ import annotations

from functools import lru_cache

from reportlab.lib.colors import Color, black
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from app.printing.geometry import MM


@lru_cache(maxsize=65536)
def width_mm(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font, size) / MM


class Pen:
    def __init__(self, canvas: Canvas, page_height_mm: float, left_mm: float, top_mm: float) -> None:
        self.canvas = canvas
        self._left = left_mm * MM
        self._top = (page_height_mm - top_mm) * MM
        self._text: PDFTextObject | None = None
        self._font: tuple[str, float] | None = None
        self._color: Color | None = None

    def px(self, x_mm: float) -> float:
        return self._left + x_mm * MM

    def py(self, y_mm: float) -> float:
        return self._top - y_mm * MM

    # --- text ----------------------------------------------------------------------------
    def begin_text(self) -> None:
        self._text = text = self.canvas.beginText()
        self._font = None
        self._color = black
        text.setFillColor(black)

    def end_text(self) -> None:
        if self._text is not None:
            self.canvas.drawText(self._text)
            self._text = None

    def text(self, x_mm: float, y_mm: float, text: str, font: str, size: float, align: str = "left",
             color: Color | None = None) -> None:
        """y_mm is the baseline; align left, right (x is the right edge) or centre (x is the middle)."""
        if not text:
            return
        t = self._text
        if t is None:
            raise RuntimeError("Pen.text() outside begin_text()/end_text()")
        if self._font != (font, size):
            t.setFont(font, size)
            self._font = (font, size)
        wanted = color or black
        if wanted is not self._color:
            t.setFillColor(wanted)
            self._color = wanted
        if align == "right":
            x_mm -= width_mm(text, font, size)
        elif align == "centre":
            x_mm -= width_mm(text, font, size) / 2
        t.setTextOrigin(self._left + x_mm * MM, self._top - y_mm * MM)
        t.textOut(text)

    # --- lines ---------------------------------------------------------------------------
    def hline(self, x0: float, x1: float, y: float) -> None:
        self.canvas.line(self.px(x0), self.py(y), self.px(x1), self.py(y))

    def vline(self, x: float, y0: float, y1: float) -> None:
        self.canvas.line(self.px(x), self.py(y0), self.px(x), self.py(y1))

    def rect(self, x: float, y: float, w: float, h: float, fill: bool = False, stroke: bool = True) -> None:
        self.canvas.rect(self.px(x), self.py(y + h), w * MM, h * MM, stroke=int(stroke), fill=int(fill))

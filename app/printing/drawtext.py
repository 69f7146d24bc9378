"""One PDF text object (BT … ET) of many runs, written as raw operators: what app.printing.pen's Pen.text draws,
at a fraction of the cost.

reportlab's PDFTextObject formats every number through its pure-Python fp_str, re-encodes and escapes every
string each time it is drawn and re-states the leading with each font change. Here each run is its position
(one `Tm`), the font's subset and size when they change (`Tf`), the colour when it changes (`rg`) and the
string (`Tj`). Strings are encoded the way reportlab documents for its TrueType fonts ("roll your own":
font.splitString(text, doc), font.getSubsetInternalName(subset, doc), the PDF escape), so the subsets and
their embedding stay reportlab's; the encoded form of each (font, text) is kept per document, as the subset
codes are the document's: labels, the seller, item names, units and rates are encoded once per batch.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from reportlab.lib.colors import Color, black
from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfmetrics

from app.printing.geometry import MM
from app.printing.pen import Pen, width_mm

_encoded: WeakKeyDictionary = WeakKeyDictionary()  # PDFDocument -> {(font, text): ((subset name, escaped), ...)}
_colours: dict[tuple[float, float, float], str] = {}


def _encode(doc, font: str, text: str) -> tuple[tuple[str, str], ...]:
    try:
        cache = _encoded[doc]
    except KeyError:
        cache = _encoded[doc] = {}
    key = (font, text)
    found = cache.get(key)
    if found is None:
        face = pdfmetrics.getFont(font)
        found = cache[key] = tuple((face.getSubsetInternalName(subset, doc), escapePDF(chunk))
                                   for subset, chunk in face.splitString(text, doc))
    return found


def _number(x: float) -> str:
    """A coordinate as reportlab's fp_str writes it: six significant digits or so, no trailing zeros."""
    a = abs(x)
    digits = 6 if a < 10 else 5 if a < 100 else 4 if a < 1000 else 3
    text = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-", "-0") else "0"


def _colour(color: Color) -> str:
    rgb = (color.red, color.green, color.blue)
    op = _colours.get(rgb)
    if op is None:
        op = _colours[rgb] = " ".join(f"{c:.4f}".rstrip("0").rstrip(".") or "0" for c in rgb) + " rg"
    return op


class TextWriter:
    """Text placed like Pen.text (mm from the pen's top-left corner, y the baseline), gathered into one text
    object that finish() adds to the pen's canvas. Starts in black, like Pen.begin_text()."""

    __slots__ = ("_color", "_doc", "_font", "_left", "_ops", "_top", "canvas")

    def __init__(self, pen: Pen) -> None:
        self.canvas = pen.canvas
        self._doc = pen.canvas._doc
        self._left = pen.px(0.0)
        self._top = pen.py(0.0)
        self._ops = ["BT", _colour(black)]
        self._font: tuple[str, float] | None = None
        self._color: Color | None = black

    def text(self, x_mm: float, y_mm: float, text: str, font: str, size: float, align: str = "left",
             color: Color | None = None) -> None:
        """y_mm is the baseline; align left, right (x is the right edge) or centre (x is the middle)."""
        if not text:
            return
        ops = self._ops
        wanted = color or black
        if wanted is not self._color:
            ops.append(_colour(wanted))
            self._color = wanted
        if align == "right":
            x_mm -= width_mm(text, font, size)
        elif align == "centre":
            x_mm -= width_mm(text, font, size) / 2
        ops.append(f"1 0 0 1 {_number(self._left + x_mm * MM)} {_number(self._top - y_mm * MM)} Tm")
        current = self._font
        for name, escaped in _encode(self._doc, font, text):
            if current != (name, size):
                current = (name, size)
                ops.append(f"{name} {size:g} Tf")
            ops.append(f"({escaped}) Tj")
        self._font = current

    def finish(self) -> None:
        if len(self._ops) > 2:
            self._ops.append("ET")
            self.canvas.addLiteral(" ".join(self._ops))
        self._ops = ["BT", _colour(black)]
        self._font = None
        self._color = black

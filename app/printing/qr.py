"""QR codes drawn as one filled path of rectangles.

reportlab's encoder tries all eight mask patterns and scores each (about 5 ms a code,
more than the rest of an invoice); any mask gives a valid, readable code, so we use one
fixed mask and write the modules as raw path operators (one `re` per dark run).
"""

from __future__ import annotations

from reportlab.graphics.barcode import qrencoder

from app.printing.geometry import MM

FIXED_MASK = 2  # a valid mask pattern (ISO/IEC 18004 §7.8); choosing the best one is optional
QUIET_MODULES = 2  # the quiet zone the box keeps around the code, in modules


class _FixedMaskQRCode(qrencoder.QRCode):
    def make(self):
        if self.version is None:
            self.version = self.calculate_version()
        self.makeImpl(False, FIXED_MASK)


def qr_modules(data: str, level: str = "M") -> list[list[bool]]:
    """The module matrix (True = dark) of a QR code holding data."""
    code = _FixedMaskQRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    code.addData(data)
    code.make()
    return [[bool(m) for m in row] for row in code.modules]


def draw_qr(pen, data: str, x_mm: float, y_mm: float, size_mm: float) -> None:
    """The code fills a size_mm square whose top-left corner is at (x_mm, y_mm)."""
    modules = qr_modules(data)
    count = len(modules) + 2 * QUIET_MODULES
    cell = size_mm * MM / count
    left = pen.px(x_mm) + QUIET_MODULES * cell
    top = pen.py(y_mm) - QUIET_MODULES * cell
    ops = []
    for r, row in enumerate(modules):
        y = top - (r + 1) * cell
        c = 0
        n = len(row)
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                ops.append(f"{left + start * cell:.2f} {y:.2f} {(c - start) * cell:.2f} {cell * 1.02:.2f} re")
            else:
                c += 1
    canvas = pen.canvas
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.addLiteral("\n".join(ops) + "\nf")
    canvas.restoreState()

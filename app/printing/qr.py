"""QR codes drawn as one filled path of rectangles.

reportlab's encoder (pure Python) takes about 5 ms a code, more than all the rest of an
invoice: it tries all eight mask patterns and scores each, and rebuilds the Reed-Solomon
generator polynomial by slow polynomial arithmetic every time. Any mask gives a valid,
readable code, so we use one fixed mask, and compute the error correction bytes with
log/antilog tables and cached generators; the result is the same matrix reportlab makes
with that mask (a test checks it). The modules are written as raw path operators.
"""

from __future__ import annotations

import itertools
from functools import cache

from reportlab.graphics.barcode import qrencoder

from app.printing.geometry import MM

FIXED_MASK = 2  # a valid mask pattern (ISO/IEC 18004 §7.8); choosing the best one is optional
QUIET_MODULES = 2  # the quiet zone the box keeps around the code, in modules


_EXP = qrencoder.EXP_TABLE  # GF(256) antilogarithms, as the QR standard defines the field
_LOG = qrencoder.LOG_TABLE


@cache
def _generator_logs(ec_count: int) -> tuple[int, ...]:
    """Logs of the generator polynomial's coefficients after the leading 1."""
    poly = qrencoder.QRUtil.getErrorCorrectPolynomial(ec_count)
    return tuple(_LOG[poly.get(i)] for i in range(1, poly.getLength()))


def _ec_bytes(data: list[int], ec_count: int) -> list[int]:
    """The remainder of data·x^ec divided by the generator (polynomial long division in GF(256))."""
    gen = _generator_logs(ec_count)
    rest = list(data) + [0] * ec_count
    for i in range(len(data)):
        coef = rest[i]
        if coef:
            lc = _LOG[coef]
            for j, g in enumerate(gen, start=i + 1):
                rest[j] ^= _EXP[(lc + g) % 255]
    return rest[len(data):]


def _create_data(version: int, level: int, data_list) -> list[int]:
    """reportlab's QRCode.createData with the fast error correction above."""
    blocks = qrencoder.QRRSBlock.getRSBlocks(version, level)
    buffer = qrencoder.QRBitBuffer()
    for data in data_list:
        data.write(buffer, version)
    capacity = sum(block.dataCount for block in blocks) * 8
    if buffer.getLengthInBits() > capacity:
        raise ValueError("too much data for a QR code")
    if buffer.getLengthInBits() + 4 <= capacity:
        buffer.put(0, 4)
    while buffer.getLengthInBits() % 8:
        buffer.putBit(False)
    pads = itertools.cycle((qrencoder.QRCode.PAD0, qrencoder.QRCode.PAD1))
    while buffer.getLengthInBits() < capacity:
        buffer.put(next(pads), 8)
    offset = 0
    dcdata, ecdata = [], []
    for block in blocks:
        chunk = buffer.buffer[offset:offset + block.dataCount]
        offset += block.dataCount
        dcdata.append(chunk)
        ecdata.append(_ec_bytes(chunk, block.totalCount - block.dataCount))
    return [d for group in itertools.chain(itertools.zip_longest(*dcdata), itertools.zip_longest(*ecdata))
            for d in group if d is not None]


class _FixedMaskQRCode(qrencoder.QRCode):
    version: int | None

    def make(self) -> None:
        if self.version is None:
            self.version = self.calculate_version()
        self.dataCache = _create_data(self.version, self.errorCorrectLevel, self.dataList)
        self.makeImpl(False, FIXED_MASK)


def qr_modules(data: str, level: str = "M") -> list[list[bool]]:
    """The module matrix (True = dark) of a QR code holding data."""
    code = _FixedMaskQRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    code.addData(data)
    code.make()
    return [[bool(m) for m in row] for row in code.modules]


def draw_qr(pen, data: str, x_mm: float, y_mm: float, size_mm: float, quiet: int = QUIET_MODULES) -> None:
    """The code fills a size_mm square whose top-left corner is at (x_mm, y_mm), keeping `quiet` modules of
    it blank around the code (0: the code itself is size_mm; the page around it must be blank)."""
    modules = qr_modules(data)
    count = len(modules) + 2 * quiet
    cell = size_mm * MM / count
    left = pen.px(x_mm) + quiet * cell
    top = pen.py(y_mm) - quiet * cell
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

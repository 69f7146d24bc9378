"""QR codes drawn as one filled path of rectangles.

reportlab's encoder (pure Python) takes about 5 ms a code, more than all the rest of an
invoice: it tries all eight mask patterns and scores each by the standard's penalty rules, and
rebuilds the Reed-Solomon generator polynomial by slow polynomial arithmetic every time. We compute
the error correction bytes with log/antilog tables and cached generators, and choose the mask by
what matters here: the 税 mark covers the code's centre (a pale square a scanner reads as light), so
the mask that leaves the fewest dark modules under it leaves the fewest errors for the error
correction to repair (with a fixed mask some contents could not be read back; tests decode every
printed code). The modules are written as raw path operators.
"""

from __future__ import annotations

import itertools
from functools import cache

from reportlab.graphics.barcode import qrencoder

from app.printing.geometry import MM

FIXED_MASK = 2  # the mask of a code with nothing drawn over it (any of the eight is valid, ISO/IEC 18004 §7.8)
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


@cache
def _positions(version: int) -> tuple[tuple[int, int], ...]:
    """(column, row) of each data module in placement order, as reportlab places them (kept per version)."""
    code = qrencoder.QRCode(version, qrencoder.QRErrorCorrectLevel.M)
    code.version = version
    code.moduleCount = version * 4 + 17
    return tuple(code._dataPosIterator())


@cache
def _block_of_codeword(version: int, level: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """For each codeword of the interleaved sequence, its block; and each block's correctable codewords."""
    blocks = qrencoder.QRRSBlock.getRSBlocks(version, level)
    order: list[int] = []
    for i in range(max(block.dataCount for block in blocks)):
        order += [b for b, block in enumerate(blocks) if i < block.dataCount]
    ec = [block.totalCount - block.dataCount for block in blocks]
    for i in range(max(ec)):
        order += [b for b in range(len(blocks)) if i < ec[b]]
    return tuple(order), tuple(max(1, e // 2) for e in ec)


def _bits(data: list[int]) -> list[bool]:
    return [bool((byte >> shift) & 1) for byte in data for shift in range(7, -1, -1)]


class _FastQRCode(qrencoder.QRCode):
    version: int | None

    def make(self, covered: float = 0.0) -> None:
        """The matrix, placed with cached positions. With covered > 0 the mask is the one that leaves the error
        correction the most room once the central square of that share of the side reads as light (the 税
        mark): fewest damaged codewords in the worst block. Else FIXED_MASK."""
        if self.version is None:
            self.version = self.calculate_version()
        self.dataCache = _create_data(self.version, self.errorCorrectLevel, self.dataList)
        positions = _positions(self.version)
        bits = _bits(self.dataCache)
        mask = FIXED_MASK if covered <= 0 else self._mask_for(positions, bits, covered)
        self._place(positions, bits, mask)

    def _mask_for(self, positions: tuple[tuple[int, int], ...], bits: list[bool], covered: float) -> int:
        assert self.version is not None
        n = self.version * 4 + 17
        half = covered * n / 2
        low, high = n / 2 - half, n / 2 + half
        hidden = [(i, col, row) for i, (col, row) in enumerate(positions[:len(bits)])
                  if low <= col + 0.5 <= high and low <= row + 0.5 <= high]
        order, room = _block_of_codeword(self.version, self.errorCorrectLevel)
        best: tuple[float, int, int] | None = None
        for mask in range(8):
            flip = qrencoder.QRUtil.getMask(mask)
            damaged = {i // 8 for i, col, row in hidden if bits[i] ^ flip(row, col)}  # dark, read as light
            per_block = [0] * len(room)
            for codeword in damaged:
                if codeword < len(order):
                    per_block[order[codeword]] += 1
            score = (max(d / r for d, r in zip(per_block, room, strict=True)), len(damaged), mask)
            if best is None or score < best:
                best = score
        assert best is not None
        return best[2]

    def _place(self, positions: tuple[tuple[int, int], ...], bits: list[bool], mask: int) -> None:
        assert self.version is not None
        self.moduleCount = self.version * 4 + 17
        self.modules = [[False] * self.moduleCount for _ in range(self.moduleCount)]
        self.setupPositionProbePattern(0, 0)
        self.setupPositionProbePattern(self.moduleCount - 7, 0)
        self.setupPositionProbePattern(0, self.moduleCount - 7)
        self.setupPositionAdjustPattern()
        self.setupTimingPattern()
        self.setupTypeInfo(False, mask)
        if self.version >= 7:
            self.setupTypeNumber(False)
        flip = qrencoder.QRUtil.getMask(mask)
        modules = self.modules
        for index, (col, row) in enumerate(positions):
            dark = bits[index] if index < len(bits) else False
            modules[row][col] = dark ^ flip(row, col)


def qr_modules(data: str, level: str = "M", covered: float = 0.0) -> list[list[bool]]:
    """The module matrix (True = dark) of a QR code holding data; `covered`: the share of its side a mark
    drawn over its centre hides (the mask is then chosen for it)."""
    code = _FastQRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    code.addData(data)
    code.make(covered)
    return [[bool(m) for m in row] for row in code.modules]


def draw_qr(pen, data: str, x_mm: float, y_mm: float, size_mm: float, quiet: int = QUIET_MODULES,
            mark_mm: float = 0.0) -> None:
    """The code fills a size_mm square whose top-left corner is at (x_mm, y_mm), keeping `quiet` modules of
    it blank around the code (0: the code itself is size_mm; the page around it must be blank). mark_mm: the
    side of the square the caller draws over its centre afterwards (the 税 mark)."""
    modules = qr_modules(data, covered=mark_mm / size_mm if mark_mm else 0.0)
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

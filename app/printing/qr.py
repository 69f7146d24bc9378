"""QR codes drawn as one small 1-bit image mask, from a matrix built with whole-int bit operations.

reportlab's encoder (pure Python) takes about 5 ms a code, more than all the rest of an invoice: it tries all
eight mask patterns and scores each by the standard's penalty rules, keeps one Python object per module and
per bit, and rebuilds the Reed-Solomon generator polynomial by slow polynomial arithmetic every time. Here the
matrix is the same as reportlab's placement gives for the same data and mask (tests compare them), built so:

- the bit stream is one Python int (segments from reportlab's mode classes: numeric, alphanumeric, kanji, byte);
- the error correction bytes come from a linear feedback shift register on an int, with a table of the
  generator times each byte value (kept per error correction length);
- the data is placed by one C-level gather (operator.itemgetter over the bit string, with the placement order
  kept per version), masked by XOR with a kept int, and the function patterns (finders, timing, alignment,
  format and version information, kept per version, level and mask) are ORed in.

The mask is chosen for what matters here: the 税 mark covers the code's centre (a pale square a scanner reads
as light), so the mask that leaves the fewest dark modules under it leaves the fewest errors for the error
correction to repair (with a fixed mask some contents could not be read back; tests decode every printed code):
fewest damaged codewords in the worst block, counted with the hidden modules of each codeword as one bit mask.

The matrix is laid out with each row padded to whole bytes, which is what a PDF 1-bit image holds: the code is
drawn as one inline image mask (BI … ID … EI, some 120 bytes), painted in black where modules are dark, the
rest of the square left as it is, as a path of rectangles would.
"""

from __future__ import annotations

from functools import cache
from operator import itemgetter

from reportlab.graphics.barcode import qrencoder

from app.printing.geometry import MM

FIXED_MASK = 2  # the mask of a code with nothing drawn over it (any of the eight is valid, ISO/IEC 18004 §7.8)
QUIET_MODULES = 2  # the quiet zone the box keeps around the code, in modules

_EXP = qrencoder.EXP_TABLE  # GF(256) antilogarithms, as the QR standard defines the field
_LOG = qrencoder.LOG_TABLE
_MODES = (qrencoder.QRNumber, qrencoder.QRAlphaNum, qrencoder.QRKanji, qrencoder.QR8bitByte)  # reportlab's order
_PAD = (qrencoder.QRCode.PAD0, qrencoder.QRCode.PAD1)


# --- data and error correction codewords -------------------------------------------------------------------
@cache
def _blocks(version: int, level: int) -> tuple[tuple[int, int], ...]:
    """(data codewords, error correction codewords) of each block."""
    return tuple((b.dataCount, b.totalCount - b.dataCount) for b in qrencoder.QRRSBlock.getRSBlocks(version, level))


@cache
def _capacity_bits(version: int, level: int) -> int:
    return 8 * sum(data for data, _ in _blocks(version, level))


@cache
def _ec_table(ec_count: int) -> tuple[int, ...]:
    """For each byte value f: f × the generator's coefficients after the leading 1, as one ec_count-byte int."""
    poly = qrencoder.QRUtil.getErrorCorrectPolynomial(ec_count)
    logs = [_LOG[poly.get(i)] for i in range(1, poly.getLength())]
    table = [0]
    for f in range(1, 256):
        lf = _LOG[f]
        table.append(int.from_bytes(bytes(_EXP[(lf + g) % 255] for g in logs), "big"))
    return tuple(table)


def _ec_bytes(data: bytes, ec_count: int) -> bytes:
    """The remainder of data·x^ec divided by the generator (polynomial long division in GF(256)), as a shift
    register: each data byte's feedback term selects a row of the table."""
    table = _ec_table(ec_count)
    shift = 8 * (ec_count - 1)
    keep = (1 << shift) - 1
    rest = 0
    for byte in data:
        rest = ((rest & keep) << 8) ^ table[byte ^ (rest >> shift)]
    return rest.to_bytes(ec_count, "big")


@cache
def _interleave(version: int, level: int) -> itemgetter:
    """Picks the final codeword sequence from the blocks' data codewords, then their error correction codewords,
    each block's laid end to end: data by position across blocks, then error correction the same way."""
    blocks = _blocks(version, level)
    starts, at = [], 0
    for data, _ in blocks:
        starts.append(at)
        at += data
    ec_starts = []
    for _, ec in blocks:
        ec_starts.append(at)
        at += ec
    order = [starts[b] + i for i in range(max(d for d, _ in blocks)) for b, (d, _) in enumerate(blocks) if i < d]
    order += [ec_starts[b] + i for i in range(max(e for _, e in blocks)) for b, (_, e) in enumerate(blocks) if i < e]
    return itemgetter(*order)


class _IntBuffer:
    """reportlab's QRBitBuffer interface (what its mode classes write to) on one int."""

    __slots__ = ("length", "value")

    def __init__(self) -> None:
        self.value = 0
        self.length = 0

    def put(self, num: int, length: int) -> None:
        self.value = (self.value << length) | (num & ((1 << length) - 1))
        self.length += length

    def putBit(self, bit: bool) -> None:  # reportlab's name
        self.put(1 if bit else 0, 1)

    def getLengthInBits(self) -> int:
        return self.length


def _segment(data: str):
    """reportlab's QRCode.addData: the first of numeric, alphanumeric, kanji and 8-bit byte modes that takes it."""
    for mode in _MODES:
        try:
            return mode(data)
        except ValueError:
            pass
    raise ValueError(f"cannot encode {data!r} in a QR code")


def _version(segment, level: int) -> int:
    """reportlab's QRCode.calculate_version (versions 1–39, as it searches)."""
    for version in range(1, 40):
        if 4 + segment.getLengthBits(version) + segment.bitlength <= _capacity_bits(version, level):
            break
    return version


def _codewords(segment, version: int, level: int) -> bytes:
    """reportlab's QRCode.createData: the segment, the terminator, zero bits to a byte, the pad bytes; then each
    block's error correction, interleaved."""
    buffer = _IntBuffer()
    if type(segment) is qrencoder.QR8bitByte:
        raw = segment.data if isinstance(segment.data, bytes) else bytes(segment.data)
        segment.write_header(buffer, version)
        buffer.value = (buffer.value << (8 * len(raw))) | int.from_bytes(raw, "big")
        buffer.length += 8 * len(raw)
    else:
        segment.write(buffer, version)
    capacity = _capacity_bits(version, level)
    if buffer.length > capacity:
        raise ValueError("too much data for a QR code")
    if buffer.length + 4 <= capacity:
        buffer.put(0, 4)
    if buffer.length % 8:
        buffer.put(0, 8 - buffer.length % 8)
    count = buffer.length // 8
    pads = bytes(_PAD[i % 2] for i in range(capacity // 8 - count))
    data = buffer.value.to_bytes(count, "big") + pads
    pieces, ecs, at = [], [], 0
    for size, ec in _blocks(version, level):
        chunk = data[at:at + size]
        at += size
        pieces.append(chunk)
        ecs.append(_ec_bytes(chunk, ec))
    return bytes(_interleave(version, level)(b"".join(pieces) + b"".join(ecs)))


# --- placement ------------------------------------------------------------------------------------------------
def _side(version: int) -> int:
    return version * 4 + 17


def _stride(version: int) -> int:
    """Bits per row of the padded layout: the side rounded up to whole bytes."""
    return (_side(version) + 7) // 8 * 8


@cache
def _positions(version: int) -> tuple[tuple[int, int], ...]:
    """(column, row) of each data module in placement order, as reportlab places them (kept per version)."""
    code = qrencoder.QRCode(version, qrencoder.QRErrorCorrectLevel.M)
    code.version = version
    code.moduleCount = _side(version)
    return tuple(code._dataPosIterator())


@cache
def _gather(version: int) -> itemgetter:
    """Picks, for each bit of the padded layout (row by row, MSB first), its data bit from the bit string of all
    placement positions; function modules and row padding pick the string's last character, a '0'."""
    n, stride = _side(version), _stride(version)
    positions = _positions(version)
    blank = len(positions)
    pick = [blank] * (n * stride)
    for index, (col, row) in enumerate(positions):
        pick[row * stride + col] = index
    return itemgetter(*pick)


def _bit(version: int, col: int, row: int) -> int:
    """The int of the padded layout with only (col, row) set."""
    n, stride = _side(version), _stride(version)
    return 1 << (n * stride - 1 - (row * stride + col))


@cache
def _data_mask(version: int, mask: int) -> int:
    """The mask pattern over the data modules (remainder bits included), as an int of the padded layout."""
    flip = qrencoder.QRUtil.getMask(mask)
    value = 0
    for col, row in _positions(version):
        if flip(row, col):
            value |= _bit(version, col, row)
    return value


@cache
def _function_modules(version: int, level: int, mask: int) -> int:
    """The dark function modules (finders, timing, alignment, format and version information, the dark module),
    as reportlab sets them up for that mask, as an int of the padded layout."""
    n = _side(version)
    code = qrencoder.QRCode(version, level)
    code.version = version
    code.moduleCount = n
    code.modules = [[False] * n for _ in range(n)]
    code.setupPositionProbePattern(0, 0)
    code.setupPositionProbePattern(n - 7, 0)
    code.setupPositionProbePattern(0, n - 7)
    code.setupPositionAdjustPattern()
    code.setupTimingPattern()
    code.setupTypeInfo(False, mask)
    if version >= 7:
        code.setupTypeNumber(False)
    data = set(_positions(version))
    value = 0
    for row in range(n):
        for col in range(n):
            if code.modules[row][col] and (col, row) not in data:
                value |= _bit(version, col, row)
    return value


@cache
def _hidden(version: int, level: int, covered: float):
    """What the central square (`covered` of the side) hides of the data codewords, laid out for counting damaged
    codewords with a few int operations: the hidden bits of each codeword side by side (in bit order), one guard
    bit above each codeword's run. Returns the getter of that layout from the bit string (guards pick its final
    '0'), per mask the pattern's value on it, the run of all ones under each guard (adding it carries into the
    guard exactly when some hidden module of the codeword is dark), per block the mask of its codewords' guards;
    and each block's correctable codewords. None when nothing is hidden."""
    n = _side(version)
    half = covered * n / 2
    low, high = n / 2 - half, n / 2 + half
    blocks = _blocks(version, level)
    bits = 8 * sum(d + e for d, e in blocks)
    positions = _positions(version)
    hidden = [i for i, (col, row) in enumerate(positions[:bits])
              if low <= col + 0.5 <= high and low <= row + 0.5 <= high]
    if not hidden:
        return None
    order: list[int] = []  # the block of each codeword of the interleaved sequence
    for i in range(max(d for d, _ in blocks)):
        order += [b for b, (d, _) in enumerate(blocks) if i < d]
    for i in range(max(e for _, e in blocks)):
        order += [b for b, (_, e) in enumerate(blocks) if i < e]
    runs: dict[int, list[int]] = {}
    for i in hidden:
        runs.setdefault(i // 8, []).append(i)
    blank = len(positions)
    layout: list[int | None] = []  # most significant first: a guard, then the codeword's hidden bit indices
    guards: list[tuple[int, int]] = []  # (layout index of the guard, block)
    for codeword, members in runs.items():
        guards.append((len(layout), order[codeword]))
        layout.append(None)
        layout += members
    width = len(layout)

    def at(index: int) -> int:
        return 1 << (width - 1 - index)

    ones = sum(at(j) for j, i in enumerate(layout) if i is not None)
    block_guards = [0] * len(blocks)
    for j, block in guards:
        block_guards[block] |= at(j)
    flips = []
    for mask in range(8):
        flip = qrencoder.QRUtil.getMask(mask)
        flips.append(sum(at(j) for j, i in enumerate(layout)
                         if i is not None and flip(positions[i][1], positions[i][0])))
    room = tuple(max(1, e // 2) for _, e in blocks)
    pick = itemgetter(*[blank if i is None else i for i in layout], blank)
    return pick, tuple(flips), ones, tuple(block_guards), room


def _mask_for(version: int, level: int, bits: str, covered: float) -> int:
    """The mask that leaves the error correction the most room once the centre reads light: fewest damaged
    codewords (a hidden module dark) in the worst block, then fewest in all, then the lowest mask."""
    found = _hidden(version, level, covered)
    if found is None:
        return 0
    pick, flips, ones, block_guards, room = found
    hidden = int("".join(pick(bits)), 2) >> 1  # the getter's last pick is a padding '0'
    best: tuple[float, int, int] | None = None
    for mask, flip in enumerate(flips):
        carried = (hidden ^ flip) + ones
        per_block = [(carried & guard).bit_count() for guard in block_guards]
        score = (max(d / r for d, r in zip(per_block, room, strict=True)), sum(per_block), mask)
        if best is None or score < best:
            best = score
    assert best is not None
    return best[2]


def qr_matrix(data: str, level: str = "M", covered: float = 0.0) -> tuple[int, int]:
    """(side, bits): the module matrix of a QR code holding data as one int, rows of _stride bits (the side
    padded to whole bytes with 0), first row in the most significant bits, 1 = dark. `covered`: the share of its
    side a mark drawn over its centre hides (the mask is then chosen for it; else FIXED_MASK)."""
    code_level = getattr(qrencoder.QRErrorCorrectLevel, level)
    segment = _segment(data)
    version = _version(segment, code_level)
    codewords = _codewords(segment, version, code_level)
    positions = len(_positions(version))
    bits = format(int.from_bytes(codewords, "big"), f"0{8 * len(codewords)}b").ljust(positions + 1, "0")
    mask = FIXED_MASK if covered <= 0 else _mask_for(version, code_level, bits, covered)
    placed = int("".join(_gather(version)(bits)), 2)
    return _side(version), (placed ^ _data_mask(version, mask)) | _function_modules(version, code_level, mask)


def qr_modules(data: str, level: str = "M", covered: float = 0.0) -> list[list[bool]]:
    """The module matrix (True = dark) of a QR code holding data; `covered`: the share of its side a mark
    drawn over its centre hides (the mask is then chosen for it)."""
    n, value = qr_matrix(data, level, covered)
    stride = (n + 7) // 8 * 8
    text = format(value, f"0{n * stride}b")
    return [[c == "1" for c in text[r * stride:r * stride + n]] for r in range(n)]


def _image_operators(n: int, value: int, x: float, y: float, side: float) -> str:
    """PDF operators painting a matrix from qr_matrix in black as an inline 1-bit image mask on the square of
    `side` points whose bottom-left corner is (x, y): dark modules painted, light ones left as they are."""
    hexed = value.to_bytes(n * ((n + 7) // 8), "big").hex()
    return (f"q 0 0 0 rg {side:.4f} 0 0 {side:.4f} {x:.4f} {y:.4f} cm "
            f"BI /W {n} /H {n} /IM true /BPC 1 /D [1 0] /F /AHx ID {hexed}> EI Q")


def draw_qr(pen, data: str, x_mm: float, y_mm: float, size_mm: float, quiet: int = QUIET_MODULES,
            mark_mm: float = 0.0) -> None:
    """The code fills a size_mm square whose top-left corner is at (x_mm, y_mm), keeping `quiet` modules of
    it blank around the code (0: the code itself is size_mm; the page around it must be blank). mark_mm: the
    side of the square the caller draws over its centre afterwards (the 税 mark)."""
    n, value = qr_matrix(data, covered=mark_mm / size_mm if mark_mm else 0.0)
    cell = size_mm * MM / (n + 2 * quiet)
    side = n * cell
    left = pen.px(x_mm) + quiet * cell
    top = pen.py(y_mm) - quiet * cell
    pen.canvas.addLiteral(_image_operators(n, value, left, top - side, side))

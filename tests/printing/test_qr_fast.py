"""The desk's QR encoder (app.printing.qr: ints and kept tables) against reportlab's own encoder, module by module,
with the mask chosen for the 税 mark recomputed here the slow, plain way; and the code drawn as one image mask."""

from __future__ import annotations

import random
import string

import pytest
from reportlab.graphics.barcode import qrencoder

from app.printing.qr import FIXED_MASK, _image_operators, qr_matrix, qr_modules

MARK_SHARE = 5.36 / 20.0  # the face's 税 mark over its 20 mm code


def reportlab_matrix(data: str, mask: int) -> list[list[bool]]:
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(data)
    code.version = code.calculate_version()
    code.makeImpl(False, mask)
    return [[bool(m) for m in row] for row in code.modules]


def plain_mask_for_mark(data: str, covered: float) -> int:
    """Fewest damaged codewords (a data module under the mark dark) in the worst block, then in all, then the
    lowest mask: one module at a time."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(data)
    version = code.version = code.calculate_version()
    n = code.moduleCount = version * 4 + 17
    codewords = qrencoder.QRCode.createData(version, code.errorCorrectLevel, code.dataList)
    bits = [(byte >> shift) & 1 for byte in codewords for shift in range(7, -1, -1)]
    blocks = qrencoder.QRRSBlock.getRSBlocks(version, code.errorCorrectLevel)
    block_of: list[int] = []
    for i in range(max(b.dataCount for b in blocks)):
        block_of += [k for k, b in enumerate(blocks) if i < b.dataCount]
    ec = [b.totalCount - b.dataCount for b in blocks]
    for i in range(max(ec)):
        block_of += [k for k in range(len(blocks)) if i < ec[k]]
    room = [max(1, e // 2) for e in ec]
    low, high = n / 2 - covered * n / 2, n / 2 + covered * n / 2
    best = None
    for mask in range(8):
        flip = qrencoder.QRUtil.getMask(mask)
        damaged = {i // 8 for i, (col, row) in enumerate(code._dataPosIterator())
                   if i < len(bits) and low <= col + 0.5 <= high and low <= row + 0.5 <= high
                   and bits[i] ^ flip(row, col)}
        per_block = [0] * len(blocks)
        for codeword in damaged:
            per_block[block_of[codeword]] += 1
        score = (max(d / r for d, r in zip(per_block, room, strict=True)), len(damaged), mask)
        best = score if best is None else min(best, score)
    assert best is not None
    return int(best[2])


def contents() -> list[str]:
    rng = random.Random(11)
    out = ["01,32,,26112000000000000001,3746.44,20261202,,E0C5", "短", "12345", "HELLO WORLD", "x" * 200, "7" * 400]
    alphabet = string.ascii_letters + string.digits + ",.-:/ $*%+" + "税票中文"
    for _ in range(60):
        out.append(f"01,3{rng.randint(1, 2)},,{rng.randrange(10**20):020d},{rng.randrange(10**7)}."
                   f"{rng.randrange(100):02d},2026{rng.randrange(10000):04d},,{rng.randrange(65536):04X}")
        out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 150))))
    return out


@pytest.mark.parametrize("covered", [0.0, MARK_SHARE, 0.4])
def test_the_matrix_is_reportlabs_for_the_mask_chosen_the_plain_way(covered):
    for data in contents():
        mask = FIXED_MASK if covered == 0 else plain_mask_for_mark(data, covered)
        assert qr_modules(data, covered=covered) == reportlab_matrix(data, mask), data


def test_the_image_mask_holds_the_matrix_rows_padded_to_bytes():
    data = "01,32,,26112000000000000001,3746.44,20261202,,E0C5"
    n, value = qr_matrix(data, covered=MARK_SHARE)
    ops = _image_operators(n, value, 10.0, 20.0, 56.0)
    assert ops.startswith("q 0 0 0 rg 56.0000 0 0 56.0000 10.0000 20.0000 cm BI ") and ops.endswith("> EI Q")
    assert f"/W {n} /H {n} /IM true /BPC 1 /D [1 0] /F /AHx ID " in ops
    raw = bytes.fromhex(ops.split(" ID ", 1)[1].split(">", 1)[0])
    stride = (n + 7) // 8
    rows = [[bool(raw[r * stride + c // 8] >> (7 - c % 8) & 1) for c in range(n)] for r in range(n)]
    assert rows == qr_modules(data, covered=MARK_SHARE)
    assert all(raw[r * stride + stride - 1] & ((1 << (8 * stride - n)) - 1) == 0 for r in range(n))  # padding blank

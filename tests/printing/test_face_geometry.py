"""The 数电 face read back from the PDF (pdfplumber): pages, rules and text where section 6 puts them, within
0.3 mm, for 1, 8, 9, 12, 42, 43 and 100 lines; the QR code decoded from the rendered page."""

from __future__ import annotations

import pytest

from app.core.qr_content import crc16, electronic_qr
from app.services.issuing import issue_invoice
from app.services.printing import options_for, print_to_pdf
from app.services.printing_log import load_print_views
from tests.helpers.bodies import invoice_body, long_lines
from tests.helpers.pdf import MM, Box, decode_qr, plumber_pages, word_box
from tests.helpers.platform import accept

TOL = 0.3
FRAME_RGB = (128 / 255, 0, 0)
# lines -> (pages, page height, line rows per page, 小计 row)
EXPECTED = {1: (1, 140.0, 8, False), 8: (1, 140.0, 8, False), 9: (1, 157.5, 12, False),
            12: (1, 157.5, 12, False), 42: (1, 288.75, 42, False), 43: (1, 315.0, 47, True),
            100: (3, 315.0, 47, True)}
OFFICIAL = "26112000000000000777"


def near(a: float, b: float) -> bool:
    return abs(a - b) <= TOL


def frame_rules(page: dict) -> list:
    return [box for box, colour, _ in page["lines"] if colour and tuple(round(c, 3) for c in colour) == (0.502, 0, 0)]


def image_masks(path) -> list[list[Box]]:
    """Per page, the boxes (mm) of its 1-bit image masks."""
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        return [[Box(im["x0"] / MM, im["top"] / MM, im["x1"] / MM, im["bottom"] / MM)
                 for im in page.images if im.get("imagemask")] for page in pdf.pages]


@pytest.fixture
def face_of(tmp_path, seller):
    def make(count: int):
        issued = issue_invoice(invoice_body(lines=long_lines(count)))
        accept(issued.number, OFFICIAL)
        path = tmp_path / f"face{count}.pdf"
        print_to_pdf([OFFICIAL], path, options_for())
        return issued, path
    return make


@pytest.mark.parametrize("count", sorted(EXPECTED))
def test_face_geometry_by_the_millimetre(face_of, count):
    issued, path = face_of(count)
    pages, height, rows, subtotal = EXPECTED[count]
    read = plumber_pages(path)
    qr_images = image_masks(path)
    assert len(read) == pages
    for number, page in enumerate(read, start=1):
        assert near(page["width"], 210.0) and near(page["height"], height), (page["width"], page["height"])
        # The inner frame: 201 wide from 4.5, its top 30, its bottom (the remarks' bottom) 16 above the edge.
        frames = [box for box, _, stroke, fill in page["rects"] if stroke and not fill and near(box.x0, 4.5)]
        assert len(frames) == 1
        frame = frames[0]
        assert near(frame.x1, 205.5) and near(frame.top, 30.0) and near(frame.bottom, height - 16.0)
        rules = frame_rules(page)
        horizontal = sorted(round(b.top, 2) for b in rules if near(b.top, b.bottom) and near(b.x1 - b.x0, 201.0))
        remarks_top = height - 16.0 - 20.0
        capitals_top = remarks_top - 8.0
        assert [near(a, b) for a, b in zip(horizontal, (52.0, capitals_top, remarks_top), strict=True)] == [True] * 3
        double = sorted(b.top for b in rules if near(b.x1 - b.x0, 73.0))
        assert len(double) == 2 and near(double[0], 18.0) and near(double[1], 19.0)
        assert all(near(b.x0, 68.5) for b in rules if near(b.x1 - b.x0, 73.0))
        vertical = sorted(round(b.x0, 2) for b in rules if near(b.x0, b.x1) and near(b.top, 30.0))
        assert all(near(a, b) for a, b in zip(vertical, (10.5, 105.0, 111.0), strict=True))
        assert [b for b in rules if near(b.x0, b.x1) and near(b.x0, 10.5) and near(b.top, remarks_top)]
        assert all(near(width, 0.25) for _, _, width in page["lines"])
        # Header: the title's top 8 from the page top, centred; the labels 155 from the left; the date's form.
        title = word_box(page, "电子发票（普通发票）")
        assert near(title.top, 8.0) and near((title.x0 + title.x1) / 2, 105.0)
        assert near(word_box(page, "发票号码").x0, 155.0) and near(word_box(page, "开票日期").x0, 155.0)
        date = issued.invoice.issued_at
        assert any(f"{date.year}年{date.month:02d}月{date.day:02d}日" in w for w, _ in page["words"])
        # The QR code's box and the pale yellow 税 square centred in it.
        # The code is one 1-bit image mask (painted black where modules are dark), 20 × 20 at (7, 6).
        assert [b for b, colour, _, fill in page["rects"] if fill and colour in ((0, 0, 0), (0.0, 0.0, 0.0))] == []
        (qr,) = qr_images[number - 1]
        assert near(qr.x0, 7.0) and near(qr.x1, 27.0) and near(qr.top, 6.0) and near(qr.bottom, 26.0)
        yellow = [box for box, colour, _, fill in page["rects"]
                  if fill and colour and tuple(round(c * 255) for c in colour) == (250, 239, 173)]
        assert len(yellow) == 1 and near(yellow[0].x1 - yellow[0].x0, 5.36)
        assert near((yellow[0].x0 + yellow[0].x1) / 2, 17.0) and near((yellow[0].top + yellow[0].bottom) / 2, 16.0)
        # Parties: the labels in their columns.
        labels = [box for word, box in page["words"] if word.startswith("名称")]
        assert sorted(round(b.x0) for b in labels) == [12, 112]  # 10.5 and 111, each plus the 1 mm pad
        # The line rows: each 4.375 high from 56.5, figures right-aligned in 金额 (127.5..153.5, pad 1).
        on_page = long_lines(count)[(number - 1) * 47:number * 47] if count > 42 else long_lines(count)
        amounts = [box for word, box in page["words"] if word == "¥" or False]
        del amounts
        view = load_print_views([OFFICIAL])[0]
        first = (number - 1) * 47 if count > 42 else 0
        for index, line in enumerate(view.invoice.lines[first:first + len(on_page)]):
            figure = f"{line.amount:.2f}"
            boxes = [b for w, b in page["words"] if w == figure and b.x0 > 127.5 and b.x1 <= 153.5]
            assert boxes, figure
            box = min(boxes, key=lambda b: abs((b.top + b.bottom) / 2 - (56.5 + index * 4.375 + 2.1875)))
            assert near(box.x1, 152.5) and near((box.top + box.bottom) / 2, 56.5 + index * 4.375 + 2.1875)
        # 合计 (and 小计 above it on a paged face), the footer's bottom 7.5 above the edge.
        total_top = capitals_top - 4.5
        total = word_box(page, "合")
        assert near((total.top + total.bottom) / 2, total_top + 2.25)
        small = [b for w, b in page["words"] if w == "小"]
        assert bool(small) == subtotal
        if subtotal:
            assert near((small[0].top + small[0].bottom) / 2, total_top - 4.375 / 2)
            assert near(total_top - 4.375, 56.5 + rows * 4.375)
        else:
            assert near(total_top, 56.5 + rows * 4.375)
        drawer = word_box(page, "开票人")
        assert near(drawer.bottom, height - 7.5)
        text = "".join(w for w, _ in page["words"])
        if pages > 1 or subtotal:
            label = word_box(page, f"共{pages}页")
            assert label.top > word_box(page, "开票日期").bottom and near(label.x0, 155.0)
            assert f"第{number}页" in text
        # Capitals and remarks on the last page only.
        assert ("圆" in text) == (number == pages)
        # The QR code reads back: section 7's content with its CRC.
        assert decode_qr(path, number, (5.0, 4.0, 24.0, 24.0)) == [
            electronic_qr(view.invoice.kind, OFFICIAL, view.invoice.total_with_tax, view.issued_at.date())]


def test_the_crc_matches_the_example_of_section_7():
    assert f"{crc16(b'01,32,,24312000000136634917,0.01,20240514,,'):04X}" == "1DD6"

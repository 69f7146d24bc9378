"""A pre-issue record (预开单, platform channel, LX-…, no official number) is not an invoice, and its paper says
so: a plain slip titled 预开单（不作为发票使用）, no invoice title, no form, no QR code, its provisional number, the
sale's figures, the invoice to follow, its mark across the page. Once the platform issued it, it prints as the
invoice it became. Read back with pypdf, poppler and zxing-cpp."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader

from app.core.errors import DeskError
from app.printing.document import PreIssueOnForms
from app.services.issuing import issue_invoice
from app.services.printing import options_for, print_to_pdf
from app.store.models import AuditEntry
from tests.helpers.bodies import OFFICIAL_NUMBER, invoice_body
from tests.helpers.pdf import dark_fraction, decode_qr, find_word, fonts_without_embedded_file, pdffonts, squeeze, words
from tests.helpers.platform import accept

QR_BOX_MM = (7.5, 6.5, 19.0, 19.0)  # where an invoice has its QR code, a little inside
EMPTY_ROWS_MM = (12.0, 70.0, 186.0, 20.0)  # rows 4..7 of a three-line slip or face: nothing but a mark there
INVOICE_WORDS = ("电子发票", "普通发票", "专用发票", "发票号码", "发票联")


def pdf_text(path, page: int | None = None) -> str:
    """The text pypdf reads back, without white space."""
    pages = PdfReader(str(path)).pages
    chosen = pages if page is None else [pages[page - 1]]
    return squeeze("".join(p.extract_text() for p in chosen))


def reddish_fraction(path, box_mm: tuple[float, float, float, float], page: int = 1, dpi: int = 60) -> float:
    """Share of pixels in the box that are tinted red (the mark): red clearly above green and blue."""
    png = subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), str(path)],
                         capture_output=True, check=True).stdout
    image = Image.open(io.BytesIO(png)).convert("RGB")
    px = dpi / 25.4
    x, y, w, h = (round(v * px) for v in box_mm)
    crop = image.crop((x, y, x + w, y + h))
    pixels: list[tuple[int, int, int]] = [crop.getpixel((i, j))  # type: ignore[misc]  # an RGB image
                                          for j in range(crop.height) for i in range(crop.width)]
    return sum(1 for r, g, b in pixels if r - max(g, b) > 20) / len(pixels)


def print_one(tmp_path, number, name="out.pdf", **options):
    path = tmp_path / name
    print_to_pdf([number], path, options_for(**options))
    return path


def test_a_pre_issue_record_prints_as_a_slip_that_is_not_an_invoice(tmp_path, issued):
    path = print_one(tmp_path, issued.number)
    text = pdf_text(path)
    for said in ("预开单（不作为发票使用）", "Pre-issuerecord—NOTANINVOICE", "预开单号：", "发票另行交付",
                 "北京客户贸易有限公司", "北京某某科技有限公司", "¥8039.31", "捌仟零叁拾玖圆叁角壹分", "开票人：张三"):
        assert said in text, said
    for invoice_word in INVOICE_WORDS:
        assert invoice_word not in text, invoice_word
    for line in issued.invoice.lines:
        assert line.name in text
    assert issued.number in text and OFFICIAL_NUMBER not in text
    assert dark_fraction(path, 1, QR_BOX_MM) == 0.0 and decode_qr(path) == []  # no QR code at all
    assert reddish_fraction(path, EMPTY_ROWS_MM) > 0.02  # the mark runs across the page
    found = words(path)
    label = find_word(found, "预开单号：")
    beside = [w for w in found if w.text == issued.number and abs(w.y1 - label.y1) < 1.5 and w.x0 > label.x1]
    assert len(beside) == 1, found
    # The WenQuanYi faces, embedded, and nothing else.
    assert all(row["emb"] == "yes" for row in pdffonts(path))
    assert fonts_without_embedded_file(path) == []
    assert _title(path) == "预开单（非发票）"
    entry = AuditEntry.select().where(AuditEntry.action == "printed").get()
    assert '"pre_issue":true' in entry.detail


def test_a_long_pre_issue_record_is_still_a_slip_on_every_page(tmp_path, long_invoice):
    path = print_one(tmp_path, long_invoice.number)
    assert len(PdfReader(str(path)).pages) == 1  # 20 lines: one taller slip
    text = pdf_text(path)
    assert "预开单（不作为发票使用）" in text and "NOTANINVOICE" in text and "电子发票" not in text
    assert reddish_fraction(path, (12.0, 60.0, 186.0, 60.0)) > 0.02


def test_once_the_platform_issued_it_it_prints_as_the_invoice_it_became(tmp_path, issued):
    before = print_one(tmp_path, issued.number, "before.pdf")
    accept(issued.number, OFFICIAL_NUMBER)
    after = print_one(tmp_path, issued.number, "after.pdf")
    text = pdf_text(after)
    assert "电子发票（普通发票）" in text and "发票号码" in text and OFFICIAL_NUMBER in text
    assert "预开单" not in text and "NOTANINVOICE" not in text and decode_qr(after) != []
    assert reddish_fraction(after, EMPTY_ROWS_MM) == 0.0 and reddish_fraction(before, EMPTY_ROWS_MM) > 0.02
    assert _title(after) == "发票"


def test_a_direct_channel_invoice_is_an_invoice_from_issue(tmp_path, direct_invoice):
    path = print_one(tmp_path, direct_invoice.number)
    text = pdf_text(path)
    assert "电子发票（普通发票）" in text and direct_invoice.number in text
    assert "预开单" not in text and "NOTANINVOICE" not in text
    assert reddish_fraction(path, EMPTY_ROWS_MM) == 0.0


def test_a_mixed_job_marks_only_the_pre_issue_record(tmp_path, issued, long_invoice):
    accept(long_invoice.number, OFFICIAL_NUMBER)
    path = tmp_path / "mixed.pdf"
    print_to_pdf([OFFICIAL_NUMBER, issued.number], path, options_for())
    assert len(PdfReader(str(path)).pages) == 2  # the 20-line face, then the slip
    assert "预开单" not in pdf_text(path, 1) and "预开单（不作为发票使用）" in pdf_text(path, 2)
    assert reddish_fraction(path, EMPTY_ROWS_MM, 2) > 0.02
    assert _title(path) == "发票与预开单（非发票）"


def test_the_overlay_refuses_a_pre_issue_record_and_prints_nothing(tmp_path, issued, seller):
    other = issue_invoice(invoice_body())
    accept(other.number, OFFICIAL_NUMBER)
    path = tmp_path / "overlay.pdf"
    with pytest.raises(PreIssueOnForms) as refused:
        print_to_pdf([OFFICIAL_NUMBER, issued.number], path, options_for(overlay=True))
    assert refused.value.numbers == [issued.number]
    assert issued.number in refused.value.message_zh and "预开单（非发票）" in refused.value.message_zh
    assert "not an invoice" in refused.value.message_en
    assert not path.exists() and AuditEntry.select().where(AuditEntry.action == "printed").count() == 0
    # An electronic invoice does not go onto forms either: it prints on plain paper, as its face.
    with pytest.raises(DeskError) as electronic:
        print_to_pdf([OFFICIAL_NUMBER], path, options_for(overlay=True))
    assert OFFICIAL_NUMBER in electronic.value.describe("zh") and not path.exists()


def _title(path) -> str | None:
    metadata = PdfReader(str(path)).metadata
    assert metadata is not None
    return metadata.title

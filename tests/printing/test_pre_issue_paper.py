"""A pre-issue record (预开单, platform channel, LX-…, no official number) is not an invoice, and its paper says
so: the banner in place of the invoice title, 预开单号 in place of 发票号码, no QR code, its mark across the page.
Once the platform issued it, it prints as the invoice it became. Read back with pypdf and poppler."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader

from app.printing.document import PreIssueOnForms
from app.services.printing import options_for, print_to_pdf
from app.store.models import AuditEntry
from tests.helpers.bodies import OFFICIAL_NUMBER
from tests.helpers.pdf import dark_fraction, find_word, fonts_without_embedded_file, pdffonts, squeeze, words
from tests.helpers.platform import accept

QR_BOX_MM = (10.5, 2.5, 19.0, 19.0)  # app.printing.layout.QR_BOX, a little inside
EMPTY_ROWS_MM = (12.0, 66.0, 216.0, 22.0)  # table rows 4..7 of the face: nothing but the mark can be there
INVOICE_WORDS = ("北京增值税普通发票", "发票号码", "发票联")


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
    pixels = [crop.getpixel((i, j)) for j in range(crop.height) for i in range(crop.width)]
    return sum(1 for r, g, b in pixels if r - max(g, b) > 20) / len(pixels)


def print_one(tmp_path, number, name="out.pdf", **options):
    path = tmp_path / name
    print_to_pdf([number], path, options_for(**options))
    return path


def test_a_pre_issue_record_prints_as_not_an_invoice(tmp_path, issued):
    path = print_one(tmp_path, issued.number)
    text = pdf_text(path)
    for said in ("预开单（非发票）", "平台恢复后开具正式发票", "Pre-issuerecord—NOTANINVOICE", "预开单号："):
        assert said in text, said
    for invoice_word in INVOICE_WORDS:
        assert invoice_word not in text, invoice_word
    assert issued.number in text and OFFICIAL_NUMBER not in text
    assert dark_fraction(path, 1, QR_BOX_MM) == 0.0  # no QR code of an invoice
    assert reddish_fraction(path, EMPTY_ROWS_MM) > 0.02  # the mark runs across the page
    # The provisional number stands under 预开单号, where an invoice has its number.
    found = words(path)
    label = find_word(found, "预开单号：")
    beside = [w for w in found if w.text == issued.number and abs(w.y1 - label.y1) < 1.5 and w.x0 > label.x1]
    assert len(beside) == 1, found
    # The WenQuanYi faces, embedded, and nothing else.
    assert all(row["emb"] == "yes" for row in pdffonts(path))
    assert fonts_without_embedded_file(path) == []
    assert PdfReader(str(path)).metadata.title == "预开单（非发票）"
    entry = AuditEntry.select().where(AuditEntry.action == "printed").get()
    assert '"pre_issue":true' in entry.detail


def test_its_sales_list_pages_say_so_too(tmp_path, long_invoice):
    path = print_one(tmp_path, long_invoice.number)
    assert len(PdfReader(str(path)).pages) == 3
    for page in (2, 3):
        text = pdf_text(path, page)
        assert "预开单（非发票）" in text and "NOTANINVOICE" in text and "所属" not in text
        assert reddish_fraction(path, (12.0, 40.0, 216.0, 60.0), page) > 0.02


def test_once_the_platform_issued_it_it_prints_as_the_invoice_it_became(tmp_path, issued):
    before = print_one(tmp_path, issued.number, "before.pdf")
    accept(issued.number, OFFICIAL_NUMBER)
    after = print_one(tmp_path, issued.number, "after.pdf")
    text = pdf_text(after)
    assert "北京增值税普通发票" in text and "发票号码" in text and OFFICIAL_NUMBER in text
    assert "非发票" not in text and "NOTANINVOICE" not in text
    assert f"(预开单{issued.number})" in text  # the record it came from, beside the official number
    assert reddish_fraction(after, EMPTY_ROWS_MM) == 0.0 and reddish_fraction(before, EMPTY_ROWS_MM) > 0.02
    assert PdfReader(str(after)).metadata.title == "发票"


def test_a_direct_channel_invoice_is_an_invoice_from_issue(tmp_path, direct_invoice):
    path = print_one(tmp_path, direct_invoice.number)
    text = pdf_text(path)
    assert "北京增值税普通发票" in text and direct_invoice.number in text
    assert "预开单" not in text and "NOTANINVOICE" not in text
    assert reddish_fraction(path, EMPTY_ROWS_MM) == 0.0


def test_a_mixed_job_marks_only_the_pre_issue_record(tmp_path, issued, long_invoice):
    accept(long_invoice.number, OFFICIAL_NUMBER)
    path = tmp_path / "mixed.pdf"
    print_to_pdf([OFFICIAL_NUMBER, issued.number], path, options_for())
    assert "非发票" not in pdf_text(path, 1) and "非发票" in pdf_text(path, 4)
    assert reddish_fraction(path, EMPTY_ROWS_MM, 1) == 0.0 and reddish_fraction(path, EMPTY_ROWS_MM, 4) > 0.02
    assert PdfReader(str(path)).metadata.title == "发票与预开单（非发票）"


def test_the_overlay_refuses_a_pre_issue_record_and_prints_nothing(tmp_path, issued, long_invoice):
    accept(long_invoice.number, OFFICIAL_NUMBER)
    path = tmp_path / "overlay.pdf"
    with pytest.raises(PreIssueOnForms) as refused:
        print_to_pdf([OFFICIAL_NUMBER, issued.number], path, options_for(overlay=True))
    assert refused.value.numbers == [issued.number]
    assert issued.number in refused.value.message_zh and "预开单（非发票）" in refused.value.message_zh
    assert "not an invoice" in refused.value.message_en
    assert not path.exists() and AuditEntry.select().where(AuditEntry.action == "printed").count() == 0
    print_to_pdf([OFFICIAL_NUMBER], path, options_for(overlay=True))  # an invoice goes onto the forms
    assert path.exists()

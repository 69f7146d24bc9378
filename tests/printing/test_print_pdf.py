"""Printed PDFs read back: fonts embedded, every field of the 数电 face extractable, pages, marks."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest
from pypdf import PdfReader

from app.core.capitals import amount_in_capitals
from app.core.money import format_money
from app.core.qr_content import crc16
from app.printing.document import render_invoices
from app.services.issuing import issue_invoice
from app.services.printing import options_for, print_to_pdf
from app.services.printing_log import UnknownInvoices, load_print_views
from app.store import audit
from app.store.models import AuditEntry
from tests.helpers.bodies import (
    BUYER_TAX_ID,
    LONG_NAME,
    OFFICIAL_NUMBER,
    SELLER_TAX_ID,
    full_body,
    invoice_body,
    long_lines,
)
from tests.helpers.pdf import (
    MM,
    dark_fraction,
    decode_qr,
    find_word,
    fonts_without_embedded_file,
    pdffonts,
    pdftotext,
    squeeze,
    words,
)
from tests.helpers.platform import accept

QR_BOX_MM = (7.5, 6.5, 19.0, 19.0)  # app.printing.layout: the QR code at (7, 6), 20 × 20, a little inside


def print_one(tmp_path, number, name="out.pdf", **options):
    path = tmp_path / name
    print_to_pdf([number], path, options_for(**options))
    return path


def test_every_font_is_embedded_and_none_is_a_standard_or_cid_font(tmp_path, issued, long_invoice):
    path = tmp_path / "both.pdf"
    print_to_pdf([issued.number, long_invoice.number], path, options_for())
    rows = pdffonts(path)
    assert rows, "pdffonts lists no fonts"
    assert all(row["emb"] == "yes" and row["sub"] == "yes" and row["uni"] == "yes" for row in rows), rows
    assert not [row for row in rows if "Helvetica" in row["name"] or "STSong" in row["name"]]
    assert {row["name"].split("+")[1].rsplit("-", 1)[0] for row in rows} == {"WenQuanYiMicroHei",
                                                                              "WenQuanYiMicroHeiMono"}
    assert fonts_without_embedded_file(path) == []


def test_the_text_holds_every_field_the_names_capitals_and_remarks(tmp_path, accepted):
    issued = accepted
    text = squeeze(pdftotext(print_one(tmp_path, issued.number)))
    invoice = issued.invoice
    for expected in ("电子发票（普通发票）", "发票号码", OFFICIAL_NUMBER, "开票日期",
                     "名称：北京客户贸易有限公司",
                     BUYER_TAX_ID, "统一社会信用代码/纳税人识别号", "北京某某科技有限公司",
                     SELLER_TAX_ID,
                     "项目名称", "规格型号", "单位", "数量", "单价", "金额", "税率/征收率", "税额", "合计",
                     "价税合计（大写）", "（小写）", "合同号HT-2026-0088", "开票人：张三"):
        assert expected in text, expected
    assert all(char in text for char in "购买方信息销售方信息备注")  # the vertical words, one character a line
    assert "北京增值税普通发票" not in text and "发票联" not in text and "销货清单" not in text
    for line in invoice.lines:
        assert line.name.startswith("*") and line.name in text  # *简称*项目名称
        assert format_money(line.amount) in text
    assert "***" in text  # the exempt line's tax
    assert "免税" in text and "13%" in text and "6%" in text
    assert f"¥{format_money(invoice.total_amount)}" in text
    assert f"¥{format_money(invoice.total_tax)}" in text
    assert f"¥{format_money(invoice.total_with_tax)}" in text
    capitals = amount_in_capitals(invoice.total_with_tax)
    assert capitals.endswith("圆叁角壹分") and capitals in text  # 8039.31 -> 捌仟零叁拾玖圆叁角壹分
    assert "(负数)" not in text and "（负数）" not in text


def test_amounts_are_right_aligned_with_two_places(tmp_path, issued):
    path = print_one(tmp_path, issued.number)
    found = words(path)
    amounts = [find_word(found, "1000.00"), find_word(found, "5698.50"), find_word(found, "540.00")]
    assert max(w.x1 for w in amounts) - min(w.x1 for w in amounts) < 0.5
    assert amounts[2].x0 > amounts[0].x0  # shorter figures start further right
    taxes = [find_word(found, "60.00"), find_word(found, "740.81")]
    assert abs(taxes[0].x1 - taxes[1].x1) < 0.5


def test_more_lines_make_the_face_taller_and_no_sales_list(tmp_path, long_invoice):
    accept(long_invoice.number)
    path = print_one(tmp_path, long_invoice.number)
    pages = PdfReader(str(path)).pages
    assert len(pages) == 1 and round(float(pages[0].mediabox.height) / MM, 2) == 140 + 3 * 17.5  # 20 lines
    face = squeeze(pdftotext(path))
    assert "销货清单" not in face and "清单" not in face
    invoice = long_invoice.invoice
    assert f"¥{format_money(invoice.total_with_tax)}" in face
    for index in range(20):
        assert f"RC0603-{index}K" in face


def test_long_names_wrap_inside_their_cell(tmp_path, seller):
    long = issue_invoice(invoice_body(lines=long_lines(3)))
    accept(long.number)
    path = print_one(tmp_path, long.number)
    found = words(path)
    name_cell = (5.4 * MM, 40.6 * MM)  # app.printing.layout.COLUMN["name"], inside its 1 mm pads
    pieces = [w for w in found if w.text.startswith("*电子元件*") or "说明书" in w.text]
    assert len(pieces) >= 6  # three names, each on more than one line
    for piece in pieces:
        assert name_cell[0] <= piece.x0 and piece.x1 <= name_cell[1], piece
    assert LONG_NAME.format(i=2) in squeeze(pdftotext(path))


def test_a_direct_channel_invoice_prints_its_face_with_the_qr_code_of_section_7(tmp_path, direct_invoice):
    """A direct-channel invoice waiting for its upload is an invoice: its face, its number, its QR code."""
    issued = direct_invoice
    path = print_one(tmp_path, issued.number)
    text = pdftotext(path)
    assert "电子发票（普通发票）" in squeeze(text) and "预开单" not in text and "离线" not in text
    assert issued.number in text
    assert dark_fraction(path, 1, QR_BOX_MM) > 0.25
    total = format_money(issued.invoice.total_with_tax)
    date = issued.invoice.issued_at.strftime("%Y%m%d")
    content = f"01,32,,{issued.number},{total},{date},,"
    assert decode_qr(path) == [f"{content}{crc16(content.encode()):04X}"]


def test_a_natural_person_buyer_prints_with_its_mark(tmp_path, seller):
    person = issue_invoice(invoice_body(buyer={"name": "王小明", "natural_person": True}))
    accept(person.number)
    assert "王小明（个人）" in squeeze(pdftotext(print_one(tmp_path, person.number)))


def test_a_reprint_says_copy_and_every_print_is_audited(tmp_path, issued):
    first = print_one(tmp_path, issued.number, "first.pdf")
    second = print_one(tmp_path, issued.number, "second.pdf")
    assert "副本" not in pdftotext(first)
    assert "副本" in pdftotext(second)
    entries = list(AuditEntry.select().where(AuditEntry.action == "printed").order_by(AuditEntry.id))
    assert [e.invoice.provisional_number if e.invoice else None for e in entries] == [issued.number, issued.number]
    assert ['"copy":false' in e.detail for e in entries] == [True, False]
    assert str(second.resolve()) in entries[1].detail
    assert audit.verify_chain() is None


def test_the_same_invoice_twice_in_one_job_prints_a_copy_the_second_time(tmp_path, issued):
    path = tmp_path / "twice.pdf"
    print_to_pdf([issued.number, issued.number], path, options_for())
    assert "副本" not in pdftotext(path, 1) and "副本" in pdftotext(path, 2)


def test_red_letter_invoice_prints_negative_figures_the_reference_once_and_a_watermark(tmp_path, accepted):
    from tests.helpers.red import red_on_form

    red = red_on_form(accepted.number, lines=[{"original_line_no": 1}])  # on a form (01): line 1 in full
    accept(red.number, "26112000000000000999")
    path = print_one(tmp_path, red.number)
    text = squeeze(pdftotext(path))
    assert "-1000.00" in text and "-60.00" in text and "¥-1060.00" in text
    assert "（负数）壹仟零陆拾圆整" in text and "(负数)" not in text
    assert text.count(OFFICIAL_NUMBER) == 1 and f"被红冲蓝字数电发票号码：{OFFICIAL_NUMBER}" in text
    assert text.count("红字发票信息确认单编号") == 1
    assert len(red.invoice.lines) == 1  # only the reversed line
    images = [image for image in PdfReader(str(path)).pages[0].images if not image.name.startswith("~")]
    assert images, "the red invoice's watermark"  # an image XObject; the QR code is an inline image (~0~)


def test_special_invoice_title_and_cancelled_mark(tmp_path, seller):
    body = full_body(kind="special")
    special = issue_invoice(body)
    accept(special.number)  # an invoice once the platform issued it: its title is the kind's
    view = load_print_views([special.number])[0]
    data = render_invoices([dataclasses.replace(view, cancelled=True)])
    path = tmp_path / "special.pdf"
    path.write_bytes(data)
    text = squeeze(pdftotext(path))
    assert "电子发票（增值税专用发票）" in text and "作废" in text
    assert decode_qr(path)[0].startswith(f"01,31,,{OFFICIAL_NUMBER},")


def test_unknown_number_prints_nothing_and_records_nothing(tmp_path, issued):
    path = tmp_path / "none.pdf"
    with pytest.raises(UnknownInvoices) as raised:
        print_to_pdf([issued.number, "LX-9999999"], path, options_for())
    assert raised.value.numbers == ["LX-9999999"]
    assert not path.exists() and list(tmp_path.iterdir()) == [tmp_path / "data"]
    assert AuditEntry.select().where(AuditEntry.action == "printed").count() == 0


def test_a4_paper_is_landscape_with_the_face_centred_at_full_size(tmp_path, accepted):
    issued = accepted
    path = tmp_path / "a4.pdf"
    print_to_pdf([issued.number], path, options_for(paper="a4"))
    box = PdfReader(str(path)).pages[0].mediabox
    assert (round(float(box.width) / MM), round(float(box.height) / MM)) == (297, 210)
    on_invoice = print_one(tmp_path, issued.number, "inv.pdf")
    box = PdfReader(str(on_invoice)).pages[0].mediabox
    assert (round(float(box.width) / MM), round(float(box.height) / MM)) == (210, 140)
    # Same face, shifted by the margins A4 leaves around it.
    a4_word, inv_word = find_word(words(path), BUYER_TAX_ID), find_word(words(on_invoice), BUYER_TAX_ID)
    assert abs((a4_word.x0 - inv_word.x0) - 43.5 * MM) < 0.2 and abs((a4_word.y0 - inv_word.y0) - 10 * MM) < 0.2


def test_pdftotext_is_available():
    assert subprocess.run(["pdftotext", "-v"], capture_output=True).returncode == 0

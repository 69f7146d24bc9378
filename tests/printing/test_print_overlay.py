"""Printing onto pre-printed forms (套打) is a paper 数电 invoice onto the tax bureau's form, and nothing else.

A paper invoice (medium paper) is issued on the platform channel against the reference platform on loopback, the
real upload worker gets it issued (official number), a pack of forms is loaded, and it is printed through the
command line and through app.services.paper_printing. Read back from the PDF: the data where the printer's
offset and x/y scale put it (pypdf, within 0.3 mm), the paper QR code decoded (zxing-cpp) equal to section 7's
content with the sheet's code and number, the sheet and the print recorded, a reprint onto the same sheet's
record marked 副本, an electronic invoice and a pre-issue record refused naming them, and no sheet taken by a
job that fails. Also the printer profiles, and the calibration page printed with the offset and the scale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.graphics.barcode import qrencoder

from app.core import status
from app.core.clock import in_beijing
from app.core.errors import DeskError, ValidationFailed
from app.core.qr_content import PaperForm, paper_qr
from app.platform.server import PlatformServer
from app.printing import paper_form as P
from app.printing.calibration import CROSSES, Calibration, corrected_offset
from app.printing.document import render_calibration
from app.printing.fonts import register_fonts
from app.printing.pen import width_mm
from app.printing.qr import FIXED_MASK, qr_modules
from app.services import paper_stock
from app.services.issuing import IssuedInvoice, issue_invoice
from app.services.paper_printing import preview_paper_invoices, print_paper_invoices, print_paper_to_pdf
from app.services.printer_profiles import get_profile, list_profiles, save_profile
from app.services.printing import options_for, print_to_pdf
from app.store.models import AuditEntry, Invoice
from tests.helpers.bodies import full_body, invoice_body
from tests.helpers.cli import run_cli
from tests.helpers.pdf import MM, decode_qr, find_word, pdftotext, squeeze, words
from tests.helpers.platform import make_worker

CODE = "144031900110"
FIRST = "00012301"
TOLERANCE = 0.3  # mm
BUYER = "北京客户贸易有限公司"
SELLER = "北京某某科技有限公司"


def issued_by_platform(platform: PlatformServer, body: dict) -> tuple[IssuedInvoice, str]:
    """Issue on the platform channel (a pre-issue record) and let the real worker get it issued."""
    record = issue_invoice(body)
    row = Invoice.get(Invoice.provisional_number == record.number)
    assert (row.channel, row.status, row.official_number) == ("platform", status.PRE_ISSUE, None)
    report = make_worker(platform).run_once()
    assert report.accepted >= 1, report
    row = Invoice.get(Invoice.provisional_number == record.number)
    assert row.status == status.ACCEPTED and row.official_number and len(row.official_number) == 20
    return record, row.official_number


@pytest.fixture
def paper(online: PlatformServer) -> tuple[IssuedInvoice, str]:
    return issued_by_platform(online, full_body(medium="paper"))


def placed(path: Path, page: int = 0) -> dict[str, tuple[float, float]]:
    """First text run of each string -> its origin in mm from the page's left and top edges."""
    reader = PdfReader(str(path))
    height = float(reader.pages[page].mediabox.height) / MM
    found: dict[str, tuple[float, float]] = {}

    def visit(text, cm, tm, _font, _size):
        key = text.strip().split(" ")[0]
        if key and key not in found:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found[key] = (x / MM, height - y / MM)

    reader.pages[page].extract_text(visitor_text=visit)
    return found


def printed_entries() -> list[dict]:
    return [json.loads(e.detail) for e in AuditEntry.select().where(AuditEntry.action == "printed")
            .order_by(AuditEntry.id)]


def expected_qr(record: IssuedInvoice, official: str, number: str) -> str:
    invoice = record.invoice
    assert invoice.issued_at is not None
    return paper_qr(invoice.kind, PaperForm(CODE, number), official, invoice.total_amount,
                    in_beijing(invoice.issued_at).date())


def test_the_command_line_prints_a_paper_invoice_onto_its_form_with_offset_and_scale(tmp_path, data_dir, paper):
    record, official = paper
    paper_stock.load_pack(CODE, FIRST, 25)
    bad = run_cli(data_dir, "printer", "set", "--scale-x", "abc", "--scale-y", "1.2")
    assert bad.returncode == 2 and "scale_x" in bad.stderr and "scale_y" in bad.stderr and "比例" in bad.stderr
    assert get_profile("").calibration == Calibration()  # nothing stored
    ok = run_cli(data_dir, "printer", "set", "--offset-x", "2", "--offset-y", "-1.5", "--scale-x", "1.012",
                 "--scale-y", "0.988")
    assert ok.returncode == 0, ok.stderr
    calibration = Calibration(2.0, -1.5, 1.012, 0.988)
    assert get_profile("").calibration == calibration and "1.0120" in ok.stdout
    kept = run_cli(data_dir, "printer", "set", "--offset-x", "2")  # the scale stays when not given
    assert kept.returncode == 0 and get_profile("").calibration == calibration

    out = tmp_path / "form.pdf"
    result = run_cli(data_dir, "print", record.number, "-o", str(out), "--overlay")
    assert result.returncode == 0, result.stderr
    assert f"代码 {CODE} 号码 {FIRST}" in result.stdout and "1 张纸质发票" in result.stdout
    reader = PdfReader(str(out))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width) / MM, float(box.height) / MM) == pytest.approx((210.0, 140.0), abs=0.01)
    where = placed(out)
    register_fonts()  # for width_mm in this process
    name_label = width_mm("名称：", P.TEXT_FONT, 9.0)
    expected = {
        official: (155.0 + 1.0 + width_mm("开票日期：", P.TEXT_FONT, 9.0) + 1.0, P.NUMBER_BASELINE),
        BUYER: (4.5 + 6.0 + 1.0 + name_label + 1.0, P.NAME_BASELINE),
        SELLER: (4.5 + 6.0 + 94.5 + 6.0 + 1.0 + name_label + 1.0, P.NAME_BASELINE),
        "张三": (4.5 + 1.0 + width_mm("开票人：", P.TEXT_FONT, 9.0) + 1.0, P.DRAWER_BASELINE),
    }
    for text, (x, y) in expected.items():
        want, got = calibration.place(x, y), where[text]
        assert abs(got[0] - want[0]) <= TOLERANCE and abs(got[1] - want[1]) <= TOLERANCE, (text, got, want)
    text = squeeze(pdftotext(out))
    assert "副本" not in text and CODE not in text and "电子发票" not in text  # data only; the form has the rest
    # The sheet is recorded with the invoice, and the print with the sheet.
    held = paper_stock.sheet_of(record.number)
    assert held is not None and (held.code, held.number, held.state) == (CODE, FIRST, paper_stock.PRINTED)
    (entry,) = printed_entries()
    assert (entry["form_code"], entry["form_number"], entry["copy"], entry["official_number"]) == (
        CODE, FIRST, False, official)
    assert entry["target"] == str(out.resolve())
    # The calibration page is printed with the offset and the scale.
    page = tmp_path / "cal.pdf"
    assert run_cli(data_dir, "printer", "calibration", "-o", str(page)).returncode == 0
    assert "比例：X1.0120，Y0.9880" in squeeze(pdftotext(page))
    # The paper QR code, where the calibration puts (7, 6) 20 × 20, holds section 7's content with the sheet.
    qx, qy = calibration.place(P.QR_X, P.QR_Y)
    codes = decode_qr(out, 1, (qx - 2, qy - 2, 24, 24))
    assert codes == [expected_qr(record, official, FIRST)]


def test_a_reprint_goes_onto_the_record_of_its_sheet_and_is_marked_copy(tmp_path, paper):
    record, official = paper
    paper_stock.load_pack(CODE, FIRST, 25)
    first = print_paper_to_pdf(tmp_path / "first.pdf", [record.number], clerk="张三")
    again = print_paper_to_pdf(tmp_path / "again.pdf", [official])  # by its official number this time
    assert [p.sheet.number for p in first.prints] == [p.sheet.number for p in again.prints] == [FIRST]
    assert first.prints[0].new_sheet and not first.prints[0].view.copy
    assert again.prints[0].view.copy and again.copies == 1
    assert "副本" not in pdftotext(tmp_path / "first.pdf") and "副本" in pdftotext(tmp_path / "again.pdf")
    assert paper_stock.packs()[0].used == 1  # no second sheet taken
    sheet = paper_stock.sheet_in_printer()
    assert sheet is not None and sheet.number == "00012302"
    assert [(e["form_number"], e["copy"]) for e in printed_entries()] == [(FIRST, False), (FIRST, True)]
    # Its sheet spoiled (jammed), the next print takes a new sheet and is the invoice again, not a copy.
    paper_stock.spoil_sheet(FIRST, reason="卡纸", code=CODE)
    anew = print_paper_to_pdf(tmp_path / "anew.pdf", [record.number])
    assert anew.prints[0].sheet.number == "00012302" and not anew.prints[0].view.copy
    assert "副本" not in pdftotext(tmp_path / "anew.pdf")
    assert decode_qr(tmp_path / "anew.pdf") == [expected_qr(record, official, "00012302")]
    assert decode_qr(tmp_path / "again.pdf") == [expected_qr(record, official, FIRST)]


def test_an_electronic_invoice_is_refused_naming_it_and_no_sheet_is_taken(tmp_path, data_dir, online, paper):
    record, _official = paper
    electronic, electronic_official = issued_by_platform(online, invoice_body())
    pending = issue_invoice(invoice_body(medium="paper"))  # a pre-issue record: not an invoice yet
    paper_stock.load_pack(CODE, FIRST, 25)
    out = tmp_path / "refused.pdf"
    with pytest.raises(P.NotOnPaperForm) as refused:
        print_paper_to_pdf(out, [record.number, electronic.number, pending.number])
    assert refused.value.numbers == [electronic.number, pending.number]
    zh, en = refused.value.message_zh, refused.value.message_en
    assert electronic_official in zh and "电子发票" in zh and "普通纸" in zh and "medium" in zh
    assert electronic_official in en and "electronic invoice" in en and "plain paper" in en
    assert pending.number in zh and "预开单（非发票）" in zh and "not an invoice" in en
    assert not out.exists() and list(tmp_path.glob(".paper-printing-*")) == []
    assert paper_stock.sheet_of(record.number) is None and paper_stock.packs()[0].used == 0
    assert printed_entries() == []
    cli = run_cli(data_dir, "print", electronic_official, "-o", str(out), "--overlay")
    assert cli.returncode == 2 and electronic_official in cli.stderr and "plain paper" in cli.stderr
    assert not out.exists()
    # The face (without --overlay) is what an electronic invoice prints, on plain paper.
    face = run_cli(data_dir, "print", electronic_official, "-o", str(out))
    assert face.returncode == 0, face.stderr
    assert paper_stock.packs()[0].used == 0  # still no sheet taken
    # And the face's document no longer puts anything onto forms.
    with pytest.raises(DeskError) as overlaid:
        print_to_pdf([electronic.number], tmp_path / "face-on-form.pdf", options_for(overlay=True))
    assert "plain paper" in str(overlaid.value.message_en) and not (tmp_path / "face-on-form.pdf").exists()


def test_a_job_that_fails_takes_no_sheet_and_records_nothing(tmp_path, online, paper):
    record, official = paper
    other, _ = issued_by_platform(online, full_body(medium="paper", remarks="第二张"))
    with pytest.raises(paper_stock.NoPaperForm):  # no pack loaded
        print_paper_to_pdf(tmp_path / "none.pdf", [record.number])
    paper_stock.load_pack(CODE, FIRST, 1)  # one sheet for two invoices: the second finds none, the first keeps none
    with pytest.raises(paper_stock.NoPaperForm):
        print_paper_to_pdf(tmp_path / "two.pdf", [record.number, other.number])
    assert not (tmp_path / "two.pdf").exists() and paper_stock.packs()[0].used == 0

    def jammed(_pdf: bytes) -> None:
        raise OSError("printer jammed")

    with pytest.raises(OSError):
        print_paper_invoices([record.number], jammed, target="Epson LQ-630K")
    assert paper_stock.sheet_of(record.number) is None and printed_entries() == []
    # The preview shows the sheet the print would take, and takes none.
    preview = preview_paper_invoices([record.number])
    assert [p.sheet.number for p in preview.prints] == [FIRST] and preview.pdf.startswith(b"%PDF")
    assert paper_stock.sheet_of(record.number) is None and paper_stock.packs()[0].used == 0
    done = print_paper_to_pdf(tmp_path / "one.pdf", [record.number])
    assert done.prints[0].sheet.number == FIRST  # the sheet none of the failures took
    assert [e["form_number"] for e in printed_entries()] == [FIRST]
    assert decode_qr(tmp_path / "one.pdf") == [expected_qr(record, official, FIRST)]


def test_the_face_ignores_the_forms_offset(tmp_path, paper):
    record, _ = paper
    save_profile("skewed", offset_x_mm=5, offset_y_mm=5, scale_x="1.02")
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    print_to_pdf([record.number], a, options_for(""))
    print_to_pdf([record.number], b, options_for("skewed"))
    assert find_word(words(a), BUYER) == find_word(words(b), BUYER)


def test_calibration_page_crosses_move_with_the_offset_and_the_dialog_arithmetic(tmp_path):
    zero, shifted = tmp_path / "zero.pdf", tmp_path / "shifted.pdf"
    zero.write_bytes(render_calibration("invoice", 0, 0, "HP"))
    shifted.write_bytes(render_calibration("invoice", 1.5, -0.5, "HP"))
    label = "(120,"  # the label beside the middle cross, "(120, 70)"
    a, b = find_word(words(zero), label), find_word(words(shifted), label)
    assert b.x0 - a.x0 == pytest.approx(1.5 * MM, abs=0.05) and b.y0 - a.y0 == pytest.approx(-0.5 * MM, abs=0.05)
    text = squeeze(pdftotext(shifted))
    assert "套打校准页" in text and "X+1.5mm" in text and "Y-0.5mm" in text
    # A cross at (20, 20) measured at (21.2, 19.5) with offset (1.5, -0.5): move by (-1.2, +0.5).
    assert corrected_offset((1.5, -0.5), CROSSES[0], (21.2, 19.5)) == (0.3, 0.0)
    a4 = tmp_path / "a4.pdf"
    a4.write_bytes(render_calibration("a4", 0, 0))
    assert "(48.5," in [w.text for w in words(a4)]  # on A4 the nominal places count from the sheet's edge
    scaled = tmp_path / "scaled.pdf"
    scaled.write_bytes(render_calibration("invoice", 1.5, -0.5, "HP", 1.01, 0.99))
    c = find_word(words(scaled), label)
    want = Calibration(1.5, -0.5, 1.01, 0.99).place(121.5, 0)[0]  # the label starts 1.5 right of the cross
    assert c.x0 / MM == pytest.approx(want, abs=TOLERANCE)
    assert "比例：X1.0100，Y0.9900" in squeeze(pdftotext(scaled))


def test_printer_profiles_are_checked_and_kept(store):
    assert get_profile("new") .offset_x_mm == 0 and get_profile("new").paper == "invoice"
    save_profile("HP", paper="a4", offset_x_mm="-1.25", offset_y_mm=2)
    assert get_profile("HP").paper == "a4" and get_profile("HP").offset_x_mm == -1.2  # tenths of a mm (half-even)
    with pytest.raises(ValidationFailed) as failed:
        save_profile("HP", paper="letter", offset_x_mm="abc", offset_y_mm=80)
    assert {e.field for e in failed.value.errors} == {"paper", "offset_x_mm", "offset_y_mm"}
    assert get_profile("HP").paper == "a4"  # nothing stored half-way
    assert [p.printer for p in list_profiles()] == ["HP"]


def test_fast_qr_matrix_equals_reportlab_encoder_with_the_same_mask():
    for data in ("FPDESK1|LX-0000001|20261129|91110108MA0123456G|1060.00|0123456789ab", "x" * 200, "短"):
        reference = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
        reference.addData(data)
        reference.version = reference.calculate_version()
        reference.makeImpl(False, FIXED_MASK)
        assert [[bool(m) for m in row] for row in reference.modules] == qr_modules(data)

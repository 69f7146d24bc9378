"""The overlay (套打) moves by the printer's calibrated offset; the calibration page shows it."""

from __future__ import annotations

import pytest
from reportlab.graphics.barcode import qrencoder

from app.core.errors import ValidationFailed
from app.printing.calibration import CROSSES, corrected_offset
from app.printing.document import render_calibration
from app.printing.qr import FIXED_MASK, qr_modules
from app.services.printer_profiles import get_profile, list_profiles, save_profile
from app.services.printing import options_for, print_to_pdf
from tests.helpers.bodies import BUYER_TAX_ID
from tests.helpers.pdf import MM, find_word, pdftotext, squeeze, words


def overlay_words(tmp_path, number, printer, name):
    path = tmp_path / name
    print_to_pdf([number], path, options_for(printer, overlay=True))
    return path, words(path)


def test_overlay_prints_data_only_at_the_layout_places_moved_by_the_offset(tmp_path, accepted):
    issued = accepted
    save_profile("Epson LQ-630K", paper="invoice", offset_x_mm="3.5", offset_y_mm="-2")
    plain_path, plain = overlay_words(tmp_path, issued.number, "never calibrated", "plain.pdf")
    _moved_path, moved = overlay_words(tmp_path, issued.number, "Epson LQ-630K", "moved.pdf")
    text = squeeze(pdftotext(plain_path))
    assert "北京客户贸易有限公司" in text and BUYER_TAX_ID in text and "¥8039.31" in text
    for label in ("货物或应税劳务", "纳税人识别号", "价税合计", "北京增值税普通发票", "电子发票", "开票人"):
        assert label not in text  # the pre-printed paper has those
    date = issued.invoice.issued_at
    for word in (BUYER_TAX_ID, "¥8039.31", "1000.00", f"{date.year}年{date.month:02d}月{date.day:02d}日"):
        a, b = find_word(plain, word), find_word(moved, word)
        assert b.x0 - a.x0 == pytest.approx(3.5 * MM, abs=0.05), word
        assert b.y0 - a.y0 == pytest.approx(-2.0 * MM, abs=0.05), word


def test_full_form_ignores_the_overlay_offset(tmp_path, issued):
    save_profile("skewed", offset_x_mm=5, offset_y_mm=5)
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    print_to_pdf([issued.number], a, options_for(""))
    print_to_pdf([issued.number], b, options_for("skewed"))
    assert find_word(words(a), BUYER_TAX_ID) == find_word(words(b), BUYER_TAX_ID)


def test_overlay_refuses_more_lines_than_the_form_holds(tmp_path, seller):
    from app.printing.overlay import TooManyLinesForForm
    from app.services.issuing import issue_invoice
    from tests.helpers.bodies import invoice_body, long_lines
    from tests.helpers.platform import accept

    long = issue_invoice(invoice_body(lines=long_lines(9)))
    accept(long.number)
    path = tmp_path / "long.pdf"
    with pytest.raises(TooManyLinesForForm) as refused:
        print_to_pdf([long.number], path, options_for(overlay=True))
    assert "lines" in refused.value.message_en and not path.exists()


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

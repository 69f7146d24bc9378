"""The data-only print onto the form: where the data lands after the printer's offset and scale (read back from
the PDF with pypdf, within 0.3 mm), the paper QR content with the sheet's code and number, what is refused,
the calibration arithmetic and its keeping, the calibration dialog, and the CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.core.errors import ValidationFailed
from app.core.qr_content import PaperForm, crc16
from app.printing import paper_form as P
from app.printing.calibration import Calibration, corrected_calibration
from app.printing.pen import width_mm
from app.services import paper_stock
from app.services.printer_profiles import get_profile, save_profile
from app.services.printing_log import load_print_views
from tests.helpers.cli import run_cli
from tests.helpers.pdf import MM, fonts_without_embedded_file, pdftotext, squeeze
from tests.paper.conftest import CODE, OFFICIAL

TOLERANCE = 0.3  # mm


def _placed(path: Path) -> dict[str, tuple[float, float]]:
    """First text run of each string -> its origin in mm from the page's left and top edges."""
    reader = PdfReader(str(path))
    height = float(reader.pages[0].mediabox.height) / MM
    found: dict[str, tuple[float, float]] = {}

    def visit(text, cm, tm, _font, _size):
        key = text.strip().split(" ")[0]
        if key and key not in found:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found[key] = (x / MM, height - y / MM)

    reader.pages[0].extract_text(visitor_text=visit)
    return found


def _print(tmp_path: Path, number: str, calibration: Calibration, name: str) -> tuple[Path, str, PaperForm]:
    taken = paper_stock.sheet_for_print(number, clerk="张三")
    view = load_print_views([number])[0]
    out = tmp_path / name
    with out.open("wb") as f:
        (content,) = P.write_paper_invoices(f, [(view, taken.sheet.form)], calibration)
    return out, content, taken.sheet.form


def test_the_data_lands_where_offset_and_scale_put_it(tmp_path, paper_invoice):
    paper_stock.load_pack(CODE, "00012301", 50)
    calibration = Calibration(offset_x_mm=2.0, offset_y_mm=-1.5, scale_x=1.012, scale_y=0.988)
    out, _content, _form = _print(tmp_path, paper_invoice.number, calibration, "scaled.pdf")
    reader = PdfReader(str(out))
    box = reader.pages[0].mediabox
    assert (float(box.width) / MM, float(box.height) / MM) == pytest.approx((210.0, 140.0), abs=0.01)
    placed = _placed(out)
    label = width_mm("开票日期：", P.TEXT_FONT, 9.0)
    expected = {
        # The number and the date after their labels 155 from the left (section 6), on our two rows.
        OFFICIAL: (155.0 + 1.0 + label + 1.0, P.NUMBER_BASELINE),
        "北京客户贸易有限公司": (4.5 + 6.0 + 1.0 + width_mm("名称：", P.TEXT_FONT, 9.0) + 1.0, 38.0),
        "北京某某科技有限公司": (4.5 + 6.0 + 94.5 + 6.0 + 1.0 + width_mm("名称：", P.TEXT_FONT, 9.0) + 1.0, 38.0),
        "张三": (4.5 + 1.0 + width_mm("开票人：", P.TEXT_FONT, 9.0) + 1.0, 140.0 - 8.5),
    }
    for text, (x, y) in expected.items():
        want = calibration.place(x, y)
        got = placed[text]
        assert abs(got[0] - want[0]) <= TOLERANCE and abs(got[1] - want[1]) <= TOLERANCE, (text, got, want)
    # A line's name starts in the first column of the lines band (x 4.5, its first row below the 4.5 heading).
    name_x, name_y = placed["*信息技术服务*软件开发"]
    want_x, _ = calibration.place(4.5 + 1.0, 0)
    assert abs(name_x - want_x) <= TOLERANCE
    assert calibration.place(0, 56.5)[1] < name_y < calibration.place(0, 56.5 + 4.375)[1]
    # The same print without calibration: the distance between two far texts stretches by exactly the scale.
    paper_stock.spoil_sheet("00012301", reason="校准测试", code=CODE)
    plain, _, _ = _print(tmp_path, paper_invoice.number, Calibration(), "plain.pdf")
    a, b = _placed(plain), placed
    across = (b["91110108MA0123456G"][0] - b["张三"][0]) / (a["91110108MA0123456G"][0] - a["张三"][0])
    down = (b["张三"][1] - b[OFFICIAL][1]) / (a["张三"][1] - a[OFFICIAL][1])
    assert across == pytest.approx(1.012, abs=0.002) and down == pytest.approx(0.988, abs=0.002)


def test_the_paper_qr_content_carries_the_sheet_and_the_print_is_data_only(tmp_path, paper_invoice):
    paper_stock.load_pack(CODE, "00012301", 50)
    out, content, form = _print(tmp_path, paper_invoice.number, Calibration(), "paper.pdf")
    assert form == PaperForm(CODE, "00012301")
    date = paper_invoice.invoice.issued_at.strftime("%Y%m%d")
    head = f"01,32,{CODE},00012301,7238.50,{date},634917,"  # amount without tax; last 6 digits of the number
    assert content == head + f"{crc16(head.encode('ascii')):04X}"
    text = squeeze(pdftotext(out))
    for data in (OFFICIAL, "北京客户贸易有限公司", "91110000600037341L", "*蔬菜*有机白菜", "免税", "***",
                 "¥7238.50", "¥800.81", "¥8039.31", "捌仟零叁拾玖圆叁角壹分", "收款人：李四复核人：王五", "张三"):
        assert data in text, data
    for label in ("电子发票", "发票号码", "开票日期", "购买方", "名称", "价税合计", "备注", "开票人", CODE, "00012301"):
        assert label not in text, label  # the form has them printed already
    assert fonts_without_embedded_file(out) == []
    png = tmp_path / "paper"
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(out), str(png)], check=True)
    assert png.with_suffix(".png").stat().st_size > 5000


def test_what_never_goes_onto_a_form_is_refused_before_drawing(tmp_path, seller):
    from app.services.issuing import issue_invoice
    from tests.helpers.bodies import invoice_body, long_lines
    from tests.helpers.platform import accept

    record = issue_invoice(invoice_body(medium="paper"))
    electronic = issue_invoice(invoice_body())
    accept(electronic.number, "24312000000136630001")
    long = issue_invoice(invoice_body(medium="paper", lines=long_lines(9)))
    accept(long.number, "24312000000136630002")
    form = PaperForm(CODE, "00000001")
    for number, field in ((record.number, "number"), (electronic.number, "medium"), (long.number, "lines")):
        view = load_print_views([number])[0]
        with pytest.raises(P.NotOnPaperForm) as refused:
            P.render_paper_invoices([(view, form)])
        assert refused.value.message_zh.startswith(field) and refused.value.message_en.startswith(field)


def _printer(calibration: Calibration, stretch: tuple[float, float], shift: tuple[float, float],
             point: tuple[float, float]) -> tuple[float, float]:
    """Where a printer that stretches and shifts puts a sheet point drawn with calibration (what a ruler reads)."""
    px, py = calibration.place(*point)
    return shift[0] + stretch[0] * px, shift[1] + stretch[1] * py


def test_two_far_crosses_give_the_scale_and_the_corrected_page_lands_true():
    stretch, shift = (1.008, 0.993), (0.7, -1.1)
    current = Calibration(0.5, 0.0, 1.0, 1.0)
    near, far_x, far_y = (20.0, 20.0), (220.0, 20.0), (20.0, 120.0)
    m_near = _printer(current, stretch, shift, near)
    corrected = corrected_calibration(current, near, m_near, (far_x[0], _printer(current, stretch, shift, far_x)[0]),
                                      (far_y[1], _printer(current, stretch, shift, far_y)[1]))
    assert corrected.scale_x == pytest.approx(1 / 1.008, abs=1e-4) and corrected.scale_y == pytest.approx(1 / 0.993,
                                                                                                          abs=1e-4)
    for point in (near, far_x, far_y, (220.0, 120.0), (120.0, 70.0)):
        landed = _printer(corrected, stretch, shift, point)
        assert landed == pytest.approx(point, abs=0.1)  # offsets are kept to 0.1 mm
    # Without the far crosses only the offset moves (the one-cross arithmetic of before).
    only = corrected_calibration(current, near, m_near)
    assert (only.scale_x, only.scale_y) == (1.0, 1.0)
    assert only.offset_x_mm == round(0.5 + 20.0 - m_near[0], 1)


def test_the_scale_is_kept_per_printer_with_the_offset_and_bad_values_are_refused(store):
    save_profile("HP", paper="invoice", offset_x_mm="1.5", offset_y_mm=-0.5, scale_x="1.0123", scale_y=0.99)
    profile = get_profile("HP")
    assert profile.calibration == Calibration(1.5, -0.5, 1.0123, 0.99)
    save_profile("HP", offset_x_mm=2, offset_y_mm=0)  # the command line's `printer set` keeps the scale
    assert (get_profile("HP").scale_x, get_profile("HP").scale_y) == (1.0123, 0.99)
    assert get_profile("other").calibration == Calibration()
    with pytest.raises(ValidationFailed) as failed:
        save_profile("HP", scale_x="abc", scale_y="1.2")
    assert {e.field for e in failed.value.errors} == {"scale_x", "scale_y"}
    assert "比例" in failed.value.describe("zh") and "scale" in failed.value.describe("en")
    assert get_profile("HP").scale_x == 1.0123  # nothing stored


def test_the_calibration_page_is_stretched_by_the_scale(tmp_path):
    from app.printing.calibration import draw_calibration
    from app.printing.document import new_canvas
    from app.printing.fonts import register_fonts
    from app.printing.geometry import paper

    register_fonts()
    sheet = paper("invoice")
    out = tmp_path / "cal.pdf"
    with out.open("wb") as f:
        canvas = new_canvas(f, sheet)
        draw_calibration(canvas, sheet, 1.0, 2.0, "HP", scale_x=1.01, scale_y=0.99)
        canvas.showPage()
        canvas.save()
    placed = _placed(out)
    x, y = placed["(120,"]  # the label beside the middle cross (120, 70), drawn at (121.5, 68.5)
    want = Calibration(1.0, 2.0, 1.01, 0.99).place(121.5, 68.5)
    assert abs(x - want[0]) <= TOLERANCE and abs(y - want[1]) <= TOLERANCE
    assert "比例：X1.0100，Y0.9900" in squeeze(pdftotext(out))


def test_the_calibration_dialog_corrects_and_keeps_offset_and_scale(qtbot, store):
    from PySide6.QtCore import Qt

    from app.ui.calibration_dialog import CalibrationDialog

    save_profile("", paper="invoice", offset_x_mm=0, offset_y_mm=0)
    dialog = CalibrationDialog("")
    qtbot.addWidget(dialog)
    assert (dialog.scale_x.value(), dialog.scale_y.value()) == (1.0, 1.0) and dialog.far_nominal() == (220.0, 120.0)
    # The printer stretched 1 % across and shrank 1 % down, with no shift: (20,20) at (20.2,19.8),
    # the top-right cross at 222.2 from the left, the bottom-left one at 118.8 from the top.
    dialog.measured_x.setValue(20.2)
    dialog.measured_y.setValue(19.8)
    dialog.measured_far_x.setValue(222.2)
    dialog.measured_far_y.setValue(118.8)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.scale_x.value() == pytest.approx(1 / 1.01, abs=1e-4)
    assert dialog.scale_y.value() == pytest.approx(1 / 0.99, abs=1e-4)
    assert (dialog.offset_x.value(), dialog.offset_y.value()) == (0.0, 0.0)
    assert dialog.measured_far_x.text() == "未量"  # back to not measured for the next page
    dialog.save()
    profile = get_profile("")
    assert (profile.scale_x, profile.scale_y) == (round(1 / 1.01, 4), round(1 / 0.99, 4))


def test_the_paper_command_line(data_dir, seller):
    ok = run_cli(data_dir, "paper", "load", "--code", CODE, "--first", "00000001", "--count", "25")
    assert ok.returncode == 0, ok.stderr
    assert "00000001–00000025" in ok.stdout
    bad = run_cli(data_dir, "paper", "load", "--code", "12345", "--first", "1", "--count", "x")
    assert bad.returncode == 2
    assert "发票代码" in bad.stderr and "起始号码" in bad.stderr and "张数" in bad.stderr and "10 或 12" in bad.stderr
    overlap = run_cli(data_dir, "--lang", "en", "paper", "load", "--code", CODE, "--first", "00000020", "--count", "5")
    assert overlap.returncode == 2 and "first" in overlap.stderr and "overlap" in overlap.stderr
    spoiled = run_cli(data_dir, "paper", "spoil", "00000001", "--reason", "卡纸")
    assert spoiled.returncode == 0, spoiled.stderr
    assert run_cli(data_dir, "paper", "spoil", "00000001", "--reason", "again").returncode == 2
    shown = run_cli(data_dir, "paper", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    import json

    data = json.loads(shown.stdout)
    assert data["next"]["normal"] == {"code": CODE, "number": "00000002"} and data["next"]["special"] is None
    assert data["packs"][0]["left"] == 24 and data["packs"][0]["spoiled"] == 1
    text = run_cli(data_dir, "paper", "show")
    assert "00000002" in text.stdout and "剩余 24 张" in text.stdout

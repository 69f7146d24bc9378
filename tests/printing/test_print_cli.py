"""python -m app print: one PDF of stored invoices; unknown numbers exit 2 and write nothing."""

from __future__ import annotations

import json

from pypdf import PdfReader

from tests.helpers.bodies import invoice_body, long_lines
from tests.helpers.cli import run_cli
from tests.helpers.pdf import pdffonts, pdftotext, squeeze
from tests.helpers.platform import accept


def issue_via_cli(data_dir, tmp_path, bodies):
    source = tmp_path / "bodies.json"
    source.write_text(json.dumps(bodies, ensure_ascii=False), encoding="utf-8")
    result = run_cli(data_dir, "issue", str(source), "--json")
    assert result.returncode == 0, result.stderr
    return [row["number"] for row in json.loads(result.stdout)]


def test_print_writes_one_pdf_with_all_invoices(tmp_path, data_dir, seller):
    numbers = issue_via_cli(data_dir, tmp_path, [invoice_body(), invoice_body(lines=long_lines(20))])
    out = tmp_path / "out.pdf"
    result = run_cli(data_dir, "print", *numbers, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert len(PdfReader(str(out)).pages) == 2  # two pre-issue slips (the 20-line one taller), no sales list
    assert all(row["emb"] == "yes" for row in pdffonts(out))
    text = squeeze(pdftotext(out))
    assert all(number in text for number in numbers)
    assert "2 张预开单（非发票）" in result.stdout and "张发票" not in result.stdout  # pre-issue records: not invoices
    again = run_cli(data_dir, "print", numbers[0], "-o", str(tmp_path / "again.pdf"))
    assert again.returncode == 0 and "副本" in again.stdout
    assert "副本" in pdftotext(tmp_path / "again.pdf")


def test_unknown_number_exits_2_and_writes_nothing(tmp_path, data_dir, seller):
    numbers = issue_via_cli(data_dir, tmp_path, [invoice_body()])
    out = tmp_path / "out.pdf"
    out_dir_before = sorted(p.name for p in tmp_path.iterdir())
    result = run_cli(data_dir, "print", numbers[0], "LX-7654321", "-o", str(out))
    assert result.returncode == 2
    assert "LX-7654321" in result.stderr and "number" in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == out_dir_before
    # Nothing was recorded as printed either: the next print is not a copy.
    first = run_cli(data_dir, "print", numbers[0], "-o", str(out))
    assert first.returncode == 0 and "副本" not in pdftotext(out)


def test_an_electronic_invoice_is_not_printed_onto_forms_and_the_printer_profile(tmp_path, data_dir, seller):
    numbers = issue_via_cli(data_dir, tmp_path, [invoice_body()])
    accept(numbers[0])  # an electronic invoice: its face prints on plain paper, never onto pre-printed forms
    assert run_cli(data_dir, "printer", "set", "--offset-x", "2", "--offset-y", "1").returncode == 0
    bad = run_cli(data_dir, "printer", "set", "--offset-x", "far")
    assert bad.returncode == 2 and "offset_x_mm" in bad.stderr
    out = tmp_path / "overlay.pdf"
    result = run_cli(data_dir, "print", numbers[0], "-o", str(out), "--overlay")
    assert result.returncode == 2 and not out.exists(), result.stderr
    assert run_cli(data_dir, "print", numbers[0], "-o", str(out)).returncode == 0  # on plain paper it prints
    calibration = tmp_path / "cal.pdf"
    assert run_cli(data_dir, "printer", "calibration", "-o", str(calibration)).returncode == 0
    assert "X +2.0 mm" in pdftotext(calibration)


def test_output_in_a_missing_folder_exits_2(tmp_path, data_dir, seller):
    numbers = issue_via_cli(data_dir, tmp_path, [invoice_body()])
    result = run_cli(data_dir, "print", numbers[0], "-o", str(tmp_path / "no" / "such" / "out.pdf"))
    assert result.returncode == 2 and "output" in result.stderr
    assert not (tmp_path / "no").exists()


def test_a_pre_issue_record_is_not_put_onto_invoice_forms(tmp_path, data_dir, seller):
    numbers = issue_via_cli(data_dir, tmp_path, [invoice_body()])
    out = tmp_path / "overlay.pdf"
    refused = run_cli(data_dir, "print", numbers[0], "-o", str(out), "--overlay")
    assert refused.returncode == 2, refused.stderr
    assert numbers[0] in refused.stderr and "预开单（非发票）" in refused.stderr and "not an invoice" in refused.stderr
    assert not out.exists()
    full = run_cli(data_dir, "print", numbers[0], "-o", str(out))
    assert full.returncode == 0 and "1 张预开单（非发票）" in full.stdout and "副本" not in full.stdout  # none recorded
    assert "NOTANINVOICE" in squeeze(pdftotext(out))

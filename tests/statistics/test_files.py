"""`python -m app stats` as a clerk runs it, and the files it writes read back: JSON, XLSX (openpyxl: money as
numbers with two places, dates as dates, text neutralised), CSV, and the PDF's text (pypdf: Chinese set in the
shipped font, embedded)."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook  # type: ignore[import-untyped]
from pypdf import PdfReader

from app.reports import statistics as st
from app.reports.statistics_pdf import write_statistics_pdf
from app.reports.statistics_xlsx import write_csv, write_xlsx
from tests.helpers.bodies import SOFTWARE
from tests.helpers.cli import run_cli


def _fonts(pdf: Path) -> list[Any]:
    fonts: list[Any] = []
    for page in PdfReader(pdf).pages:
        resources: Any = page["/Resources"]
        fonts += [font.get_object() for font in resources["/Font"].values()]
    return fonts


def test_stats_json_and_xlsx_from_the_command_line(numbers, data_dir, tmp_path):
    book = tmp_path / "十月.xlsx"
    result = run_cli(data_dir, "stats", "--month", "2026-10", "--by", "rate", "--json", "--xlsx", str(book))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["from"] == "2026-10-01" and shown["to"] == "2026-10-31" and shown["by"] == "rate"
    assert shown["totals"]["net"] == {"count": 5, "amount": "8698.50", "tax": "990.81", "with_tax": "9689.31"}
    assert shown["totals"]["pre_issue"]["count"] == 1 and shown["totals"]["withdrawn"]["count"] == 1
    assert [row["key"] for row in shown["rows"]] == ["0.13", "0.06"]
    assert shown["rows"][1]["red"] == {"count": 1, "amount": "-1000.00", "tax": "-60.00", "with_tax": "-1060.00"}
    month = shown["month"]
    assert month["period"] == "202610" and month["count"] == 5 and month["matches"] is True
    assert month["waiting"] == 1 and month["closes_at"] == "2026-11-13T00:00:00+08:00"
    assert len(shown["series"]) == 31 and shown["files"] == [str(book)]

    sheet = load_workbook(book)["统计"]
    assert sheet["B2"].value == datetime(2026, 10, 1) and sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["D2"].value == datetime(2026, 10, 31)
    assert sheet["A6"].value == "税率" and sheet["B6"].value == "蓝字发票" and sheet["B7"].value == "张数"
    assert sheet["C7"].value == "金额" and sheet["Q7"].value == "价税合计"
    assert [sheet.cell(r, 1).value for r in (8, 9, 10)] == ["13%", "6%", "总计"]
    # 6 %: blue count, amount, tax, with tax; red amount; net with tax
    assert [sheet.cell(9, c).value for c in (2, 3, 4, 5)] == [3, 3000, 180, 3180]
    assert sheet.cell(9, 7).value == -1000 and sheet.cell(9, 7).number_format == "0.00"
    assert sheet.cell(10, 15).value == 8698.5 and sheet.cell(10, 16).value == 990.81
    assert sheet.cell(10, 15).number_format == "0.00" and sheet.cell(10, 2).number_format == "General"
    apart = {sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in range(11, sheet.max_row + 1)
             if sheet.cell(r, 1).value and sheet.cell(r, 2).value is not None}
    assert apart["预开单（非发票） / pre-issue records (not invoices)"] == 1
    days = load_workbook(book)["按日"]
    assert days["A2"].value == datetime(2026, 10, 1) and days["A2"].number_format == "yyyy-mm-dd"
    assert days["E6"].value == 3250 and days["E6"].number_format == "0.00"


def test_stats_text_csv_pdf_and_a_bad_period(numbers, data_dir, tmp_path):
    table, pdf = tmp_path / "codes.csv", tmp_path / "codes.pdf"
    result = run_cli(data_dir, "stats", "--from", "2026-10-01", "--to", "2026-10-31", "--by", "code",
                     "--csv", str(table), "--pdf", str(pdf))
    assert result.returncode == 0, result.stderr
    assert "发票统计 2026-10-01 — 2026-10-31" in result.stdout and SOFTWARE in result.stdout
    assert "合计（蓝字+红字）：5 张，金额 8,698.50，税额 990.81" in result.stdout
    assert "月度汇总 202610（未确认）" in result.stdout

    with table.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["税收分类编码", "名称", "蓝字发票 张数"] and rows[0][-1] == "合计（蓝字+红字） 价税合计"
    software = next(row for row in rows if row[0] == "\t" + SOFTWARE)  # kept text in Excel
    assert software[1] == "*信息技术服务*软件开发服务" and software[2:6] == ["3", "3000.00", "180.00", "3180.00"]
    assert rows[-1][0] == "总计" and rows[-1][-4:] == ["5", "8698.50", "990.81", "9689.31"]

    text = "".join(page.extract_text() for page in PdfReader(pdf).pages).replace("\n", "")  # cells wrap
    assert "发票统计" in text and "2026年10月" in text and "软件开发服务" in text and "预开单" in text
    assert "8,698.50" in text and "-1,000.00" in text and "月度汇总 202610" in text
    fonts = _fonts(pdf)
    names = {str(font.get("/BaseFont")) for font in fonts}
    assert names and all("+" in name for name in names), names  # subsets of the shipped font, no Helvetica
    for font in fonts:
        descriptor = font.get("/FontDescriptor")
        assert descriptor is None or "/FontFile2" in descriptor.get_object()  # embedded

    bad = run_cli(data_dir, "stats", "--month", "2026-13")
    assert bad.returncode == 2 and "月份应为 YYYY-MM" in bad.stderr
    backwards = run_cli(data_dir, "stats", "--from", "2026-10-31", "--to", "2026-10-01")
    assert backwards.returncode == 2 and "早于开始日期" in backwards.stderr


def test_formula_text_is_neutralised_and_money_stays_exact(tmp_path):
    """A buyer named like a formula stays text in both files; money is exact to the fen."""
    figures = {st.BLUE: st.Figures(1, Decimal("1234567.89"), Decimal("160493.83"))}
    row = st.GroupRow("", "=HYPERLINK(\"http://x\")", "=HYPERLINK(\"http://x\")", figures, detail="+86")
    stats = st.Statistics(date(2026, 10, 1), date(2026, 10, 31), st.BY_BUYER, (row,), figures, st.BY_DAY, ())
    book = write_xlsx(stats, tmp_path / "f.xlsx")
    sheet = load_workbook(book)["统计"]
    assert sheet["A8"].value == "'=HYPERLINK(\"http://x\")" and sheet["B8"].value == "'+86"
    assert sheet["D8"].value == 1234567.89 and sheet["E8"].value == 160493.83
    with write_csv(stats, tmp_path / "f.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][:2] == ["'=HYPERLINK(\"http://x\")", "'+86"] and rows[1][3] == "1234567.89"
    write_statistics_pdf(stats, tmp_path / "f.pdf")  # an empty chart is drawn too
    assert "1,234,567.89" in PdfReader(tmp_path / "f.pdf").pages[0].extract_text()

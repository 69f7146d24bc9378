"""The invoice list to .xlsx and .csv: numbers as text, money as numbers, dates as dates, formulas neutralised."""

from __future__ import annotations

import csv
import tracemalloc
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from app.core.clock import in_beijing, now
from app.core.errors import ValidationFailed
from app.core.status import PENDING_UPLOAD, PRE_ISSUE
from app.services.issuing import issue_invoices
from app.services.list_export import ExportCancelled, ListFilter, export_list
from app.store.models import Invoice
from tests.helpers.bodies import OFFICIAL_NUMBER, full_body, invoice_body
from tests.helpers.bulk_invoices import insert_invoices
from tests.helpers.cli import run_cli


def _issue_three() -> list[str]:
    issued = issue_invoices([invoice_body(remarks="=HYPERLINK(\"http://x\")"), full_body(),
                             invoice_body(buyer={"name": "+上海某某信息技术有限公司"})], clerk="张三")
    # The platform's 20-digit number beside the first one, as an upload leaves it.
    Invoice.update(official_number=OFFICIAL_NUMBER, status=PENDING_UPLOAD).where(
        Invoice.provisional_number == issued[0].number).execute()
    return [i.number for i in issued]


def _rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_xlsx_keeps_numbers_as_text_money_as_numbers_and_dates_as_dates(store, seller, tmp_path):
    numbers = _issue_three()
    result = export_list(tmp_path / "list.xlsx", lines=True)
    assert (result.invoices, result.lines) == (3, 5)
    book = load_workbook(tmp_path / "list.xlsx")
    assert book.sheetnames == ["发票列表", "发票明细"]
    sheet = book["发票列表"]
    heads = [c.value for c in sheet[1]]
    assert heads[:3] == ["号码", "正式号码", "开票日期"] and "价税合计" in heads
    col = {name: index for index, name in enumerate(heads)}
    rows = list(sheet.iter_rows(min_row=2))
    assert [r[col["号码"]].value for r in rows] == numbers[::-1]  # newest first
    first = rows[-1]
    official = first[col["正式号码"]]
    assert official.value == OFFICIAL_NUMBER and isinstance(official.value, str) and official.number_format == "@"
    total = first[col["价税合计"]]
    assert total.value == pytest.approx(1060.00) and isinstance(total.value, int | float)
    assert total.number_format == "0.00"
    assert first[col["税额"]].value == pytest.approx(60.00) and first[col["金额"]].number_format == "0.00"
    issued = first[col["开票日期"]].value
    assert isinstance(issued, datetime)
    assert abs(issued - in_beijing(now()).replace(tzinfo=None)) < timedelta(minutes=5)
    assert first[col["备注"]].value == "'=HYPERLINK(\"http://x\")"  # neutralised: Excel shows it as text
    assert rows[0][col["购买方名称"]].value == "'+上海某某信息技术有限公司"
    assert first[col["状态"]].value == "已开具，待上传" and rows[0][col["状态"]].value.startswith("预开单")

    lines = book["发票明细"]
    line_heads = [c.value for c in lines[1]]
    line_rows = list(lines.iter_rows(min_row=2))
    assert len(line_rows) == 5
    code = line_rows[0][line_heads.index("税收分类编码")]
    assert isinstance(code.value, str) and len(code.value) == 19 and code.number_format == "@"
    printer = next(r for r in line_rows if "打印机" in r[line_heads.index("项目名称")].value)
    assert printer[line_heads.index("单价")].value == pytest.approx(1899.5)
    assert printer[line_heads.index("金额")].value == pytest.approx(5698.50)
    assert printer[line_heads.index("金额")].number_format == "0.00"
    assert printer[line_heads.index("税率")].value == "13%"


def test_csv_is_utf8_with_bom_and_safe_for_excel(store, seller, tmp_path):
    _issue_three()
    export_list(tmp_path / "list.csv")
    raw = (tmp_path / "list.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    heads = rows[0]
    first = rows[-1]
    assert first[heads.index("正式号码")] == "\t" + OFFICIAL_NUMBER  # Excel keeps 20 digits as text
    assert first[heads.index("价税合计")] == "1060.00"
    assert datetime.strptime(first[heads.index("开票日期")], "%Y-%m-%d %H:%M:%S")
    assert first[heads.index("备注")].startswith("'=")
    assert rows[1][heads.index("购买方名称")].startswith("'+")


def test_the_filter_picks_status_and_dates(store, seller, tmp_path):
    _issue_three()
    today = in_beijing(now()).date()
    assert export_list(tmp_path / "a.xlsx", ListFilter(status=PRE_ISSUE)).invoices == 2
    assert export_list(tmp_path / "b.xlsx", ListFilter(date_from=today, date_to=today)).invoices == 3
    assert export_list(tmp_path / "c.xlsx", ListFilter(date_to=today - timedelta(days=1))).invoices == 0
    assert len(list(load_workbook(tmp_path / "c.xlsx")["发票列表"].iter_rows())) == 1  # the header alone
    with pytest.raises(ValidationFailed):
        export_list(tmp_path / "d.xlsx", ListFilter(status="nonsense"))
    with pytest.raises(ValidationFailed):
        export_list(tmp_path / "d.xlsx", ListFilter(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)))
    with pytest.raises(ValidationFailed):
        export_list(tmp_path / "d.pdf")


def test_cancel_leaves_no_file(store, seller, tmp_path):
    insert_invoices(2500)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ExportCancelled):
        export_list(folder / "x.xlsx", progress=lambda done, total: done < 1000)
    assert list(folder.iterdir()) == []


def _peak(count: int, tmp_path) -> int:
    tracemalloc.start()
    try:
        result = export_list(tmp_path / f"big-{count}.xlsx")
        assert result.invoices == count
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_does_not_grow_with_the_list(store, seller, tmp_path):
    """Streaming: four times the invoices, about the same peak (a page and openpyxl's buffers)."""
    insert_invoices(1500)
    small = _peak(1500, tmp_path)
    insert_invoices(4500, first=1501)
    large = _peak(6000, tmp_path)
    assert large < small * 1.5 + 512 * 1024, (small, large)


def test_cli_writes_xlsx_and_csv_with_the_list_filter(store, seller, data_dir, tmp_path):
    _issue_three()
    store.close()
    result = run_cli(data_dir, "list", "--status", PRE_ISSUE, "--xlsx", str(tmp_path / "l.xlsx"),
                     "--csv", str(tmp_path / "l.csv"))
    assert result.returncode == 0, result.stderr
    assert "已导出 2 张发票" in result.stdout
    assert len(list(load_workbook(tmp_path / "l.xlsx")["发票列表"].iter_rows())) == 3
    assert len((tmp_path / "l.csv").read_text(encoding="utf-8-sig").splitlines()) == 3
    today = in_beijing(now()).date()
    listed = run_cli(data_dir, "list", "--from", (today + timedelta(days=1)).isoformat())
    assert listed.returncode == 0 and listed.stdout.strip() == ""
    bad = run_cli(data_dir, "list", "--from", "2026-13-01", "--xlsx", str(tmp_path / "z.xlsx"))
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    with_lines = run_cli(data_dir, "list", "--xlsx", str(tmp_path / "all.xlsx"), "--lines")
    assert with_lines.returncode == 0 and "5 行明细" in with_lines.stdout
    assert Decimal(str(load_workbook(tmp_path / "all.xlsx")["发票明细"]["J2"].value)) > 0

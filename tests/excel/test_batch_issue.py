"""Batch issuing from a two-sheet workbook: the preview, all or nothing, errors by sheet, row and column."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from app.core.errors import ValidationFailed
from app.services import batch_workbook
from app.services.batch_workbook import SheetCellError, issue_batch, read_batch, save_template
from app.store import queries
from app.store.models import AuditEntry, Invoice
from tests.excel.workbooks import HEADER_COLUMNS, LINE_COLUMNS, good_rows, header, line, write_batch
from tests.helpers.bodies import CABBAGE, PRINTER
from tests.helpers.cli import run_cli


def errors_of(path: Path) -> list[SheetCellError]:
    with pytest.raises(ValidationFailed) as raised:
        read_batch(path)
    errors = raised.value.errors
    assert all(isinstance(e, SheetCellError) for e in errors), errors
    return errors  # type: ignore[return-value]


def where(error: SheetCellError) -> tuple[str, int, str]:
    return error.sheet, error.row, error.column_zh


def test_good_file_previews_then_issues_every_invoice_with_its_lines(store, seller, tmp_path):
    path = write_batch(tmp_path / "batch.xlsx", *good_rows())
    batch = read_batch(path)
    assert [(i.serial, len(i.lines), i.total_with_tax) for i in batch.invoices] == [
        ("A001", 1, Decimal("1060.00")), ("A002", 2, Decimal("6979.31")), ("A003", 1, Decimal("2120.00"))]
    assert Invoice.select().count() == 0  # a preview writes nothing

    issued = issue_batch(batch, clerk="张三")
    assert [i.serial for i in issued] == ["A001", "A002", "A003"]
    second = queries.get_invoice(issued[1].number)
    assert second is not None
    assert [(ln.tax_code, ln.quantity, ln.unit_price, ln.amount, ln.tax_rate, ln.policy) for ln in second.lines] == [
        (PRINTER, Decimal("3"), Decimal("1899.5"), Decimal("5698.50"), "0.13", None),
        (CABBAGE, Decimal("12"), Decimal("45"), Decimal("540.00"), "exempt", "03")]
    assert second.remarks == "合同号 HT-2026-0088" and second.buyer.address == "北京市朝阳区建国路88号"
    third = queries.get_invoice(issued[2].number)
    assert third is not None and third.lines[0].amount == Decimal("2000.00") and third.buyer.tax_id == ""
    entry = AuditEntry.get(AuditEntry.action == "batch_issued")
    assert "batch.xlsx" in entry.detail and "A002" in entry.detail


def test_one_bad_row_issues_nothing_and_names_sheet_row_and_column(store, seller, tmp_path):
    headers, lines = good_rows()
    lines[2]["税率"] = "17%"  # sheet 2, row 4
    path = write_batch(tmp_path / "bad.xlsx", headers, lines)
    errors = errors_of(path)
    assert [where(e) for e in errors] == [("2-发票明细信息", 4, "税率")]
    text = errors[0].describe()
    assert text.startswith("工作表“2-发票明细信息”第4行“税率”列（sheet 2-发票明细信息 row 4 column 税率）：")
    assert "17%" in text and "not a rate in force" in text  # Chinese and English
    with pytest.raises(ValidationFailed):
        batch_workbook.issue_file(path)
    assert Invoice.select().count() == 0


def test_serials_must_match_between_the_sheets(store, seller, tmp_path):
    headers, lines = good_rows()
    headers.append(header("A001"))  # row 5: a duplicate
    headers.append(header("A009"))  # row 6: no lines
    headers.append(header("X" * 21))  # row 7: too long
    lines.append(line("ZZZ"))  # row 6: unknown serial
    errors = errors_of(write_batch(tmp_path / "serials.xlsx", headers, lines))
    found = {where(e): e.message_zh for e in errors}
    assert set(found) == {("1-发票基本信息", 5, "发票流水号"), ("1-发票基本信息", 6, "发票流水号"),
                          ("1-发票基本信息", 7, "发票流水号"), ("2-发票明细信息", 6, "发票流水号")}
    assert "重复" in found[("1-发票基本信息", 5, "发票流水号")]
    assert "没有明细行" in found[("1-发票基本信息", 6, "发票流水号")]
    assert "20" in found[("1-发票基本信息", 7, "发票流水号")]
    assert "不在工作表" in found[("2-发票明细信息", 6, "发票流水号")]


def test_header_fields_are_checked_by_the_issue_rules(store, seller, tmp_path):
    headers, lines = good_rows()
    headers[0]["购买方纳税人识别号"] = "123"
    headers[1]["是否含税"] = "也许"
    headers[2]["发票类型"] = "增值税专用发票"  # a special invoice needs the buyer's tax id
    headers[2]["购买方名称"] = "=cmd|' /C calc'!A0"
    errors = errors_of(write_batch(tmp_path / "headers.xlsx", headers, lines))
    cells = {where(e) for e in errors}
    assert ("1-发票基本信息", 2, "购买方纳税人识别号") in cells
    assert ("1-发票基本信息", 3, "是否含税") in cells
    assert ("1-发票基本信息", 4, "购买方纳税人识别号") in cells


def test_a_file_without_the_line_sheet_or_a_header_is_refused(store, seller, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(list(HEADER_COLUMNS))
    book.save(tmp_path / "one.xlsx")
    with pytest.raises(ValidationFailed, match="两个工作表"):
        read_batch(tmp_path / "one.xlsx")
    headers, lines = good_rows()
    path = write_batch(tmp_path / "cols.xlsx", headers, lines)
    edited = load_workbook(path)
    edited["2-发票明细信息"]["I1"] = "税 率 %"
    edited.save(path)
    errors = errors_of(path)
    assert any(e.sheet == "2-发票明细信息" and e.row == 1 for e in errors)


def test_template_round_trips(store, seller, tmp_path):
    written = save_template(tmp_path / "模板.xlsx")
    book = load_workbook(written)
    assert book.sheetnames[:2] == ["1-发票基本信息", "2-发票明细信息"]
    first = [c.value for c in book["1-发票基本信息"][1]]
    assert first[0] == "*发票流水号" and "购买方名称" in "".join(first)
    assert book["1-发票基本信息"].column_dimensions["A"].number_format == "@"
    # The clerk fills it in and the desk reads it back.
    headers, lines = good_rows()
    columns1 = [c.value.lstrip("*") for c in book["1-发票基本信息"][1]]
    columns2 = [c.value.lstrip("*") for c in book["2-发票明细信息"][1]]
    for row in headers:
        book["1-发票基本信息"].append([row.get(c) for c in columns1])
    for row in lines:
        book["2-发票明细信息"].append([row.get("税收分类编码" if c == "税收分类编码" else c) for c in columns2])
    book.save(written)
    batch = read_batch(written)
    assert [i.serial for i in batch.invoices] == ["A001", "A002", "A003"]
    assert set(LINE_COLUMNS) <= set(columns2)


def test_cli_previews_then_issues_with_yes(store, seller, data_dir, tmp_path):
    store.close()
    path = write_batch(tmp_path / "batch.xlsx", *good_rows())
    preview = run_cli(data_dir, "issue", str(path))
    assert preview.returncode == 0, preview.stderr
    assert "A002\t北京客户贸易有限公司\t2\t6238.50\t740.81\t6979.31" in preview.stdout
    assert "--yes" in preview.stdout and "nothing issued" in preview.stdout
    listed = run_cli(data_dir, "list")
    assert listed.stdout.strip() == ""
    issued = run_cli(data_dir, "issue", str(path), "--yes")
    assert issued.returncode == 0, issued.stderr
    done = [row for row in issued.stdout.splitlines() if row.startswith("A00") and "\tLX-" in row]
    assert [row.split("\t")[:2] for row in done] == [["A001", "LX-0000001"], ["A002", "LX-0000002"],
                                                      ["A003", "LX-0000003"]]
    assert len(run_cli(data_dir, "list").stdout.strip().splitlines()) == 3


def test_cli_names_the_bad_cell_and_writes_the_template(store, seller, data_dir, tmp_path):
    store.close()
    headers, lines = good_rows()
    lines[0]["税收分类编码"] = "123"
    refused = run_cli(data_dir, "issue", str(write_batch(tmp_path / "bad.xlsx", headers, lines)), "--yes")
    assert refused.returncode == 2
    assert "工作表“2-发票明细信息”第2行“税收分类编码”列" in refused.stderr
    assert "sheet 2-发票明细信息 row 2 column 税收分类编码" in refused.stderr
    template = run_cli(data_dir, "issue", "--template", str(tmp_path / "t.xlsx"))
    assert template.returncode == 0, template.stderr
    assert load_workbook(tmp_path / "t.xlsx").sheetnames[:2] == ["1-发票基本信息", "2-发票明细信息"]


def test_a_limit_reached_at_issue_issues_none_of_the_file(store, seller, tmp_path):
    from app.core.limits import OfflineLimits
    from app.services.limits import set_limits

    batch = read_batch(write_batch(tmp_path / "batch.xlsx", *good_rows()))
    set_limits(OfflineLimits(max_count=2))
    with pytest.raises(ValidationFailed) as refused:
        issue_batch(batch, clerk="张三")
    assert any(e.field.startswith("offline_limits.max_count") for e in refused.value.errors)
    assert Invoice.select().count() == 0
    assert AuditEntry.select().where(AuditEntry.action == "batch_issued").count() == 0


def test_excel_cells_are_read_as_excel_shows_them(store, seller, tmp_path):
    headers, lines = good_rows()
    lines[0].update(数量=0.1 + 0.2, 单价=1000, 税率=0.06)  # 0.30000000000000004 in the cell, 0.3 on screen
    headers[0]["发票流水号"] = lines[0]["发票流水号"] = 20260001  # a number cell
    headers[0]["是否含税"] = "否"
    batch = read_batch(write_batch(tmp_path / "cells.xlsx", headers, lines))
    first = batch.invoices[0]
    assert first.serial == "20260001" and first.lines[0].quantity == "0.3" and first.total_amount == Decimal("300.00")

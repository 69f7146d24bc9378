"""`list` searches, filters and sorts with the same query as the app's list (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.cli.test_cli import desk, write_json  # noqa: F401
from tests.helpers.bodies import BUYER_TAX_ID, PRINTER, SOFTWARE, invoice_body
from tests.helpers.cli import run_cli


@pytest.fixture
def stocked(desk, tmp_path):  # noqa: F811
    bodies = []
    for i in range(6):
        acme = i % 2 == 0
        line = ({"tax_code": SOFTWARE, "item_name": "软件开发", "tax_rate": "0.06"} if acme
                else {"tax_code": PRINTER, "item_name": "激光打印机", "tax_rate": "0.13"})
        bodies.append(invoice_body(buyer={"name": "ACME Trading Co" if acme else "北京客户贸易有限公司",
                                          "tax_id": BUYER_TAX_ID},
                                   lines=[{**line, "unit": "台", "quantity": "1", "unit_price": str(1000 * (i + 1))}],
                                   remarks=f"合同 PO-{i:03d}"))
    result = run_cli(desk, "issue", write_json(tmp_path, bodies))
    assert result.returncode == 0, result.stderr
    return desk


def _numbers(data_dir: Path, *args: str) -> list[str]:
    result = run_cli(data_dir, "list", *args, "--json")
    assert result.returncode == 0, result.stderr
    return [row["number"] for row in json.loads(result.stdout)]


def test_words_options_and_filters(stocked):
    assert _numbers(stocked, "ACME") == ["LX-0000005", "LX-0000003", "LX-0000001"]
    assert _numbers(stocked, "--buyer", "北京") == ["LX-0000006", "LX-0000004", "LX-0000002"]
    assert _numbers(stocked, "--item", "打印机", "--min", "3000") == ["LX-0000006", "LX-0000004"]
    assert _numbers(stocked, "--remarks", "PO-003") == ["LX-0000004"]
    assert _numbers(stocked, "--number", "0000006") == ["LX-0000006"]
    assert _numbers(stocked, "--upload", "waiting", "--blue", "--channel", "platform", "--kind", "normal",
                    "--medium", "electronic", "--max", "2300") == ["LX-0000002", "LX-0000001"]
    assert _numbers(stocked, "--red") == []
    assert _numbers(stocked, "--sort", "total_with_tax", "--asc")[:2] == ["LX-0000001", "LX-0000002"]
    assert _numbers(stocked, "--sort", "buyer_name", "--asc")[0] == "LX-0000001"  # A before 北
    row = json.loads(run_cli(stocked, "list", "ACME", "--json").stdout)[0]
    assert row["buyer_tax_id"] == BUYER_TAX_ID and row["red"] is False and row["pre_issue"] is True


def test_the_export_takes_the_same_query(stocked, tmp_path):
    out = tmp_path / "acme.xlsx"
    result = run_cli(stocked, "list", "ACME", "--xlsx", str(out))
    assert result.returncode == 0, result.stderr and "已导出 3 张发票" in result.stdout
    sheet = load_workbook(out)["发票列表"]
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == ["LX-0000005", "LX-0000003", "LX-0000001"]


@pytest.mark.parametrize(("args", "words"), [
    (["--number", "12"], "--number：至少输入 3 个字符"),
    (["--min", "abc"], "--min（金额）：“abc”不是金额"),
    (["--from", "2026-13-01"], "--from（日期）"),
    (["--from", "2026-05-02", "--to", "2026-05-01"], "--to：结束日期早于开始日期"),
    (["--status", "lost"], "--status：“lost”不是发票状态"),
    (["--sort", "colour"], "invalid choice"),
])
def test_bad_options_are_named_and_exit_2(stocked, args, words):
    result = run_cli(stocked, "list", *args)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr

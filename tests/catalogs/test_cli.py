"""items and customers on the real command line: exit 0 when done, 2 with every bad field, row and column named."""

from __future__ import annotations

import json
from pathlib import Path

from tests.catalogs.helpers import write_xlsx
from tests.helpers.bodies import BUYER_TAX_ID, PRINTER, SOFTWARE
from tests.helpers.cli import run_cli


def test_items_commands(tmp_path: Path) -> None:
    desk = tmp_path / "desk"
    added = run_cli(desk, "items", "add", "--name", "软件开发", "--code", SOFTWARE, "--unit", "项", "--price", "1000")
    assert added.returncode == 0, added.stderr
    assert "*信息技术服务*软件开发" in added.stdout

    bad = run_cli(desk, "items", "add", "--name", "*打印机*", "--code", "1090511000000000000", "--price", "-1")
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    labels = ["项目名称", "税收分类编码：", "单价："]
    assert [line.startswith(label) for line, label in zip(lines, labels, strict=True)] == [True] * 3
    assert run_cli(desk, "--lang", "en", "items", "add", "--name", "打印机", "--code", PRINTER,
                   "--rate", "6%").stderr.startswith("tax rate:")

    assert run_cli(desk, "items", "edit", "1", "--price-includes-tax", "--spec", "V2").returncode == 0
    assert run_cli(desk, "items", "edit", "7", "--unit", "台").returncode == 2
    assert run_cli(desk, "items", "edit", "x").returncode == 2  # argparse: not an id

    exported = tmp_path / "items.xlsx"
    assert run_cli(desk, "items", "export", str(exported)).returncode == 0
    listed = json.loads(run_cli(desk, "items", "list", "--json").stdout)
    assert [(i["printed_name"], i["spec"], i["price_includes_tax"]) for i in listed] == [
        ("*信息技术服务*软件开发", "V2", True)]

    assert run_cli(desk, "items", "retire", "1").returncode == 0
    assert run_cli(desk, "items", "list").stdout == ""
    assert "已停用" in run_cli(desk, "items", "list", "--all").stdout
    assert run_cli(desk, "items", "delete", "1").returncode == 0
    imported = run_cli(desk, "items", "import", str(exported))
    assert imported.returncode == 0 and "新增1" in imported.stdout

    bad_file = write_xlsx(tmp_path / "bad.xlsx", [["项目名称", "税收分类编码"], ["打印机", PRINTER], ["复印机", "123"]])
    refused = run_cli(desk, "items", "import", str(bad_file))
    assert refused.returncode == 2
    assert refused.stderr.startswith("第3行“税收分类编码”列：") and "rows[3]" not in refused.stderr
    assert len(json.loads(run_cli(desk, "items", "list", "--json").stdout)) == 1


def test_customers_commands(tmp_path: Path) -> None:
    desk = tmp_path / "desk"
    first = run_cli(desk, "customers", "add", "--name", "北京客户贸易有限公司", "--tax-id", BUYER_TAX_ID)
    assert first.returncode == 0, first.stderr
    failing = ["customers", "add", "--name", "北京某某有限公司", "--tax-id", "91110105MA01ABCD10"]
    refused = run_cli(desk, *failing)
    assert refused.returncode == 2 and refused.stderr.startswith("纳税人识别号：")
    assert run_cli(desk, *failing, "--confirm-tax-id").returncode == 0
    assert run_cli(desk, "customers", "add", "--name", "王", "--natural-person").returncode == 2
    assert run_cli(desk, "customers", "edit", "2", "--phone", "010-1").returncode == 0

    assert run_cli(desk, "customers", "merge", "1", "1").returncode == 2
    merged = run_cli(desk, "customers", "merge", "1", "2")
    assert merged.returncode == 0, merged.stderr
    listed = json.loads(run_cli(desk, "customers", "list", "--json").stdout)
    assert [c["name"] for c in listed] == ["北京客户贸易有限公司"]

    exported = tmp_path / "customers.csv"
    assert run_cli(desk, "customers", "export", str(exported)).returncode == 0
    assert exported.read_bytes().startswith(b"\xef\xbb\xbf")
    imported = run_cli(desk, "customers", "import", str(exported))
    assert imported.returncode == 0 and "更新1" in imported.stdout
    assert run_cli(desk, "customers", "import", str(tmp_path / "missing.csv")).returncode == 2

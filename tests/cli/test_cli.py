"""The command line in a real child process: issue, list, show, and bad input storing nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.helpers.bodies import BUYER_TAX_ID, PRINTER, SELLER_TAX_ID, SOFTWARE, invoice_body
from tests.helpers.cli import run_cli


def store_snapshot(data_dir: Path) -> dict:
    conn = sqlite3.connect(data_dir / "fapiao-desk.sqlite3")
    tables = ["invoice", "invoice_line", "audit_entry", "upload_queue_entry", "buyer", "number_counter"]
    snapshot = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
    conn.close()
    return snapshot


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    data_dir = tmp_path / "desk"
    result = run_cli(data_dir, "seller", "set", "--name", "北京某某科技有限公司", "--tax-id", SELLER_TAX_ID,
                     "--drawer", "张三", "--address", "北京市海淀区", "--bank", "工行中关村支行")
    assert result.returncode == 0, result.stderr
    return data_dir


def write_json(tmp_path: Path, value, name="in.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_issue_list_show(desk, tmp_path):
    result = run_cli(desk, "issue", write_json(tmp_path, [invoice_body(), invoice_body(kind="normal")]))
    assert result.returncode == 0, result.stderr
    # The platform channel (the default) records pre-issue records, not invoices, and says so, number first.
    lines = result.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["LX-0000001", "LX-0000002"]
    assert all("预开单（非发票）" in line and "not an invoice" in line and "when the platform answers" in line
               for line in lines)

    listing = run_cli(desk, "list", "--json")
    rows = json.loads(listing.stdout)
    assert [r["number"] for r in rows] == ["LX-0000002", "LX-0000001"]
    assert rows[0]["total_with_tax"] == "1060.00" and rows[0]["status"] == "pre_issue"
    assert rows[0]["channel"] == "platform" and rows[0]["pre_issue"] is True and rows[0]["invoice_number"] is None
    text_listing = run_cli(desk, "list")
    assert "预开单（非发票）" in text_listing.stdout and "北京客户贸易有限公司" in text_listing.stdout
    assert run_cli(desk, "list", "--status", "accepted", "--json").stdout.strip() == "[]"

    shown = json.loads(run_cli(desk, "show", "LX-0000001", "--json").stdout)
    assert shown["number"] == "LX-0000001" and (shown["kind"], shown["medium"]) == ("normal", "electronic")
    assert shown["seller"]["tax_id"] == SELLER_TAX_ID and shown["buyer"]["tax_id"] == BUYER_TAX_ID
    assert shown["lines"][0] == {
        "line_no": 1, "nature": "normal", "tax_code": SOFTWARE, "short_name": "信息技术服务",
        "item_name": "软件开发", "name": "*信息技术服务*软件开发", "spec": "", "unit": "项", "quantity": "1",
        "unit_price": "1000", "amount": "1000.00", "tax_rate": "0.06", "tax": "60.00", "amount_with_tax": "1060.00",
        "policy": None, "original_line_no": None}
    assert shown["red"] is False and shown["deduction"] is None
    assert (shown["total_amount"], shown["total_tax"], shown["total_with_tax"]) == ("1000.00", "60.00", "1060.00")
    assert (shown["channel"], shown["status"], shown["pre_issue"]) == ("platform", "pre_issue", True)
    assert shown["official_number"] is None and shown["invoice_number"] is None
    human = run_cli(desk, "show", "LX-0000001")
    assert "壹仟零陆拾圆整" in human.stdout
    assert human.stdout.startswith("预开单（非发票）  LX-0000001") and "NOT AN INVOICE" in human.stdout
    assert "增值税普通发票" not in human.stdout.splitlines()[0]
    as_json = json.loads(run_cli(desk, "issue", write_json(tmp_path, invoice_body()), "--json").stdout)
    assert as_json == [{"number": "LX-0000003", "official_number": None, "channel": "platform",
                        "status": "pre_issue", "pre_issue": True}]


def test_issue_from_stdin_with_prices_including_tax(desk):
    body = invoice_body(prices_include_tax=True,
                        lines=[{"tax_code": SOFTWARE, "item_name": "餐费", "quantity": "1",
                                "unit_price": "106", "tax_rate": "6%"}])
    result = run_cli(desk, "issue", "-", stdin=json.dumps(body, ensure_ascii=False))
    assert result.returncode == 0, result.stderr
    shown = json.loads(run_cli(desk, "show", "LX-0000001", "--json").stdout)
    assert (shown["total_amount"], shown["total_tax"], shown["total_with_tax"]) == ("100.00", "6.00", "106.00")


def test_given_totals_are_accepted_when_they_add_up(desk, tmp_path):
    body = invoice_body(total_amount="1000.00", total_tax="60.00", total_with_tax="1060.00")
    body["lines"][0].update(amount="1000.00", tax="60.00")
    assert run_cli(desk, "issue", write_json(tmp_path, body)).returncode == 0


BAD_INPUTS = {
    "not json": ("{not json", "json"),
    "missing buyer": (invoice_body(buyer=None), "购买方"),
    "missing lines": ({"buyer": {"name": "测试客户有限公司"}}, "项目明细"),
    "bad taxpayer id": (invoice_body(buyer={"name": "测试客户有限公司", "tax_id": "91110000600037341"[:-1] + "IO"}),
                        "购买方纳税人识别号"),
    "check character": (invoice_body(buyer={"name": "测试客户有限公司", "tax_id": "91110000600037341A"}),
                        "购买方纳税人识别号"),
    "negative quantity": (invoice_body(lines=[{"tax_code": PRINTER, "item_name": "x",
                                               "quantity": "-2", "unit_price": "5", "tax_rate": "0.13"}]),
                          "第1行数量"),
    "rate not in force": (invoice_body(lines=[{"tax_code": SOFTWARE, "item_name": "x",
                                               "quantity": "2", "unit_price": "5", "tax_rate": "0.17"}]),
                          "第1行税率/征收率"),
    "total does not add up": (invoice_body(total_with_tax="1000.00"), "价税合计"),
    "float noise": ('{"buyer": {"name": "北京某某客户有限公司"}, "lines": [{"name": "x", "quantity": 3, '
                    '"unit_price": 0.30000000000000004, "tax_rate": "0.13"}]}', "第1行单价"),
    "one bad in a list": ([invoice_body(), invoice_body(kind="fancy")], "第2张发票发票种类"),
    "empty list": ([], "json"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exits_2_names_the_field_and_stores_nothing(desk, tmp_path, case):
    value, field = BAD_INPUTS[case]
    path = tmp_path / "bad.json"
    path.write_text(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False), encoding="utf-8")
    before = store_snapshot(desk)
    result = run_cli(desk, "issue", str(path))
    assert result.returncode == 2
    assert field in result.stderr
    assert store_snapshot(desk) == before


def test_json_number_literals_are_read_exactly_never_as_floats(desk, tmp_path):
    text = ('{"buyer": {"name": "北京某某客户有限公司"}, "lines": [{"tax_code": "1090511030000000000", '
            '"item_name": "x", "quantity": 3, "unit_price": 0.1, "tax_rate": 0.13}]}')
    path = tmp_path / "numbers.json"
    path.write_text(text, encoding="utf-8")
    assert run_cli(desk, "issue", str(path)).returncode == 0
    shown = json.loads(run_cli(desk, "show", "LX-0000001", "--json").stdout)
    assert (shown["lines"][0]["amount"], shown["lines"][0]["tax"]) == ("0.30", "0.04")


def test_missing_file_and_unknown_number(desk, tmp_path):
    missing = run_cli(desk, "issue", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "json" in missing.stderr
    unknown = run_cli(desk, "show", "LX-9999999")
    assert unknown.returncode == 2 and "LX-9999999" in unknown.stderr
    assert run_cli(desk, "list", "--status", "weird").returncode == 2


def test_issue_before_the_seller_is_set(tmp_path):
    result = run_cli(tmp_path / "empty", "issue", "-", stdin=json.dumps(invoice_body()))
    assert result.returncode == 2 and "seller" in result.stderr


def test_seller_set_rejects_a_bad_id(tmp_path):
    result = run_cli(tmp_path / "d", "seller", "set", "--name", "x", "--tax-id", "123", "--drawer", "张三")
    assert result.returncode == 2 and "销售方纳税人识别号" in result.stderr
    shown = run_cli(tmp_path / "d", "seller", "show")
    assert shown.returncode == 2


def test_issue_takes_the_v2_body_and_held_to_the_table(desk, tmp_path):
    withdrawn_rate = invoice_body(lines=[{"tax_code": SOFTWARE, "item_name": "软件开发", "quantity": "1",
                                          "unit_price": "100", "tax_rate": "0.13"}])
    result = run_cli(desk, "issue", write_json(tmp_path, withdrawn_rate))
    assert result.returncode == 2 and "第1行税率/征收率：" in result.stderr and "6%" in result.stderr
    summary = invoice_body(lines=[{"tax_code": "1090511000000000000", "item_name": "打印机", "quantity": "1",
                                   "unit_price": "100", "tax_rate": "0.13"}])
    result = run_cli(desk, "--lang", "en", "issue", write_json(tmp_path, summary))
    assert result.returncode == 2 and "line 1 tax classification code" in result.stderr and "summary" in result.stderr
    short = invoice_body(buyer={"name": "小王商店"})
    refused = run_cli(desk, "issue", write_json(tmp_path, short))
    assert refused.returncode == 2 and "自然人" in refused.stderr
    assert run_cli(desk, "issue", write_json(tmp_path, short), "--confirm-not-person").returncode == 0
    # The customer book remembers the confirmation: the clerk is not asked again.
    assert run_cli(desk, "issue", write_json(tmp_path, short)).returncode == 0

"""python -m app taxcodes show / search / refresh, in a child process as a clerk runs them."""

from __future__ import annotations

import json

from app.core.clock import now_iso
from app.platform.tax_codes import PlatformTaxCodes
from app.store.models import Item
from tests.helpers.cli import run_cli, token_file_args
from tests.taxcodes.tables import NEW_VERSION, WITHDRAWN_CODE


def test_show(store, data_dir):
    result = run_cli(data_dir, "taxcodes", "show", "1010112140000000000")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "绿豆芽等芽苗菜" in out and "*蔬菜*" in out and "13%、9%" in out and "03 免税" in out
    assert "汇总项 (summary): 否" in out and "可用 (usable): 是" in out and "1010112000000000000" in out

    shown = json.loads(run_cli(data_dir, "taxcodes", "show", "3030100000000000000", "--json").stdout)
    assert shown["name"] == "基础电信服务" and shown["summary"] is True and shown["usable"] is True
    assert shown["allowed_on_a_line"] is True and shown["rates"] == [] and shown["version"] == "32.0"
    sprouts = json.loads(run_cli(data_dir, "taxcodes", "show", "1010112140000000000", "--json").stdout)
    assert sprouts["rates"] == ["0.13", "0.09"] and sprouts["rate_labels"] == ["13%", "9%"]
    assert sprouts["policies"] == [{"flag": "03", "name": "免税"}]

    unknown = run_cli(data_dir, "taxcodes", "show", "3040201010000000001")
    assert unknown.returncode == 2 and "3040201010000000001" in unknown.stderr and "编码表中没有" in unknown.stderr
    assert unknown.stdout == ""
    bad = run_cli(data_dir, "taxcodes", "show", "30402")
    assert bad.returncode == 2 and "19" in bad.stderr


def test_search(store, data_dir):
    result = run_cli(data_dir, "taxcodes", "search", "rjkf")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0].split("\t")
    assert first[:4] == ["3040201010000000000", "*信息技术服务*", "软件开发服务", "6%"]

    hits = json.loads(run_cli(data_dir, "taxcodes", "search", "软件", "--limit", "3", "--json").stdout)
    assert len(hits) == 3 and all(h["name"].startswith("软件") for h in hits)
    summary = run_cli(data_dir, "taxcodes", "search", "1000000000000000000", "--all")
    assert summary.returncode == 0 and "汇总项" in summary.stdout
    assert run_cli(data_dir, "taxcodes", "search", "1000000000000000000").stdout == ""  # not a leaf
    nothing = run_cli(data_dir, "taxcodes", "search", "无此项目名称")
    assert nothing.returncode == 0 and "没有找到" in nothing.stderr
    assert run_cli(data_dir, "taxcodes", "search", " ").returncode == 2
    assert run_cli(data_dir, "taxcodes", "search", "软件", "--limit", "0").returncode == 2


def test_refresh(store, data_dir, platform, newer_table):
    at = now_iso()
    Item.create(item_name="系统维护", tax_code=WITHDRAWN_CODE, tax_rate="0.06", created_at=at, updated_at=at)
    platform.httpd.tax_codes = PlatformTaxCodes(newer_table)
    args = ("taxcodes", "refresh", "--url", platform.url, *token_file_args(platform.token))
    result = run_cli(data_dir, *args)
    assert result.returncode == 0, result.stderr
    assert NEW_VERSION in result.stdout and "32.0" in result.stdout
    assert "新增 1" in result.stdout and "停用 1" in result.stdout and "1 withdrawn" in result.stdout
    assert "系统维护" in result.stdout
    shown = json.loads(run_cli(data_dir, "taxcodes", "show", WITHDRAWN_CODE, "--json").stdout)
    assert shown["usable"] is False
    again = run_cli(data_dir, *args, "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["added"] == 0

    down = run_cli(data_dir, "taxcodes", "refresh", "--url", "http://127.0.0.1:9", *token_file_args("x"),
                   "--timeout", "2")
    assert down.returncode == 1 and "未更新" in down.stderr and "nothing changed" in down.stderr
    refused = run_cli(data_dir, "taxcodes", "refresh", "--url", platform.url, *token_file_args("wrong-token-123"))
    assert refused.returncode == 1 and "令牌" in refused.stderr and "wrong-token-123" not in refused.stderr
    assert run_cli(data_dir, "taxcodes", "refresh", "--url", "ftp://x").returncode == 2

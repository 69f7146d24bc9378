"""channel show/set and stock show/refill/settings from the command line, against the reference platform."""

from __future__ import annotations

import json

from app.core import clock
from tests.helpers.cli import run_cli, token_file_args
from tests.platform_v2.support import set_clock


def test_channel_show_and_set(store, data_dir):
    shown = run_cli(data_dir, "channel", "show")
    assert shown.returncode == 0 and "platform" in shown.stdout
    bad = run_cli(data_dir, "channel", "set", "lequ")
    assert bad.returncode == 2 and "channel" in bad.stderr and "开票渠道" in bad.stderr
    done = run_cli(data_dir, "channel", "set", "direct", "--clerk", "张三")
    assert done.returncode == 0 and "direct" in done.stdout
    assert "直连" in run_cli(data_dir, "channel", "show").stdout


def test_stock_refill_and_show(desk, data_dir):
    set_clock(desk, now=clock.now().isoformat())  # the command runs on the desk's own clock
    idle = run_cli(data_dir, "stock", "refill")
    assert idle.returncode == 0 and "platform" in idle.stdout
    assert run_cli(data_dir, "channel", "set", "direct").returncode == 0
    refill = run_cli(data_dir, "stock", "refill", "--json")
    assert refill.returncode == 0, refill.stderr
    answer = json.loads(refill.stdout)
    assert [d["count"] for d in answer["drawn"]] == [1000] and [d["amount"] for d in answer["downloaded"]] == [
        "200000.00"]
    shown = run_cli(data_dir, "stock", "show", "--json")
    assert shown.returncode == 0
    view = json.loads(shown.stdout)
    assert view["channel"] == "direct" and view["numbers_left"] == 1000 and view["quota_held"] == "200000.00"
    assert view["next_number"] == answer["drawn"][0]["first"]
    text = run_cli(data_dir, "stock", "show")
    assert text.returncode == 0 and "1000" in text.stdout and "200000.00" in text.stdout


def test_a_refill_the_platform_does_not_answer_waits(store, seller, data_dir):
    assert run_cli(data_dir, "channel", "set", "direct").returncode == 0
    # Port 9 (discard) on loopback: nothing listens, the connection is refused.
    waiting = run_cli(data_dir, "stock", "refill", "--url", "http://127.0.0.1:9", *token_file_args("t"),
                      "--timeout", "2")
    assert waiting.returncode == 3 and "same request id" in waiting.stderr
    view = json.loads(run_cli(data_dir, "stock", "show", "--json").stdout)
    assert len(view["numbers_waiting"]) == 1 and view["numbers_left"] == 0
    bad_url = run_cli(data_dir, "stock", "refill", "--url", "ftp://x")
    assert bad_url.returncode == 2 and "平台地址" in bad_url.stderr


def test_stock_settings(store, data_dir):
    assert run_cli(data_dir, "stock", "settings", "--block-size", "6000").returncode == 2
    bad = run_cli(data_dir, "stock", "settings", "--quota-floor", "x")
    assert bad.returncode == 2 and "stock.quota_floor" in bad.stderr
    done = run_cli(data_dir, "stock", "settings", "--block-size", "2000", "--quota-slice", "100000")
    assert done.returncode == 0 and "2000" in done.stdout and "100000.00" in done.stdout

"""The shipped table as a fresh store holds it, and the search a clerk types into."""

from __future__ import annotations

import statistics
import time

from app.base.resources import TAX_CODE_TABLE_VERSION
from app.services.store_access import open_store
from app.store.models import AuditEntry
from app.store.models import TaxCode as TaxCodeRow
from app.store.taxcode_search import get_code, search_codes
from app.store.taxcodes import table_version

SOFTWARE_DEVELOPMENT = "3040201010000000000"  # 软件开发服务
BASIC_TELECOM = "3030100000000000000"  # 基础电信服务: a summary row a line may carry


def test_the_shipped_table_is_loaded_on_first_open(store):
    assert TaxCodeRow.select().count() == 4236
    assert table_version() == TAX_CODE_TABLE_VERSION == "32.0"
    assert TaxCodeRow.select().where(TaxCodeRow.summary == True).count() == 678  # noqa: E712  (peewee)
    assert TaxCodeRow.select().where(TaxCodeRow.usable == False).count() == 0  # noqa: E712
    loaded = AuditEntry.select().where(AuditEntry.action == "tax_codes_loaded")
    assert loaded.count() == 1

    sprouts = get_code("1010112140000000000")  # 绿豆芽等芽苗菜: "13%、9%", 免税
    assert sprouts is not None
    assert sprouts.name == "绿豆芽等芽苗菜" and sprouts.short_name == "蔬菜"
    assert sprouts.rates == ("0.13", "0.09") and sprouts.policies == ("03",)
    assert not sprouts.summary and sprouts.usable and sprouts.allowed_on_a_line
    goods = get_code("1000000000000000000")
    assert goods is not None and goods.summary and goods.rates == () and goods.parent == ""
    assert not goods.allowed_on_a_line
    software = get_code(SOFTWARE_DEVELOPMENT)
    assert software is not None and software.rates == ("0.06",) and software.short_name == "信息技术服务"
    assert software.parent == "3040201000000000000" and software.keywords == "软件开发" and software.version == "32.0"
    assert get_code("3040201010000000001") is None and get_code("304") is None and get_code("") is None


def test_opening_again_loads_nothing_more(data_dir):
    open_store(data_dir).close()
    store = open_store(data_dir)
    try:
        assert AuditEntry.select().where(AuditEntry.action == "tax_codes_loaded").count() == 1
        assert TaxCodeRow.select().count() == 4236
    finally:
        store.close()


def test_search_by_code_prefix(store):
    hits = search_codes("30402010")
    assert hits and all(h.code.startswith("30402010") for h in hits)
    assert hits[0].code == SOFTWARE_DEVELOPMENT  # its summary parent 3040201000000000000 is left out
    assert all(not h.summary for h in hits)
    exact = search_codes(SOFTWARE_DEVELOPMENT)
    assert exact[0].code == SOFTWARE_DEVELOPMENT
    # leaves_only keeps the summary rows a line may carry; leaves_only=False brings every summary row.
    assert search_codes("30301", limit=5)[0].code == BASIC_TELECOM
    assert any(h.code == "3040201000000000000" for h in search_codes("3040201", leaves_only=False))


def test_search_by_part_of_the_name_ranks_starts_before_contains(store):
    hits = search_codes("软件", limit=200)
    names = [h.name for h in hits]
    assert "软件开发服务" in names and "通信设备嵌入式软件" in names
    starts = [n.startswith("软件") for n in names if "软件" in n]
    assert starts == sorted(starts, reverse=True)  # every "starts with" before any "holds"
    assert names.index("软件开发服务") < names.index("通信设备嵌入式软件")
    assert len(search_codes("软件", limit=3)) == 3
    assert search_codes("  ") == [] and search_codes("软件", limit=0) == []


def test_search_by_short_name_keyword_and_explanation(store):
    assert search_codes("信息技术服务")[0].short_name == "信息技术服务"
    by_keyword = search_codes("籼稻")  # only in 稻谷's keywords (早籼稻、晚籼稻…)
    assert by_keyword[0].code == "1010101010000000000" and "籼稻" not in by_keyword[0].name
    by_explanation = search_codes("别名")  # only in explanations (绿豆芽（别名：绿豆芽幼芽）…)
    sprouts = next(h for h in by_explanation if h.code == "1010112140000000000")
    assert "别名" in sprouts.explanation and "别名" not in sprouts.name + sprouts.keywords
    assert search_codes("no such thing at all 无此项目") == []
    # LIKE's wildcards are taken literally: no text holds "_", and every "%" hit holds a "%".
    assert search_codes("_") == []
    percent = search_codes("%", limit=500, leaves_only=False)
    assert percent and len(percent) < 100 and all("%" in h.explanation + h.keywords + h.name for h in percent)


def test_search_by_pinyin_initials(store):
    hits = search_codes("rjkf")
    assert hits[0].code == SOFTWARE_DEVELOPMENT
    assert search_codes("RJKF")[0].code == SOFTWARE_DEVELOPMENT  # as typed with caps lock
    prefix = [h.name for h in search_codes("rjcs")]
    assert "软件测试服务" in prefix
    inside = [h.name for h in search_codes("kffw")]  # 软件开发服务's initials hold kffw
    assert "软件开发服务" in inside


def test_withdrawn_codes_are_left_out_unless_asked_for(store):
    TaxCodeRow.update(usable=False).where(TaxCodeRow.code == SOFTWARE_DEVELOPMENT).execute()
    assert all(h.code != SOFTWARE_DEVELOPMENT for h in search_codes("rjkf"))
    found = search_codes("rjkf", include_unusable=True)
    assert found[0].code == SOFTWARE_DEVELOPMENT and not found[0].usable and not found[0].allowed_on_a_line
    hit = get_code(SOFTWARE_DEVELOPMENT)
    assert hit is not None and not hit.usable


def test_search_is_well_under_50_ms(store):
    queries = ["304", "1010101", "软", "服", "软件", "电脑", "rjkf", "r", "yh", "籼稻", "别名", "民航", "包括"]
    worst = 0.0
    for text in queries:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            search_codes(text)
            times.append(time.perf_counter() - started)
        worst = max(worst, statistics.median(times))
    assert worst < 0.05, f"slowest query took {worst * 1000:.1f} ms"

"""Finding invoices (issue 15): the trigram index and the name directory, filters, sorts and key paging,
checked against a plain reading of every row of a real store."""

from __future__ import annotations

import random
import sqlite3
from datetime import date
from decimal import Decimal

import pytest

from app.core import status
from app.core.errors import ValidationFailed
from app.core.invoice_query import SORTS, InvoiceQuery
from app.services.issuing import issue_invoice
from app.services.lifecycle import cancel_invoice
from app.store import invoice_search, queries
from app.store.models import database
from tests.helpers.bodies import BUYER_TAX_ID, PRINTER, SOFTWARE, invoice_body
from tests.helpers.bulk_invoices import insert_invoices

BUYERS = ["北京客户贸易有限公司", "上海华物流有限公司", "成都盛科技有限公司", "张静", "ACME Trading Co"]
ITEMS = [(SOFTWARE, "软件开发"), (SOFTWARE, "系统运维服务"), (PRINTER, "激光打印机"), (PRINTER, "针式打印机")]


@pytest.fixture
def varied(store, seller):
    """24 issued invoices: five buyers, four items, remarks on some, three amounts; two cancelled."""
    rng = random.Random(15)
    numbers = []
    for i in range(24):
        code, item = ITEMS[i % len(ITEMS)]
        buyer = BUYERS[i % len(BUYERS)]
        body = invoice_body(buyer={"name": buyer, "tax_id": BUYER_TAX_ID},
                            lines=[{"tax_code": code, "item_name": item, "unit": "项", "quantity": "1",
                                    "unit_price": str(rng.choice([100, 2500, 99999])), "tax_rate":
                                        "0.06" if code == SOFTWARE else "0.13"}],
                            remarks=f"合同号 HT-2026-{i:04d}" if i % 3 == 0 else "")
        numbers.append(issue_invoice(body, confirmed_short_name=True).number)
    for number in numbers[:2]:
        cancel_invoice(number, "开票有误")
    return numbers


def _everything() -> list[dict]:
    rows = database.execute_sql(
        "SELECT id, provisional_number, coalesce(official_number, ''), buyer_name, buyer_tax_id, remarks, "
        "(SELECT group_concat(name, '|') FROM invoice_line WHERE invoice_id = invoice.id), total_with_tax, status "
        "FROM invoice").fetchall()
    return [{"id": r[0], "texts": [r[1], r[2], r[3], r[4], r[5], r[6] or ""], "names": [r[3], r[6] or ""],
             "fen": r[7], "status": r[8]} for r in rows]


def _found(query: InvoiceQuery, page: int = 5) -> list[int]:
    ids, after = [], None
    while True:
        found = queries.search_page(query, page, after)
        ids += [row.id for row in found.rows]
        if found.after is None:
            return ids
        after = found.after


@pytest.mark.parametrize("word", ["软件开发", "打印机", "盛科技", "HT-2026-00", "LX-00000", "ACME", "acme trad",
                                  "科技", "打印", "张", "静", "服务", "Co", "1L", "不存在的词"])
def test_every_word_finds_exactly_the_invoices_that_hold_it(varied, word):
    """Three characters or more: any part of any searched field; fewer: the buyer's and the items' names."""
    folded = word.lower()
    fields = "texts" if len(word) >= 3 else "names"
    expected = sorted((r["id"] for r in _everything() if any(folded in t.lower() for t in r[fields])), reverse=True)
    assert _found(InvoiceQuery.searching(word)) == expected


def test_words_combine_and_fields_narrow(varied):
    everything = _everything()
    both = [r["id"] for r in everything if "张静" in r["texts"][2] and "打印机" in r["texts"][5]]
    assert _found(InvoiceQuery.searching("张静 打印机")) == sorted(both, reverse=True) and both
    assert _found(InvoiceQuery().with_words("remarks", "HT-2026")) == sorted(
        (r["id"] for r in everything if "HT-2026" in r["texts"][4]), reverse=True)
    # The same word as a buyer finds nothing: no buyer's name holds it.
    assert _found(InvoiceQuery().with_words("buyer", "HT-2026")) == []
    assert _found(InvoiceQuery().with_words("buyer", BUYER_TAX_ID[3:9])) == sorted(
        (r["id"] for r in everything), reverse=True)


def test_filters_and_every_sort_page_by_key_in_order(varied):
    everything = {r["id"]: r for r in _everything()}
    cheap = [i for i, r in everything.items() if r["fen"] <= 300_000]
    query = InvoiceQuery(max_total=Decimal("3000"))
    assert sorted(_found(query)) == sorted(cheap)
    assert sorted(_found(InvoiceQuery(status=status.CANCELLED))) == sorted(
        i for i, r in everything.items() if r["status"] == status.CANCELLED)
    assert len(_found(InvoiceQuery(upload="not_sent"))) == 2  # withdrawn before upload
    assert len(_found(InvoiceQuery(upload="waiting"))) == 22
    assert _found(InvoiceQuery(red=True)) == [] and len(_found(InvoiceQuery(red=False))) == 24
    assert len(_found(InvoiceQuery(date_from=date.today(), date_to=date.today()))) == 24
    raw = sqlite3.connect(database.database)
    try:
        for sort in SORTS:
            for descending in (True, False):
                expression = {"number": "id", "red": "original_number"}.get(sort, sort)
                direction = "DESC" if descending else "ASC"
                nulls = "NULLS LAST" if descending else "NULLS FIRST"
                expected = [r[0] for r in raw.execute(
                    f"SELECT id FROM invoice ORDER BY {expression} {direction} {nulls}, id {direction}")]
                query = InvoiceQuery(sort=sort, descending=descending)
                assert _found(query, page=4) == expected, (sort, descending)
    finally:
        raw.close()


def test_a_sort_with_empty_official_numbers_reads_both_segments(store, seller):
    insert_invoices(30, accepted_every=3)  # every third has no official number: they come last going down
    database.execute_sql("UPDATE invoice SET official_number = '2611' || printf('%016d', id) WHERE id % 3 = 0")
    down = _found(InvoiceQuery(sort="official_number"), page=7)
    assert down[:10] == sorted((i for i in range(1, 31) if i % 3 == 0), reverse=True)
    assert down[10:] == sorted((i for i in range(1, 31) if i % 3), reverse=True)
    up = _found(InvoiceQuery(sort="official_number", descending=False), page=7)
    assert up == sorted(i for i in range(1, 31) if i % 3) + sorted(i for i in range(1, 31) if i % 3 == 0)


def test_a_changed_number_or_buyer_is_found_by_its_new_value(varied):
    """The platform's number comes after issue: the index follows the row (schema step 8's trigger)."""
    number = varied[5]
    database.execute_sql("UPDATE invoice SET official_number = '26117000000012345678', buyer_name = '新名字公司' "
                         "WHERE provisional_number = ?", (number,))
    assert [r.number for r in queries.search_page(InvoiceQuery.searching("0000001234567")).rows] == [number]
    assert [r.number for r in queries.search_page(InvoiceQuery.searching("新名")).rows] == [number]
    assert [r.number for r in queries.search_page(InvoiceQuery.searching("新名字公司")).rows] == [number]


def test_the_index_is_written_with_the_invoice_and_caught_up_at_open(varied, data_dir):
    """Every writer indexes in its transaction; a row an outside writer left out is indexed at the next open."""
    assert invoice_search.index_lag() == 0
    database.execute_sql("DELETE FROM invoice_search WHERE rowid = (SELECT max(id) FROM invoice)")
    assert invoice_search.index_lag() == 1
    assert invoice_search.catch_up() == 1 and invoice_search.index_lag() == 0
    assert len(_found(InvoiceQuery.searching("打印机"))) == 12


def test_counts_stop_at_their_cap(varied):
    assert invoice_search.count_up_to(InvoiceQuery.searching("打印机"), 100) == 12
    assert invoice_search.count_up_to(InvoiceQuery.searching("打印机"), 5) == 6  # "more than 5"


@pytest.mark.parametrize(("query", "field", "words"), [
    (InvoiceQuery().with_words("number", "12"), "number", "至少输入 3 个字符"),
    (InvoiceQuery().with_words("remarks", "合"), "remarks", "至少输入 3 个字符"),
    (InvoiceQuery(date_from=date(2026, 5, 2), date_to=date(2026, 5, 1)), "date_to", "结束日期早于开始日期"),
    (InvoiceQuery(min_total=Decimal("5"), max_total=Decimal("1")), "max_total", "最高金额小于最低金额"),
    (InvoiceQuery(status="lost"), "status", "不是发票状态"),
    (InvoiceQuery(sort="colour"), "sort", "不是排序列"),
    (InvoiceQuery.searching("长" * 101), "text", "搜索词太长"),
])
def test_a_bad_query_names_its_field_and_reads_nothing(store, query, field, words):
    with pytest.raises(ValidationFailed) as failed:
        queries.search_page(query)
    assert [e.field for e in failed.value.errors] == [field]
    assert words in failed.value.errors[0].message_zh and failed.value.errors[0].message_en


def test_quotes_and_fts_syntax_in_a_word_are_plain_text(varied):
    for word in ['"', 'a"b', "OR", "NOT 打印", "*", "(软件", "buyer:", "^abc", "{items}"]:
        assert isinstance(_found(InvoiceQuery.searching(word)), list)


def test_a_rebuild_restores_what_the_index_lost_in_the_middle(varied):
    """catch_up only adds what is newer than the index's newest; a row lost in the middle takes a rebuild."""
    from app.services.search_index import rebuild_search_index, search_index_state

    lost = varied[4]
    database.execute_sql("DELETE FROM invoice_search WHERE rowid = (SELECT id FROM invoice WHERE "
                         "provisional_number = ?)", (lost,))
    database.execute_sql("DELETE FROM search_name WHERE kind = 'buyer'")
    assert search_index_state().missing == 1
    assert lost not in [r.number for r in queries.search_page(InvoiceQuery.searching(lost[-5:])).rows]
    assert _found(InvoiceQuery.searching("张")) == []  # the buyers' names are gone from the directory
    state = rebuild_search_index()
    assert (state.invoices, state.indexed, state.missing) == (24, 24, 0) and state.names == len(BUYERS) + len(ITEMS)
    assert [r.number for r in queries.search_page(InvoiceQuery.searching(lost)).rows] == [lost]
    assert _found(InvoiceQuery.searching("张")) == _found(InvoiceQuery.searching("张静")) != []


def test_the_search_index_command(varied, data_dir):
    from tests.helpers.cli import run_cli

    result = run_cli(data_dir, "search-index")
    assert result.returncode == 0 and "24 张发票已索引（共 24 张，缺 0 张）" in result.stdout, result.stderr
    database.execute_sql("DELETE FROM invoice_search WHERE rowid = 3")
    result = run_cli(data_dir, "search-index")
    assert result.returncode == 1 and "缺 1 张" in result.stdout and "search-index --rebuild" in result.stdout
    result = run_cli(data_dir, "search-index", "--rebuild")
    assert result.returncode == 0 and "缺 0 张" in result.stdout and "已重建" in result.stdout


def test_an_sqlite_without_trigram_search_leaves_the_store_at_schema_7(tmp_path, monkeypatch):
    """Python's own SQLite has had trigram since 3.34 (2020); an older one stops the upgrade with a clear word."""
    import peewee

    from app.core.errors import DeskError
    from app.store import migrations, schema_steps

    db = peewee.SqliteDatabase(str(tmp_path / "old.sqlite3"))
    for step in migrations.STEPS[:7]:
        step(db, None)
    db.pragma("user_version", 7)
    real_run = schema_steps._run

    def old_sqlite(target, statements):
        if statements is schema_steps.V8_SQL:
            raise peewee.OperationalError("no such tokenizer: trigram")
        real_run(target, statements)

    monkeypatch.setattr(schema_steps, "_run", old_sqlite)
    with pytest.raises(DeskError) as refused:
        migrations.migrate_to_latest(db)
    assert "不支持全文检索" in refused.value.message_zh and "3.34" in refused.value.message_en
    assert migrations.current_version(db) == 7
    db.close()


def test_issues_never_merge_the_index_and_the_round_folds_what_they_added(varied):
    """Schema step 9: an issue adds one small segment and merges nothing (the merging that made an issue's
    slowest percent); the daily round's tidy-up folds them, and every word is still found."""
    from app.services.search_index import tidy_search_index
    from app.sync.housekeeping import Housekeeping

    config = dict(database.execute_sql("SELECT k, v FROM invoice_search_config").fetchall())
    assert (config["automerge"], config["crisismerge"]) == (0, 64)
    before = invoice_search.segments()
    issue_invoice(invoice_body(remarks="合同 SEG-1"))
    assert invoice_search.segments() == before + 1
    assert before + 1 >= 20  # 25 issues, 25 transactions: nothing merged them
    assert tidy_search_index() and invoice_search.segments() < 8
    rounds = 1
    while tidy_search_index():  # each round's work is bounded; a few rounds leave nothing worth merging
        rounds += 1
        assert rounds < 10
    assert _found(InvoiceQuery.searching("SEG-1")) and len(_found(InvoiceQuery.searching("打印机"))) == 12
    assert "tidy_search_index" in Housekeeping.run_once.__code__.co_names


@pytest.mark.parametrize("sort", sorted(SORTS))
@pytest.mark.parametrize("descending", [True, False])
def test_every_sort_reads_a_page_from_an_index_never_sorting_the_store(varied, sort, descending):
    """A page of any column's order is a range of an index: SQLite never gathers and sorts every invoice to
    give 200 of them (at a million invoices that took two seconds a page)."""
    seen: list[str] = []
    connection = database.connection()
    connection.set_trace_callback(seen.append)
    try:
        first = queries.search_page(InvoiceQuery(sort=sort, descending=descending), 5)
        queries.search_page(InvoiceQuery(sort=sort, descending=descending), 5, first.after)
    finally:
        connection.set_trace_callback(None)
    pages = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT") and "ORDER BY" in sql]
    assert pages
    for sql in pages:
        plan = " | ".join(str(row[3]) for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql))
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, (sort, plan)


def test_a_walk_looks_its_short_words_up_once(varied):
    """The name directory is read once for every page of one walk (the export, `list`, the list as it scrolls)."""
    seen: list[str] = []
    connection = database.connection()
    connection.set_trace_callback(seen.append)
    try:
        rows = list(invoice_search.iter_rows(InvoiceQuery.searching("打印"), "invoice.id", page=2))
    finally:
        connection.set_trace_callback(None)
    assert len(rows) == 12 and sum("search_name" in sql for sql in seen) == 1

"""The statistics of a period by every grouping, against figures worked out by hand, and against what the
monthly summary (app/services/months.py) would confirm: the same rules (accepted invoices, red ones negative,
pre-issue records apart), Beijing dates, sums made by SQLite over the issued_date index."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.core.errors import ValidationFailed
from app.reports import statistics as st
from app.services import months
from app.store.models import Invoice, InvoiceLine, database
from tests.helpers.bodies import BUYER_TAX_ID, PRINTER, SOFTWARE
from tests.statistics.support import BUYER_X, BUYER_Y, BUYER_Y_ID

D = Decimal


def fig(count: int, amount: str, tax: str) -> st.Figures:
    return st.Figures(count, D(amount), D(tax))


def table(stats: st.Statistics) -> dict[str, dict[str, st.Figures]]:
    return {row.key: {c: row.of(c) for c in st.CATEGORIES if row.of(c).count} for row in stats.rows}


def test_the_month_in_total_is_what_the_monthly_summary_confirms(numbers):
    stats = st.month_statistics("2026-10")
    # Blue: A 1000/60, B 2000/190, C 5698.50/740.81 (3 × 1899.50 at 13 %), F 1000/60 (23:30 on the 31st).
    assert stats.of(st.BLUE) == fig(4, "9698.50", "1050.81")
    assert stats.of(st.RED) == fig(1, "-1000.00", "-60.00")  # reversing A, negative as stored
    assert stats.of(st.CANCELLED) == fig(1, "1000.00", "60.00")  # the paper invoice, as issued
    assert stats.net == fig(5, "8698.50", "990.81") and stats.net.with_tax == D("9689.31")
    # Apart, never in the net: the pre-issue record still waiting, the one withdrawn.
    assert stats.of(st.PRE_ISSUE) == fig(1, "1000.00", "60.00")
    assert stats.of(st.WITHDRAWN) == fig(1, "1000.00", "60.00")
    assert stats.of(st.PENDING) == st.NONE and stats.of(st.REFUSED) == st.NONE

    summary = months.figures("202610")
    assert (summary.count, summary.total_amount, summary.total_tax) == (5, D("8698.50"), D("990.81"))
    check = stats.month
    assert check is not None and check.period == "202610" and check.waiting == 1 == summary.waiting
    assert check.state == "open" and check.closes_at.isoformat() == "2026-11-13T00:00:00+08:00"
    assert stats.matches_month is True
    lines = st.summary_lines(stats)
    assert lines[0] == "合计（蓝字+红字）：5 张，金额 8,698.50，税额 990.81，价税合计 9,689.31"
    assert any("预开单（非发票）：1 张" in line for line in lines)
    assert any(line.startswith("月度汇总 202610（未确认）") and "2026-11-13 00:00 结账" in line
               and "还有 1 张未得到平台结果" in line for line in lines)


def test_by_kind(numbers):
    rows = table(st.month_statistics("2026-10", st.BY_KIND))
    assert list(rows) == ["normal", "special"]
    assert rows["normal"] == {st.BLUE: fig(3, "7698.50", "860.81"), st.RED: fig(1, "-1000.00", "-60.00"),
                              st.CANCELLED: fig(1, "1000.00", "60.00"), st.WITHDRAWN: fig(1, "1000.00", "60.00"),
                              st.PRE_ISSUE: fig(1, "1000.00", "60.00")}
    assert rows["special"] == {st.BLUE: fig(1, "2000.00", "190.00")}
    labels = [row.label_zh for row in st.month_statistics("2026-10", st.BY_KIND).rows]
    assert labels == ["增值税普通发票（普票）", "增值税专用发票（专票）"]


def test_by_rate_and_by_code_sum_the_lines(numbers):
    stats = st.month_statistics("2026-10", st.BY_RATE)
    rows = table(stats)
    assert list(rows) == ["0.13", "0.06"]  # the order of the rates in force
    # 13 %: B's paper line 1000/130 and C 5698.50/740.81; 6 %: A, B's service line, F.
    assert rows["0.13"] == {st.BLUE: fig(2, "6698.50", "870.81")}
    assert rows["0.06"][st.BLUE] == fig(3, "3000.00", "180.00")
    assert rows["0.06"][st.RED] == fig(1, "-1000.00", "-60.00")
    assert rows["0.06"][st.CANCELLED] == fig(1, "1000.00", "60.00")
    assert [row.label_zh for row in stats.rows] == ["13%", "6%"]
    # B has lines at both rates: counted in each; the amounts add up to the invoices' all the same.
    assert sum((row.net.amount for row in stats.rows), D(0)) == stats.net.amount
    assert sum(row.net.count for row in stats.rows) == stats.net.count + 1

    codes = st.month_statistics("2026-10", st.BY_CODE)
    by_code = table(codes)
    assert by_code[PRINTER] == rows["0.13"] and by_code[SOFTWARE] == rows["0.06"]
    labels = {row.key: row.label_zh for row in codes.rows}
    assert labels[SOFTWARE] == "*信息技术服务*软件开发服务" and labels[PRINTER].startswith("*计算机外部设备*")


def test_by_buyer_largest_first(numbers):
    stats = st.month_statistics("2026-10", st.BY_BUYER)
    assert [(row.label_zh, row.detail) for row in stats.rows] == [(BUYER_X, BUYER_TAX_ID), (BUYER_Y, BUYER_Y_ID)]
    rows = table(stats)
    assert rows[BUYER_TAX_ID][st.BLUE] == fig(3, "7698.50", "860.81")
    assert rows[BUYER_TAX_ID][st.RED] == fig(1, "-1000.00", "-60.00")
    assert rows[BUYER_Y_ID] == {st.BLUE: fig(1, "2000.00", "190.00"), st.PRE_ISSUE: fig(1, "1000.00", "60.00")}
    assert stats.rows[0].net == fig(4, "6698.50", "800.81")  # its red invoice counts, negative


def test_by_day_and_the_chart_in_beijing_days(numbers):
    stats = st.month_statistics("2026-10", st.BY_DAY)
    rows = table(stats)
    assert list(rows) == ["2026-10-05", "2026-10-12", "2026-10-31"]
    assert rows["2026-10-05"] == {st.BLUE: fig(2, "3000.00", "250.00")}
    assert rows["2026-10-12"] == {st.BLUE: fig(1, "5698.50", "740.81"), st.RED: fig(1, "-1000.00", "-60.00"),
                                  st.CANCELLED: fig(1, "1000.00", "60.00")}
    # 15:30 UTC on the 31st is 23:30 in Beijing: October; 16:30 UTC is 1 November: not in it.
    assert rows["2026-10-31"][st.BLUE] == fig(1, "1000.00", "60.00")
    assert stats.rows[0].day == date(2026, 10, 5)
    assert stats.series_unit == st.BY_DAY and len(stats.series) == 31
    heights = {p.label: p.net.with_tax for p in stats.series if p.net.count}
    assert heights == {"10-05": D("3250.00"), "10-12": D("5379.31"), "10-31": D("1060.00")}
    assert st.month_statistics("2026-11").net == fig(1, "1000.00", "60.00")
    assert st.month_statistics("2026-09").net == fig(1, "1000.00", "60.00")


def test_a_custom_period_and_a_long_one_by_month(numbers):
    stats = st.statistics(date(2026, 10, 12), date(2026, 11, 1))
    assert stats.month is None and stats.matches_month is None
    assert stats.net == fig(4, "6698.50", "800.81")  # C, R, F and the 1st of November
    assert stats.of(st.BLUE).count == 3
    year = st.statistics(date(2026, 1, 1), date(2026, 12, 31), st.BY_MONTH)
    assert year.series_unit == st.BY_MONTH and [p.label for p in year.series][:2] == ["2026-01", "2026-02"]
    assert len(year.series) == 12
    assert {row.key: row.net.count for row in year.rows} == {"2026-09": 1, "2026-10": 5, "2026-11": 1}
    assert year.rows[1].day == date(2026, 10, 1)
    assert year.net == fig(7, "10698.50", "1110.81")


def test_an_empty_period_and_bad_periods(store, seller):
    stats = st.month_statistics("2026-02", st.BY_BUYER)
    assert stats.rows == () and stats.net == st.NONE and len(stats.series) == 28
    assert stats.month is not None and stats.matches_month is True
    for call in (lambda: st.month_period("2026-13"), lambda: st.month_period("26-1"),
                 lambda: st.statistics(date(2026, 10, 2), date(2026, 10, 1)),
                 lambda: st.statistics(date(2026, 10, 1), date(2026, 10, 2), "colour"),
                 lambda: st.parse_day("2026-10-32")):
        with pytest.raises(ValidationFailed):
            call()
    assert st.month_period("202611") == (date(2026, 11, 1), date(2026, 11, 30))
    # The month to check: last month up to the 12th, this month from the 13th.
    assert st.default_month(date(2026, 12, 1)) == date(2026, 11, 1)
    assert st.default_month(date(2026, 1, 12)) == date(2025, 12, 1)
    assert st.default_month(date(2026, 12, 13)) == date(2026, 12, 1)


def _plan(sql: str, params: list[object]) -> str:
    return " | ".join(row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def test_every_query_seeks_the_period_on_the_issued_date_index(store, seller):
    start, end = date(2026, 10, 1), date(2026, 10, 31)
    queries = [st._invoice_groups(start, end, Invoice.issued_date), st._invoice_groups(start, end, Invoice.kind),
               st._buyer_groups(start, end), st._line_groups(start, end, InvoiceLine.tax_rate),
               st._line_groups(start, end, InvoiceLine.tax_code)]
    for query in queries:
        plan = _plan(*query.sql())
        assert "USING INDEX invoice_issued_date" in plan, plan
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), plan

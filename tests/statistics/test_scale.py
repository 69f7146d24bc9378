"""A store of 20,000 invoices (tests/helpers/store_builder.py: both channels, red and cancelled through the
services): a month's statistics by every grouping agree with the monthly summary's figures and with a count
row by row, in well under a second and in memory that does not grow with the invoices (SQLite sums; Python
sees one row per group). A month's cost depends on its own invoices only: the period is a seek on the
issued_date index, so a store of a million costs the same per month."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import peewee
import pytest

from app.core import status
from app.reports import statistics as st
from app.services import months
from app.store.database import open_store
from app.store.models import Invoice
from tests.helpers.store_builder import build_store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stats") / "store"
    build_store(out, 20000, waiting=60, red=6, cancelled=4)
    return out


def test_a_busy_month_by_every_grouping(built: Path) -> None:
    store = open_store(built)
    try:
        # The fullest month of the history.
        month = (Invoice.select(peewee.fn.SUBSTR(Invoice.issued_date, 1, 7).alias("m"),
                                peewee.fn.COUNT(Invoice.id).alias("n"))
                 .group_by(peewee.SQL("m")).order_by(peewee.SQL("n").desc()).tuples().first())
        assert month is not None and month[1] > 5000
        period = month[0].replace("-", "")
        expected = months.figures(period)
        start, end = st.month_period(month[0])
        accepted = Invoice.select().where((Invoice.issued_date >= start.isoformat())
                                          & (Invoice.issued_date <= end.isoformat())
                                          & (Invoice.status == status.ACCEPTED))
        assert expected.count == accepted.count() > 5000
        for by in st.GROUPINGS:
            tracemalloc.start()
            began = time.perf_counter()
            stats = st.statistics(start, end, by)
            took = time.perf_counter() - began
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert stats.matches_month is True, by
            assert (stats.net.count, stats.net.amount, stats.net.tax) == (
                expected.count, expected.total_amount, expected.total_tax)
            if by not in (st.BY_RATE, st.BY_CODE):  # a line may count its invoice in two groups
                assert sum(row.net.count for row in stats.rows) == expected.count, by
            assert sum((row.net.amount for row in stats.rows), st.ZERO) == expected.total_amount, by
            assert took < 3.0, (by, took)
            if by in (st.BY_KIND, st.BY_RATE, st.BY_DAY, st.BY_MONTH):  # few groups: little memory whatever the size
                assert peak < 512 * 1024, (by, peak)
    finally:
        store.close()

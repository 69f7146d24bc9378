"""The daily round: the taxpayer looked at about every 24 hours, the stock refilled below its floors, the
tax codes checked daily, last month confirmed from the 1st once all its invoices have their answers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock
from app.core.deadlines import next_period, period_of
from app.services import months, stock
from app.services.channel import set_channel
from app.services.issuing import issue_invoice
from app.services.settings import make_client
from app.services.taxpayer import TaxpayerBlocked, last_known
from app.sync.housekeeping import Housekeeping
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import make_worker
from tests.platform_v2.support import ok, set_clock


def test_a_round_looks_at_the_taxpayer_refills_the_stock_and_checks_the_codes(online):
    set_channel("direct")
    stock.set_stock_settings(block_size=50, numbers_floor=10, quota_slice="100000.00", quota_floor="20000.00")
    rounds = Housekeeping(make_client)
    first = rounds.run_once()
    assert first.done == ["taxpayer", "stock", "tax_codes"] and not first.errors, first
    assert last_known() is not None and stock.stock_view().numbers_left == 50
    second = rounds.run_once()
    assert second.done == [] and not second.errors  # nothing due: not asked again
    for _ in range(41):
        issue_invoice(invoice_body())  # 9 numbers left: below the floor of 10
    assert stock.needs_top_up()
    third = rounds.run_once()
    # The 41 issues added a segment each to the search index: the round merges them.
    assert third.done == ["stock", "search_index"] and stock.stock_view().numbers_left == 59
    day_later = rounds.run_once(at=clock.now() + timedelta(hours=25))
    assert day_later.done == ["taxpayer", "tax_codes"]


def test_a_taxpayer_blocked_meanwhile_is_seen_within_a_day(direct):
    rounds = Housekeeping(make_client)
    rounds.run_once()
    ok(direct, "POST", "/_taxpayer", {"risk": "blocked"}, token=None)
    issue_invoice(invoice_body())  # not yet known
    rounds.run_once(at=clock.now() + timedelta(hours=25))
    with pytest.raises(TaxpayerBlocked):
        issue_invoice(invoice_body())


def test_last_month_is_confirmed_once_every_invoice_has_its_answer(direct):
    issue_invoice(invoice_body())
    period = period_of(clock.now())
    later = clock.now() + timedelta(days=32)
    assert period_of(later) == next_period(period)
    set_clock(direct, advance_hours=24 * 32)
    rounds = Housekeeping(make_client)
    waiting = rounds.run_once(at=later)
    assert "month" not in waiting.done and months.month_status(later).waiting == 1
    make_worker(direct).run_once()
    done = rounds.run_once(at=later)
    assert "month" in done.done and (months.summary(period) or _none()).state == months.CONFIRMED
    assert months.month_status(later).state == months.CONFIRMED


def _none():
    raise AssertionError("no summary recorded")

"""Issuing on the direct channel is refused, naming what is missing, with nothing written: no number of
this year, not enough quota, the year ended, the taxpayer blocked."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.core import clock, status
from app.services import stock, taxpayer
from app.services.channel import set_channel
from app.services.issuing import StockExhausted, issue_invoice
from app.services.taxpayer import TaxpayerBlocked
from app.store.models import AuditEntry, Invoice, NumberBlock, QuotaUse, UploadQueueEntry
from tests.helpers.bodies import invoice_body
from tests.platform_v2.support import ok, set_clock


def _nothing_written() -> None:
    assert Invoice.select().count() == 0 and UploadQueueEntry.select().count() == 0
    assert not AuditEntry.select().where(AuditEntry.action == "issued").exists()


def test_no_numbers_refuses_naming_the_number(online):
    set_channel("direct")
    with pytest.raises(StockExhausted) as refused:
        issue_invoice(invoice_body())
    assert [e.field for e in refused.value.errors] == ["number"]
    assert "号码" in refused.value.errors[0].message_zh and "stock refill" in refused.value.errors[0].message_en
    _nothing_written()


def test_not_enough_quota_refuses_naming_the_quota_and_takes_no_number(online, client):
    set_channel("direct")
    stock.set_stock_settings(block_size=100, numbers_floor=10, quota_slice="1500.00", quota_floor="100.00")
    assert stock.top_up(client).complete
    issue_invoice(invoice_body())  # 1,000.00 of 1,500.00
    with pytest.raises(StockExhausted) as refused:
        issue_invoice(invoice_body())
    error = refused.value.errors[0]
    assert error.field == "quota" and "1,000.00" in error.message_zh and "500.00" in error.message_zh
    assert NumberBlock.get().used == 1  # the refused invoice took no number: the next one is still free
    assert QuotaUse.get().drawn == 1000
    assert Invoice.select().count() == 1


def test_a_batch_that_would_pass_the_quota_writes_nothing(online, client):
    set_channel("direct")
    stock.set_stock_settings(block_size=100, numbers_floor=10, quota_slice="2500.00", quota_floor="100.00")
    assert stock.top_up(client).complete
    from app.services.issuing import issue_invoices

    with pytest.raises(StockExhausted):
        issue_invoices([invoice_body(), invoice_body(), invoice_body()])  # 3,000.00 > 2,500.00
    _nothing_written()
    assert NumberBlock.get().used == 0


def test_at_the_years_end_the_blocks_are_retired_and_issuing_is_refused(online, client):
    set_channel("direct")
    stock.set_stock_settings(block_size=100, numbers_floor=10, quota_slice="100000.00", quota_floor="100.00")
    assert stock.top_up(client).complete
    issue_invoice(invoice_body())
    # The desk's refill at the first moment of next year retires this year's block (its numbers are lost).
    next_year = datetime(clock.now().year + 1, 1, 1, 0, 0, 1, tzinfo=clock.BEIJING)
    result = stock.top_up(_Offline(), now=next_year)
    assert [r.lost for r in result.retired] == [99]
    assert NumberBlock.get().state == "retired"
    with pytest.raises(StockExhausted) as refused:
        issue_invoice(invoice_body())
    assert refused.value.errors[0].field == "number" and str(clock.now().year) in refused.value.errors[0].message_zh
    assert Invoice.select().count() == 1


def test_a_block_granted_for_last_year_is_never_used(online, client):
    set_channel("direct")
    stock.set_stock_settings(block_size=100, numbers_floor=10, quota_slice="100000.00", quota_floor="100.00")
    set_clock(online, now=(clock.now() - timedelta(days=366)).isoformat())  # the platform still in last year
    result = stock.top_up(client)
    assert result.retired and not result.drawn  # granted for last year: retired at once
    with pytest.raises(StockExhausted):
        issue_invoice(invoice_body())
    _nothing_written()


def test_a_blocked_taxpayer_cannot_issue_and_is_told_why(direct, client):
    ok(direct, "POST", "/_taxpayer", {"risk": "blocked"}, token=None)
    taxpayer.refresh(client)
    with pytest.raises(TaxpayerBlocked) as refused:
        issue_invoice(invoice_body())
    assert "taxpayer" in str(refused.value) and "risk" in refused.value.describe("en")
    _nothing_written()
    ok(direct, "POST", "/_taxpayer", {"risk": "none"}, token=None)
    taxpayer.refresh(client)
    assert issue_invoice(invoice_body()).invoice.number
    assert Invoice.get().status == status.PENDING_UPLOAD


class _Offline:
    """A platform that cannot be reached: the refill retires what the year's end retires and asks nothing."""

    def draw_numbers(self, request_id, count):
        from app.platform.client import TransientFailure

        raise TransientFailure("connection refused")

    def change_quota(self, request_id, action, amount):
        from app.platform.client import TransientFailure

        raise TransientFailure("connection refused")

"""The direct channel's stock drawn from the reference platform over loopback: a block of numbers and
a slice of quota, a lost answer asked again under the same request id (never drawn twice), the year's
end crossed, the platform channel left alone, settings refused naming their field."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from app.core.errors import ValidationFailed
from app.platform.client import NumberGrant, QuotaGrant, TransientFailure
from app.platform.http_client import HttpPlatformClient
from app.platform.server import PlatformServer
from app.services import settings, stock
from app.services.channel import get_channel, set_channel
from app.store.audit import verify_chain
from app.store.models import AuditEntry, NumberBlock, QuotaSlice
from tests.helpers.bodies import SELLER_TAX_ID
from tests.platform_v2.support import START, quota, set_clock

NOW = datetime.fromisoformat(START)


def _platform_blocks(platform: PlatformServer) -> list[tuple[str, int, int]]:
    """(request id, count, year) of every block the platform gave this seller, from its own v2 state."""
    rows = platform.v2_store.all("SELECT request_id, count, year FROM v2_block WHERE seller_tax_id = ? ORDER BY seq",
                                 SELLER_TAX_ID)
    return [(r["request_id"], r["count"], r["year"]) for r in rows]


def _actions(name: str) -> list[dict]:
    return [json.loads(e.detail) for e in AuditEntry.select().where(AuditEntry.action == name).order_by(AuditEntry.id)]


class LosesAnswers:
    """The real client, whose answers to the first `lose` draws (or quota downloads) are lost on the way
    back: the platform did the work, the desk hears a transient failure whose outcome is unknown."""

    def __init__(self, real: HttpPlatformClient, lose_numbers: int = 0, lose_quota: int = 0) -> None:
        self.real = real
        self.lose_numbers = lose_numbers
        self.lose_quota = lose_quota
        self.asked: list[tuple[str, str, object]] = []

    def draw_numbers(self, request_id: str, count: int) -> NumberGrant:
        self.asked.append(("numbers", request_id, count))
        grant = self.real.draw_numbers(request_id, count)
        if self.lose_numbers:
            self.lose_numbers -= 1
            raise TransientFailure("connection dropped reading the answer", outcome_unknown=True)
        return grant

    def change_quota(self, request_id: str, action: str, amount: Decimal) -> QuotaGrant:
        self.asked.append(("quota", request_id, amount))
        grant = self.real.change_quota(request_id, action, amount)
        if self.lose_quota:
            self.lose_quota -= 1
            raise TransientFailure("connection dropped reading the answer", outcome_unknown=True)
        return grant


@pytest.fixture
def client(desk: PlatformServer):
    made = settings.make_client()
    yield made
    made.close()


def test_a_refill_draws_one_block_and_one_slice_and_the_view_shows_them(desk, client):
    set_channel("direct", clerk="张三")
    before = quota(desk)
    result = stock.top_up(client, clerk="张三", now=NOW)
    assert result.done and result.complete and not result.retired
    [drawn] = result.drawn
    assert (drawn.count, drawn.year, drawn.asked_again) == (1000, 2026, False)
    assert drawn.first.startswith("26112") and int(drawn.last) - int(drawn.first) == 999
    [slice_] = result.downloaded
    assert slice_.amount == Decimal("200000.00") and slice_.valid_from == date(2026, 12, 1)
    view = stock.stock_view(NOW)
    assert view == result.view
    assert (view.numbers_left, view.next_number, view.blocks_held, view.year) == (1000, drawn.first, 1, 2026)
    assert view.year_end.isoformat() == "2027-01-01T00:00:00+08:00"
    assert view.quota_held == Decimal("200000.00") and view.period == "202612"
    assert view.quota_valid_to == slice_.valid_to == date(2027, 1, 15)
    assert view.numbers_waiting == () and view.quota_waiting == ()
    assert _platform_blocks(desk) == [(drawn.request_id, 1000, 2026)]
    assert Decimal(quota(desk)["available"]) == Decimal(before["available"]) - Decimal("200000.00")
    # Enough is held now: a second refill asks for nothing.
    again = stock.top_up(client, now=NOW)
    assert again.complete and not again.drawn and not again.downloaded
    assert len(_platform_blocks(desk)) == 1
    assert [d["request_id"] for d in _actions("numbers_drawn")] == [drawn.request_id]
    assert [d["request_id"] for d in _actions("quota_downloaded")] == [slice_.request_id]
    assert verify_chain() is None


def test_a_lost_answer_is_asked_again_under_the_same_request_id_and_gets_the_same_block(desk, client):
    set_channel("direct")
    lossy = LosesAnswers(client, lose_numbers=1, lose_quota=1)
    first = stock.top_up(lossy, now=NOW)
    assert not first.complete and not first.drawn and "outcome is unknown" in first.error
    [row] = NumberBlock.select()
    assert row.state == "requested" and row.first is None and first.waiting == (row.request_id,)
    assert first.view is not None and first.view.numbers_waiting == (row.request_id,)
    # The platform did draw it; the desk does not know the numbers yet and holds none.
    assert _platform_blocks(desk) == [(row.request_id, 1000, 2026)] and first.view.numbers_left == 0
    # The platform could not be heard: the quota was not asked for in the same call.
    assert [a[0] for a in lossy.asked] == ["numbers"] and QuotaSlice.select().count() == 0

    second = stock.top_up(lossy, now=NOW)
    assert [a for a in lossy.asked if a[0] == "numbers"] == [("numbers", row.request_id, 1000)] * 2
    [drawn] = second.drawn
    assert drawn.request_id == row.request_id and drawn.asked_again  # the row of the first call, asked again
    # The quota's answer is lost this time: asked again on the third call.
    [slice_row] = QuotaSlice.select()
    assert slice_row.state == "requested" and second.waiting == (slice_row.request_id,)
    third = stock.top_up(lossy, now=NOW)
    assert third.complete and [s.request_id for s in third.downloaded] == [slice_row.request_id]
    assert third.downloaded[0].asked_again
    assert [a[1] for a in lossy.asked if a[0] == "quota"] == [slice_row.request_id] * 2
    # Exactly one block on the platform, the one the desk holds.
    assert _platform_blocks(desk) == [(row.request_id, 1000, 2026)]
    assert NumberBlock.get_by_id(row.id).state == "held" and NumberBlock.select().count() == 1
    assert stock.stock_view(NOW).numbers_left == 1000
    assert Decimal(quota(desk)["downloaded"]) == Decimal("200000.00")


def test_the_years_end_retires_the_old_block_and_draws_one_of_the_new_year(desk, client):
    set_channel("direct")
    december = datetime.fromisoformat("2026-12-31T22:00:00+08:00")
    set_clock(desk, now=december.isoformat())
    old = stock.top_up(client, now=december).drawn[0]
    assert old.year == 2026
    NumberBlock.update(used=10).where(NumberBlock.request_id == old.request_id).execute()  # 10 were issued
    january = datetime.fromisoformat("2027-01-01T09:00:00+08:00")
    set_clock(desk, now=january.isoformat())
    result = stock.top_up(client, clerk="张三", now=january)
    [retired] = result.retired
    assert (retired.request_id, retired.year, retired.lost) == (old.request_id, 2026, 990)
    [new] = result.drawn
    assert new.year == 2027 and new.first.startswith("27112")
    assert [s.valid_from for s in result.downloaded] == [date(2027, 1, 1)]  # January's quota
    view = result.view
    assert view is not None and (view.year, view.numbers_left, view.next_number) == (2027, 1000, new.first)
    assert (view.blocks_retired, view.numbers_lost, view.period) == (1, 990, "202701")
    assert view.quota_held == Decimal("200000.00")
    assert NumberBlock.get(NumberBlock.request_id == old.request_id).state == "retired"
    [entry] = _actions("numbers_retired")
    assert entry["lost"] == 990 and entry["request_id"] == old.request_id
    assert [b[2] for b in _platform_blocks(desk)] == [2026, 2027]


def test_an_answer_lost_across_the_years_end_is_recorded_and_retired_at_once(desk, client):
    set_channel("direct")
    december = datetime.fromisoformat("2026-12-31T23:59:00+08:00")
    set_clock(desk, now=december.isoformat())
    stock.top_up(LosesAnswers(client, lose_numbers=1), now=december)
    january = datetime.fromisoformat("2027-01-01T09:00:00+08:00")
    set_clock(desk, now=january.isoformat())
    result = stock.top_up(client, now=january)
    # Asked again, the platform gives the same (2026) block: not usable in 2027, so a 2027 one is drawn.
    assert [(r.year, r.lost) for r in result.retired] == [(2026, 1000)]
    assert [d.year for d in result.drawn] == [2027]
    assert [b[2] for b in _platform_blocks(desk)] == [2026, 2027]


def test_a_refusal_is_reported_and_never_asked_again(desk, client):
    set_channel("direct")
    stock.set_stock_settings(quota_slice="99999999.00")  # more than the month has (10,000,000.00)
    result = stock.top_up(client, now=NOW)
    [refusal] = result.refused
    assert refusal.what == "quota" and "amount" in refusal.reason and not result.complete
    assert QuotaSlice.get(QuotaSlice.request_id == refusal.request_id).state == "refused"
    assert len(result.drawn) == 1  # the numbers were drawn all the same
    assert _actions("quota_refused")[0]["request_id"] == refusal.request_id
    stock.set_stock_settings(quota_slice="1000.00")
    again = stock.top_up(client, now=NOW)
    assert [s.amount for s in again.downloaded] == [Decimal("1000.00")] and not again.refused


def test_the_platform_channel_does_nothing(desk, client):
    assert get_channel() == "platform"
    lossy = LosesAnswers(client)
    result = stock.top_up(lossy, now=NOW)
    assert not result.done and result.channel == "platform" and lossy.asked == []
    assert NumberBlock.select().count() == 0 and QuotaSlice.select().count() == 0 and _platform_blocks(desk) == []


def test_the_channel_setting_is_audited_and_refuses_anything_else(store):
    with pytest.raises(ValidationFailed) as caught:
        set_channel("lequ")
    [error] = caught.value.errors
    assert error.field == "channel" and "开票渠道" in error.message_zh and "channel" in error.message_en
    set_channel("direct", clerk="张三")
    assert get_channel() == "direct"
    [entry] = [json.loads(e.detail) for e in AuditEntry.select().where(AuditEntry.action == "setting_changed")
               if json.loads(e.detail)["key"] == "channel"]
    assert entry["value"] == "direct"


@pytest.mark.parametrize(("given", "field"), [
    ({"block_size": 5001}, "stock.block_size"), ({"block_size": 0}, "stock.block_size"),
    ({"block_size": "ten"}, "stock.block_size"), ({"numbers_floor": -1}, "stock.numbers_floor"),
    ({"numbers_floor": 1000}, "stock.numbers_floor"),  # not below the block size
    ({"quota_slice": "0"}, "stock.quota_slice"), ({"quota_slice": "1.005"}, "stock.quota_slice"),
    ({"quota_floor": "-1.00"}, "stock.quota_floor"), ({"quota_floor": "abc"}, "stock.quota_floor"),
])
def test_bad_stock_settings_are_refused_naming_the_field(store, given, field):
    with pytest.raises(ValidationFailed) as caught:
        stock.set_stock_settings(**given)
    assert [e.field for e in caught.value.errors] == [field]
    assert stock.get_stock_settings() == stock.StockSettings()  # nothing stored


def test_stock_settings_are_kept(store):
    settings = stock.set_stock_settings(block_size=5000, numbers_floor="100", quota_slice="300000", quota_floor=0)
    assert settings == stock.StockSettings(5000, 100, Decimal("300000.00"), Decimal("0.00"))
    assert stock.get_stock_settings() == settings


def test_a_refused_token_leaves_the_request_waiting(desk):
    set_channel("direct")
    wrong = settings.make_client(token="not-the-token")
    try:
        result = stock.top_up(wrong, now=NOW)
    finally:
        wrong.close()
    assert "check the token" in result.error and not result.drawn and not result.refused
    [row] = NumberBlock.select()
    assert row.state == "requested" and _platform_blocks(desk) == []

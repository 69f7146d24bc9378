"""Official numbers, their blocks, and the deadlines of section 5, on Beijing's clock."""

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from app.core.clock import BEIJING
from app.core.deadlines import (
    hours_left,
    is_month_closed,
    month_close,
    period_of,
    previous_period,
    too_late,
    upload_deadline,
    year_end,
)
from app.core.official_numbers import Block, block_count, is_official_number, make_number, parse_number, usable_for


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_numbers_carry_year_area_channel_and_sequence():
    number = make_number(2026, "2", 123)
    assert number == "26112000000000000123" and is_official_number(number)
    parts = parse_number(number)
    assert parts is not None and (parts.year, parts.area, parts.channel, parts.sequence) == (2026, "11", "2", 123)
    for bad in ("2611200000000000012", "26312000000000000123", "２６112000000000000123", 26112000000000000123):
        assert not is_official_number(bad)


def test_a_number_serves_only_its_year_in_beijing():
    number = make_number(2026, "2", 1)
    assert usable_for(number, at("2026-12-31T23:59:59+08:00"))
    assert not usable_for(number, at("2027-01-01T00:00:00+08:00"))
    # 16:30 UTC on 31 December is already 1 January in Beijing.
    assert not usable_for(number, at("2026-12-31T16:30:00+00:00"))


def test_a_block_gives_its_numbers_in_order_and_asks_to_be_redrawn():
    block = Block(first=make_number(2026, "2", 1001), last=make_number(2026, "2", 1100))
    assert (block.count, block.year, block.next_number()) == (100, 2026, "26112000000000001001")
    assert Block(block.first, block.last, used=99).next_number() == "26112000000000001100"
    assert Block(block.first, block.last, used=100).next_number() is None
    assert not Block(block.first, block.last, used=80).needs_redraw()
    assert Block(block.first, block.last, used=81).needs_redraw()
    assert Block(block.first, block.last, used=10).needs_redraw(floor=95)
    assert block_count(make_number(2026, "2", 5), make_number(2027, "2", 9)) == 0


@given(st.integers(1, 10**14), st.integers(1, 5000), st.integers(0, 5000))
def test_block_numbers_are_contiguous_and_never_repeat(start, count, used):
    block = Block(make_number(2026, "2", start), make_number(2026, "2", start + count - 1), used=min(used, count))
    taken = [Block(block.first, block.last, used=i).next_number() or "" for i in range(block.used)]
    assert len(set(taken)) == len(taken)
    sequences = [parts.sequence for parts in map(parse_number, taken) if parts is not None]
    assert sequences == list(range(start, start + block.used))


def test_the_48_hour_window_and_the_month_close():
    issued = at("2026-11-28T09:30:00+08:00")
    assert upload_deadline(issued) == at("2026-11-30T09:30:00+08:00")
    assert not too_late(issued, at("2026-11-30T09:29:59+08:00"))
    assert too_late(issued, at("2026-11-30T09:30:00+08:00"))
    assert month_close("202611") == datetime(2026, 12, 13, tzinfo=BEIJING)
    assert month_close("202612") == at("2027-01-13T00:00:00+08:00")
    assert not is_month_closed("202611", at("2026-12-12T23:59:59+08:00"))
    assert is_month_closed("202611", at("2026-12-13T00:00:00+08:00"))
    # An invoice of the 30th uploaded on 1 December is in time: its month closes on the 13th.
    assert not too_late(at("2026-11-30T20:00:00+08:00"), at("2026-12-01T10:00:00+08:00"))
    assert hours_left(issued, at("2026-11-29T09:30:00+08:00")) == 24
    assert hours_left(issued, at("2026-12-01T09:30:00+08:00")) == -24


def test_periods_and_the_years_end():
    assert period_of(at("2026-11-30T16:30:00+00:00")) == "202612"  # already December in Beijing
    assert previous_period("202601") == "202512" and previous_period("202611") == "202610"
    assert year_end(2026) == at("2027-01-01T00:00:00+08:00")


def test_months_their_quota_and_their_close():
    from app.core.deadlines import filing_deadline, first_day, has_ended, latest_close, next_period, parse_period

    assert parse_period("202612") == (2026, 12) and parse_period("202613") is None and parse_period(202612) is None
    assert (first_day("202612").isoformat(), filing_deadline("202612").isoformat()) == ("2026-12-01", "2027-01-15")
    assert next_period("202612") == "202701"
    assert has_ended("202611", at("2026-12-01T00:00:00+08:00"))
    assert not has_ended("202612", at("2026-12-31T23:00:00+08:00"))
    assert latest_close(at("2026-12-12T23:59:00+08:00")) == at("2026-11-13T00:00:00+08:00")
    assert latest_close(at("2026-12-13T00:00:00+08:00")) == at("2026-12-13T00:00:00+08:00")
    assert latest_close(at("2027-01-05T00:00:00+08:00")) == at("2026-12-13T00:00:00+08:00")

"""GET /v2/invoices: the paging contract (every invoice of the period once, in the order accepted, by an opaque
cursor) across page boundaries, dates interleaved, ties and the period's edges; and a page read by index
ranges, whatever the period holds before, after or around it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from app.platform.server import PlatformServer
from app.platform.v2.platform import V2Platform
from tests.platform_v2.support import body, ok

SELLER = "91110108MA0123456G"


def _walk(v2: V2Platform, date_from: str, date_to: str, limit: int) -> tuple[list[str], list[int]]:
    """(numbers listed, page sizes) of the whole walk."""
    numbers: list[str] = []
    sizes: list[int] = []
    after: str | None = None
    while True:
        query = {"from": date_from, "to": date_to, "limit": str(limit), **({"after": after} if after else {})}
        answer = v2.invoices(query)
        assert answer.status == 200, answer
        items = answer.body["items"]
        numbers += [r["number"] for r in items]
        sizes.append(len(items))
        after = answer.body["next"]
        if after is None:
            return numbers, sizes
        assert len(items) == limit  # a page before the last is full


def _issue(v2: V2Platform, key: str, issued_at: str) -> tuple[str, str]:
    """(number, Beijing date) of a platform-channel invoice issued now, dated issued_at."""
    answer = v2.issue(key, body(None, issued_at, remarks=key))
    assert answer.status == 201, answer
    return str(answer.body["number"]), issued_at


# Accepted in this order (the order the listing keeps), dated out of order: dates interleaved, several on one
# moment (ties), one given in UTC that is the next day in Beijing, one on each edge of the month.
MOMENTS = ["2026-11-28T09:00:00+08:00", "2026-11-26T09:00:00+08:00", "2026-11-28T09:00:00+08:00",
           "2026-11-27T23:30:00+00:00", "2026-11-30T23:59:59+08:00", "2026-11-26T09:00:00+08:00",
           "2026-11-28T09:00:00+08:00", "2026-12-01T00:00:00+08:00", "2026-11-01T00:00:00+08:00",
           "2026-11-28T09:00:00+08:00", "2026-11-29T12:00:00+08:00", "2026-11-26T08:00:00+08:00",
           "2026-11-28T09:00:00+08:00"]
BEIJING_DATES = ["2026-11-28", "2026-11-26", "2026-11-28", "2026-11-28", "2026-11-30", "2026-11-26", "2026-11-28",
                 "2026-12-01", "2026-11-01", "2026-11-28", "2026-11-29", "2026-11-26", "2026-11-28"]


@pytest.fixture
def listed(v2: PlatformServer) -> Iterator[tuple[V2Platform, list[tuple[str, str]]]]:
    dated = enumerate(zip(MOMENTS, BEIJING_DATES, strict=True))
    issued = [(_issue(v2.v2, f"k-{i}", moment)[0], day) for i, (moment, day) in dated]
    yield v2.v2, issued


@pytest.mark.parametrize("period", [("2026-11-01", "2026-12-01"), ("2026-11-28", "2026-11-28"),
                                    ("2026-11-26", "2026-11-28"), ("2026-11-27", "2026-11-27"),
                                    ("2026-11-29", "2026-12-31"), ("2026-10-01", "2026-11-01"),
                                    ("2026-12-01", "2026-12-01"), ("2026-12-02", "2026-12-31"),
                                    ("2026-11-30", "2026-11-26")])
def test_every_invoice_of_the_period_once_in_the_order_accepted_whatever_the_page(listed, period):
    v2, issued = listed
    date_from, date_to = period
    expected = [number for number, day in issued if date_from <= day <= date_to]
    for limit in (1, 2, 3, 4, 5, 7, len(expected) or 1, 1000):
        numbers, sizes = _walk(v2, date_from, date_to, limit)
        assert numbers == expected, (period, limit)
        # Exactly a multiple of the page: the last full page says there is no more (no empty page after it).
        assert sizes[-1] == (len(expected) - limit * (len(sizes) - 1)), (period, limit, sizes)
        assert len(sizes) == max(1, -(-len(expected) // limit))


def test_the_cursor_is_a_place_in_the_order_accepted(listed):
    """An invoice accepted while a period is walked, dated in it, comes at the end; nothing listed twice or lost."""
    v2, issued = listed
    first = v2.invoices({"from": "2026-11-26", "to": "2026-11-30", "limit": "3"}).body
    late, _ = _issue(v2, "k-late", "2026-11-26T10:00:00+08:00")  # the earliest date of the period, accepted last
    numbers, _ = _walk_from(v2, "2026-11-26", "2026-11-30", 3, first["next"])
    expected = [number for number, day in issued if "2026-11-26" <= day <= "2026-11-30"] + [late]
    assert [r["number"] for r in first["items"]] + numbers == expected


def _walk_from(v2: V2Platform, date_from: str, date_to: str, limit: int, after: str) -> tuple[list[str], int]:
    numbers: list[str] = []
    pages = 0
    while after:
        answer = v2.invoices({"from": date_from, "to": date_to, "limit": str(limit), "after": after}).body
        numbers += [r["number"] for r in answer["items"]]
        pages += 1
        after = answer["next"]
    return numbers, pages


def test_the_list_over_http_is_the_same(v2, listed):
    _, issued = listed
    got, after = [], None
    while True:
        cursor = f"&after={after}" if after else ""
        page = ok(v2, "GET", "/v2/invoices?from=2026-11-26&to=2026-11-28&limit=2" + cursor)
        got += [r["number"] for r in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert got == [number for number, day in issued if "2026-11-26" <= day <= "2026-11-28"]


# --- a page by index: its cost does not grow with what the period holds -----------------------------------

def _plant(platform: PlatformServer, rows: list[tuple[str, str]], seller: str = SELLER) -> None:
    """Records straight in the platform's file, (number, Beijing date) each, accepted in this order."""
    conn = sqlite3.connect(platform.db_path)
    try:
        with conn:
            conn.executemany(
                "INSERT INTO v2_invoice (number, channel, seller_tax_id, body, body_hash, issued_at, issued_date, "
                "period, kind, red, amount_fen, tax_fen, with_tax_fen, status, accepted_at) VALUES "
                "(?, 'direct', ?, ?, '', ?, ?, ?, 'normal', 0, 100000, 6000, 106000, 'accepted', ?)",
                [(number, seller, f'{{"number": "{number}"}}', f"{day}T09:00:00+08:00", day, day[:4] + day[5:7],
                  f"{day}T09:01:00+08:00") for number, day in rows])
    finally:
        conn.close()


def _steps(platform: PlatformServer, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """SQLite virtual machine steps (in thousands) one listing call takes, and its answer."""
    count = [0]

    def tick() -> int:
        count[0] += 1
        return 0

    conn = platform.v2_store._conn
    conn.set_progress_handler(tick, 1000)
    try:
        answer = platform.v2.invoices(query)
    finally:
        conn.set_progress_handler(None, 1000)
    assert answer.status == 200
    return count[0], answer.body


def test_a_page_reads_index_ranges_not_the_period(v2):
    """20,000 invoices on one day among others before and after it, and other sellers' on the same day: the
    first, a middle and the last page of that day, 100 each, cost what a page of a period of 100 costs. (A
    listing that scans or sorts the period for each page takes some 30 times as many steps.)"""
    big, small = "2026-11-20", "2026-11-21"
    number = iter(range(10 ** 6, 10 ** 7))
    rows = [(f"2611200{next(number):013d}", "2026-11-19") for _ in range(3000)]
    rows += [(f"2611200{next(number):013d}", big if i % 100 else small) for i in range(20_200)]
    rows += [(f"2611200{next(number):013d}", "2026-11-22") for _ in range(3000)]
    _plant(v2, rows)
    _plant(v2, [(f"2611200{next(number):013d}", big) for _ in range(3000)], seller="91110000000000000X")
    reference, page = _steps(v2, {"from": small, "to": small, "limit": "100"})
    assert len(page["items"]) == 100
    after: str | None = None
    costs, listed = [], 0
    pages = 0
    while True:
        cost, page = _steps(v2, {"from": big, "to": big, "limit": "100", **({"after": after} if after else {})})
        listed += len(page["items"])
        if pages in (0, 99) or page["next"] is None:
            costs.append(cost)
        pages += 1
        after = page["next"]
        if after is None:
            break
    assert listed == 19_998 and pages == 200
    assert max(costs) <= 3 * max(reference, 1), (costs, reference)
    # A period of many days: the dates are found one seek each, a page still reads only what it lists.
    wide, page = _steps(v2, {"from": "2026-01-01", "to": "2026-12-31", "limit": "100"})
    assert [r["number"] for r in page["items"]] == [n for n, _ in rows[:100]]
    assert wide <= 3 * max(reference, 1), (wide, reference)

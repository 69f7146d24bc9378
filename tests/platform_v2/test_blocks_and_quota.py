"""Number blocks (consecutive, per year, idempotent by request_id) and the month's quota."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest

from tests.platform_v2.support import call, download, draw, ok, quota, set_clock


def test_a_block_is_a_run_of_numbers_of_this_year_and_the_same_request_gets_the_same_block(v2):
    block = ok(v2, "POST", "/v2/number-blocks", {"request_id": "b-1", "count": 10}, status=201)
    assert block == {"request_id": "b-1", "first": "26112000000000000001", "last": "26112000000000000010",
                     "count": 10, "year": 2026}
    assert ok(v2, "POST", "/v2/number-blocks", {"request_id": "b-1", "count": 10}, status=201) == block
    status, answer, _ = call(v2, "POST", "/v2/number-blocks", {"request_id": "b-1", "count": 11})
    assert status == 409 and answer["error"] == "key_conflict" and answer["message"]
    assert draw(v2, 5, "b-2")[0] == "26112000000000000011"  # the next block follows, nothing given twice
    set_clock(v2, now="2027-01-01T00:00:05+08:00")
    assert draw(v2, 1, "b-3") == ["27112000000000000001"]  # a new year, a new sequence


@pytest.mark.parametrize("count", [0, 5001, "5", True, None, 2.5])
def test_a_block_of_1_to_5000_numbers(v2, count):
    status, answer, _ = call(v2, "POST", "/v2/number-blocks", {"request_id": "b", "count": count})
    assert status == 422 and answer["error"] == "invalid" and [d["field"] for d in answer["details"]] == ["count"]


def test_5000_is_the_largest_block_and_a_request_id_is_required(v2):
    assert len(draw(v2, 5000)) == 5000
    status, answer, _ = call(v2, "POST", "/v2/number-blocks", {"count": 3})
    assert status == 422 and answer["details"][0]["field"] == "request_id"


def test_a_block_whose_answer_was_lost_is_asked_again_and_is_the_same_block(v2):
    v2.set_faults(mode="slow", delay_ms=400)
    with pytest.raises((TimeoutError, socket.timeout)):  # the platform acted; the desk never heard
        call(v2, "POST", "/v2/number-blocks", {"request_id": "lost", "count": 100}, timeout=0.15)
    v2.set_faults(mode="ok")
    again = ok(v2, "POST", "/v2/number-blocks", {"request_id": "lost", "count": 100}, status=201)
    assert (again["first"], again["last"]) == ("26112000000000000001", "26112000000000000100")
    assert draw(v2, 1, "next") == ["26112000000000000101"]


def test_quota_download_return_and_exceeded(v2):
    assert quota(v2) == {"period": "202612", "month_total": "10000000.00", "available": "10000000.00",
                         "downloaded": "0.00", "downloaded_unused": "0.00", "suspended": False,
                         "valid_from": "2026-12-01", "valid_to": "2027-01-15"}
    first = download(v2, "5000.00", "q-1")
    assert first == {"request_id": "q-1", "period": "202612", "valid_from": "2026-12-01", "valid_to": "2027-01-15",
                     "downloaded_unused": "5000.00"}
    assert download(v2, "5000.00", "q-1") == first  # the same request again: downloaded once
    status, answer, _ = call(v2, "POST", "/v2/quota", {"request_id": "q-1", "action": "download", "amount": "1.00"})
    assert status == 409 and answer["error"] == "key_conflict"
    status, answer, _ = call(v2, "POST", "/v2/quota", {"request_id": "q-2", "action": "download",
                                                       "amount": "9995000.01"})
    assert status == 422 and answer["error"] == "quota_exceeded" and answer["details"][0]["field"] == "amount"
    back = ok(v2, "POST", "/v2/quota", {"request_id": "q-3", "action": "return", "amount": "2000.00"})
    assert back["downloaded_unused"] == "3000.00"
    status, answer, _ = call(v2, "POST", "/v2/quota", {"request_id": "q-4", "action": "return", "amount": "3000.01"})
    assert status == 422 and answer["details"][0]["field"] == "amount"
    assert quota(v2)["available"] == "9997000.00" and quota(v2)["downloaded"] == "3000.00"
    assert download(v2, "9997000.00", "q-2")["downloaded_unused"] == "10000000.00"  # a refused key stays free
    assert quota(v2)["available"] == "0.00"


@pytest.mark.parametrize("change", [{"amount": 100}, {"amount": "1.001"}, {"amount": "0.00"}, {"amount": "-5.00"},
                                    {"action": "take"}, {"request_id": ""}])
def test_quota_requests_that_break_a_rule(v2, change):
    status, answer, _ = call(v2, "POST", "/v2/quota", {"request_id": "q", "action": "download", "amount": "1.00",
                                                       **change})
    assert status == 422 and answer["error"] == "invalid"
    assert answer["details"][0]["field"] == next(iter(change))


def test_quota_is_per_month_of_the_platform_clock(v2):
    download(v2, "100.00")
    set_clock(v2, now="2027-01-02T09:00:00+08:00")
    assert quota(v2)["period"] == "202701" and quota(v2)["downloaded"] == "0.00"
    assert ok(v2, "GET", "/v2/quota?period=202612")["downloaded_unused"] == "100.00"


@pytest.mark.parametrize("v2", [{"quota": Decimal("2500.00")}], indirect=True)
def test_the_month_total_is_configured_at_start(v2):
    assert quota(v2)["month_total"] == "2500.00"
    status, answer, _ = call(v2, "POST", "/v2/quota", {"request_id": "q", "action": "download", "amount": "2500.01"})
    assert status == 422 and answer["error"] == "quota_exceeded"


def test_blocks_drawn_at_once_from_many_connections_never_overlap(v2):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        blocks = list(pool.map(lambda i: draw(v2, 50, f"par-{i}"), range(16)))
    numbers = [n for block in blocks for n in block]
    assert len(set(numbers)) == 800 and min(numbers) == "26112000000000000001" and max(numbers).endswith("800")

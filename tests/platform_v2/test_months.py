"""Monthly summaries (confirm, mismatch, withdraw) and the close at 00:00 on the 13th of the next month."""

from __future__ import annotations

from tests.platform_v2.support import body, call, download, draw, ok, results, set_clock, upload

NOVEMBER = "2026-11-30T11:00:00+08:00"


def _november(v2, count: int) -> list[str]:
    """`count` invoices of 30 November accepted, and one more number of the block left unused."""
    set_clock(v2, now="2026-11-30T12:00:00+08:00")
    numbers = draw(v2, count + 1)
    download(v2, f"{1000 * (count + 1)}.00")
    got = results(v2, upload(v2, [body(n, NOVEMBER) for n in numbers[:count]], "nov"))
    assert {r["status"] for r in got} == {"accepted"}
    return numbers


def _summary(count: int, amount: str, tax: str, period: str = "202611") -> dict:
    return {"period": period, "count": count, "total_amount": amount, "total_tax": tax}


def test_a_summary_is_confirmed_when_it_matches_and_withdrawn_to_upload_a_forgotten_invoice(v2):
    numbers = _november(v2, 2)
    status, answer, _ = call(v2, "POST", "/v2/monthly-summaries", _summary(2, "2000.00", "120.00"))
    assert status == 422 and answer["details"][0]["field"] == "period"  # November has not ended yet
    set_clock(v2, now="2026-12-01T10:00:00+08:00")
    status, answer, _ = call(v2, "POST", "/v2/monthly-summaries", _summary(3, "3000.00", "120.00"))
    assert status == 409 and answer["error"] == "mismatch"
    assert answer["platform"] == {"count": 2, "total_amount": "2000.00", "total_tax": "120.00"}
    assert [d["field"] for d in answer["details"]] == ["count", "total_amount"]
    assert ok(v2, "POST", "/v2/monthly-summaries", _summary(2, "2000.00", "120.00")) == {
        "status": "confirmed", "period": "202611"}
    assert ok(v2, "GET", "/v2/monthly-summaries/202611")["status"] == "confirmed"
    forgotten = results(v2, upload(v2, [body(numbers[2], NOVEMBER)], "forgotten"))[0]
    assert (forgotten["status"], forgotten["error"]) == ("rejected", "month_confirmed")
    assert ok(v2, "DELETE", "/v2/monthly-summaries/202611") == {"status": "withdrawn", "period": "202611"}
    assert ok(v2, "DELETE", "/v2/monthly-summaries/202611") == {"status": "withdrawn", "period": "202611"}
    assert results(v2, upload(v2, [body(numbers[2], NOVEMBER)], "forgotten-2"))[0]["status"] == "accepted"
    assert ok(v2, "POST", "/v2/monthly-summaries", _summary(3, "3000.00", "180.00"))["status"] == "confirmed"


def test_summary_requests_that_break_a_rule(v2):
    for change, field in (({"period": "2026-11"}, "period"), ({"period": "202613"}, "period"),
                          ({"count": -1}, "count"), ({"count": "2"}, "count"), ({"total_tax": 120}, "total_tax"),
                          ({"total_amount": "1.234"}, "total_amount")):
        status, answer, _ = call(v2, "POST", "/v2/monthly-summaries", {**_summary(0, "0.00", "0.00"), **change})
        assert status == 422 and answer["details"][0]["field"] == field, (change, answer)
    assert call(v2, "DELETE", "/v2/monthly-summaries/2026")[0] == 422


def test_a_month_closes_at_0000_on_the_13th_and_then_takes_no_upload_and_no_withdrawal(v2):
    numbers = _november(v2, 1)
    set_clock(v2, now="2026-12-12T23:59:59+08:00")
    assert ok(v2, "GET", "/v2/monthly-summaries/202611")["status"] == "open"
    late = results(v2, upload(v2, [body(numbers[1], NOVEMBER)], "late"))[0]
    assert late["error"] == "upload_too_late"  # the month is open, but 48 hours have passed
    set_clock(v2, now="2026-12-13T00:00:00+08:00")
    closed = results(v2, upload(v2, [body(numbers[1], NOVEMBER)], "closed"))[0]
    assert (closed["status"], closed["error"], closed["details"][0]["field"]) == ("rejected", "month_closed",
                                                                                   "issued_at")
    view = ok(v2, "GET", "/v2/monthly-summaries/202611")
    assert view["status"] == "closed" and view["closes_at"] == "2026-12-13T00:00:00+08:00"
    assert view["platform"] == {"count": 1, "total_amount": "1000.00", "total_tax": "60.00"}
    status, answer, _ = call(v2, "DELETE", "/v2/monthly-summaries/202611")
    assert status == 410 and answer["error"] == "month_closed"
    status, answer, _ = call(v2, "POST", "/v2/monthly-summaries", _summary(1, "1000.00", "60.00"))
    assert status == 410 and answer["error"] == "month_closed" and answer["platform"]["count"] == 1
    status, answer, _ = call(v2, "POST", "/v2/issue", body(None, NOVEMBER), headers={"Idempotency-Key": "k"})
    assert status == 422 and answer["error"] == "month_closed"


def test_an_upload_nobody_asked_about_before_the_close_counts_in_the_closed_month(v2):
    set_clock(v2, now="2026-11-30T12:00:00+08:00")
    numbers = draw(v2, 1)
    download(v2, "1000.00")
    set_clock(v2, now="2026-12-01T23:59:59.990+08:00")
    upload(v2, [body(numbers[0], NOVEMBER)])
    set_clock(v2, now="2026-12-13T00:00:00+08:00")  # checked lazily: by the first request after the close
    assert ok(v2, "GET", "/v2/monthly-summaries/202611")["platform"]["count"] == 1
    assert ok(v2, "GET", f"/v2/invoices/{numbers[0]}")["accepted_at"].startswith("2026-12-02T00:00:")

"""Uploads (direct channel): received, checked afterwards, results by acceptance id for 12 hours."""

from __future__ import annotations

import time

import pytest

from tests.platform_v2.support import (
    body,
    call,
    download,
    draw,
    ok,
    quota,
    red_body,
    red_form,
    results,
    set_clock,
    upload,
)


@pytest.mark.parametrize("v2", [{"result_delay_ms": 300}], indirect=True)
def test_an_upload_of_100_is_processing_at_first_then_accepted_after_the_delay(v2):
    numbers = draw(v2, 100)
    download(v2, "100000.00")
    sent = [body(n, remarks=f"#{i}") for i, n in enumerate(numbers)]
    acceptance_id = upload(v2, sent)
    early = ok(v2, "GET", f"/v2/uploads/{acceptance_id}")["results"]
    assert [r["number"] for r in early] == numbers
    assert {(r["status"], r["accepted_at"]) for r in early} == {("processing", None)}
    assert call(v2, "GET", f"/v2/invoices/{numbers[0]}")[0] == 404  # not held before it is checked
    time.sleep(0.3)
    done = results(v2, acceptance_id)
    assert [r["number"] for r in done] == numbers
    assert {r["status"] for r in done} == {"accepted"} and all(r["accepted_at"] for r in done)
    assert all(r["details"] == [] for r in done)
    assert quota(v2)["downloaded_unused"] == "0.00"
    record = ok(v2, "GET", f"/v2/invoices/{numbers[99]}")
    assert record["status"] == "accepted" and record["remarks"] == "#99" and record["channel"] == "direct"
    assert record["accepted_at"] == done[99]["accepted_at"] and "key" not in record
    # The same request again (its answer lost): the same acceptance id; another body under it: 409.
    assert upload(v2, sent) == acceptance_id
    status, answer, _ = call(v2, "POST", "/v2/uploads", {"request_id": "up-1", "invoices": sent[:99]})
    assert status == 409 and answer["error"] == "key_conflict"


@pytest.mark.parametrize("invoices", [[], "x", None, [{}] * 101])
def test_an_upload_carries_1_to_100_invoices(v2, invoices):
    status, answer, _ = call(v2, "POST", "/v2/uploads", {"request_id": "u", "invoices": invoices})
    assert status == 422 and answer["error"] == "invalid" and answer["details"][0]["field"] == "invoices"
    status, answer, _ = call(v2, "POST", "/v2/uploads", raw=b"[not json")
    assert status == 400 and answer["error"] == "bad_request"


def test_a_number_uploaded_again_is_duplicate_and_another_body_under_it_is_rejected(v2):
    first, second = draw(v2, 2)
    download(v2, "3000.00")
    accepted = results(v2, upload(v2, [body(first)], "u-1"))
    assert accepted[0]["status"] == "accepted"
    again = results(v2, upload(v2, [body(first), body(first, remarks="changed"), body(second), body(second)], "u-2"))
    assert [r["status"] for r in again] == ["duplicate", "rejected", "accepted", "duplicate"]
    assert again[0]["accepted_at"] == accepted[0]["accepted_at"]  # the first upload stands
    assert again[1]["error"] == "number_used" and again[1]["details"][0]["field"] == "number"
    assert ok(v2, "GET", f"/v2/invoices/{first}")["remarks"] == ""
    assert quota(v2)["downloaded_unused"] == "1000.00"  # each drew its quota once


def test_a_number_not_from_a_block_of_this_seller_or_of_another_year_is_rejected(v2):
    (number,) = draw(v2, 1)
    download(v2, "5000.00")
    sent = [body("26112000000000000002"), body("26110000000000000001"), body("LX-0000001"),
            body(number, "2025-12-31T23:00:00+08:00"), body(None)]
    got = results(v2, upload(v2, sent))
    assert [r["status"] for r in got] == ["rejected"] * 5
    assert [r.get("error") for r in got] == ["unknown_number"] * 3 + ["wrong_year", "invalid"]
    assert [r["details"][0]["field"] for r in got] == ["number"] * 3 + ["issued_at", "number"]
    assert got[4]["number"] is None


def test_an_invoice_must_come_from_this_taxpayer_and_keep_the_rules(v2):
    numbers = draw(v2, 4)
    download(v2, "5000.00")
    sent = [body(numbers[0], seller={"name": "别的公司", "tax_id": "91110000600037341L"}),
            {**body(numbers[1]), "total_tax": "61.00"}, {**body(numbers[2]), "medium": "paper"},
            {k: v for k, v in body(numbers[3]).items() if k != "total_amount"}]
    got = results(v2, upload(v2, sent))
    assert [r.get("error") for r in got] == ["wrong_seller", "invalid", "invalid", "invalid"]
    assert [r["details"][0]["field"] for r in got] == ["seller.tax_id", "total_tax", "medium", "total_amount"]


def test_an_upload_48_hours_after_issue_is_too_late(v2):
    numbers = draw(v2, 2)
    download(v2, "5000.00")
    set_clock(v2, now="2026-12-03T09:29:59+08:00")  # 47:59:59 after 09:30 on the 1st
    assert results(v2, upload(v2, [body(numbers[0])], "u-1"))[0]["status"] == "accepted"
    set_clock(v2, now="2026-12-03T09:30:00+08:00")
    late = results(v2, upload(v2, [body(numbers[1])], "u-2"))[0]
    assert (late["status"], late["error"], late["details"][0]["field"]) == ("rejected", "upload_too_late", "issued_at")
    assert call(v2, "GET", f"/v2/invoices/{numbers[1]}")[0] == 404


def test_an_invoice_needs_the_quota_downloaded_and_unused(v2):
    numbers = draw(v2, 3)
    download(v2, "2500.00")
    got = results(v2, upload(v2, [body(n) for n in numbers]))
    assert [r["status"] for r in got] == ["accepted", "accepted", "rejected"]
    assert got[2]["error"] == "quota_exceeded" and got[2]["details"][0]["field"] == "total_amount"


def test_results_expire_after_12_hours_and_the_record_is_found_by_number(v2):
    numbers = draw(v2, 2)
    download(v2, "2000.00")
    read = upload(v2, [body(numbers[0])], "u-1")
    assert results(v2, read)[0]["status"] == "accepted"
    unread = upload(v2, [body(numbers[1])], "u-2")  # never asked before the clock moves on
    set_clock(v2, advance_hours=11.9)
    assert ok(v2, "GET", f"/v2/uploads/{read}")["results"][0]["status"] == "accepted"
    set_clock(v2, advance_hours=0.1)
    for acceptance_id in (read, unread):
        status, answer, _ = call(v2, "GET", f"/v2/uploads/{acceptance_id}")
        assert status == 410 and answer["error"] == "expired" and answer["message"]
    for number in numbers:
        assert ok(v2, "GET", f"/v2/invoices/{number}")["number"] == number
    status, answer, _ = call(v2, "GET", "/v2/invoices/26112000000000000999")
    assert status == 404 and answer["error"] == "not_found"
    assert call(v2, "GET", "/v2/uploads/SL-nope")[0] == 404


def test_a_red_invoice_of_the_blue_ones_month_gives_its_quota_back(v2):
    blue, red, red_again, no_form, late_red = draw(v2, 5)
    download(v2, "1000.00")
    assert results(v2, upload(v2, [body(blue)], "u-1"))[0]["status"] == "accepted"
    assert quota(v2)["downloaded_unused"] == "0.00"
    form = red_form(v2, blue, "400")
    got = results(v2, upload(v2, [red_body(red, blue, "400", form=form), red_body(red_again, blue, "400", form=form),
                                  red_body(no_form, blue, "100"),
                                  red_body(late_red, "26112000000000009999", form=form)], "u-2"))
    assert [r["status"] for r in got] == ["accepted", "rejected", "rejected", "rejected"]
    assert got[1]["details"][0]["field"] == "red_form_uuid"  # its form was used by the first
    assert got[2]["details"][0]["field"] == "red_form_uuid"  # no form at all
    assert got[3]["error"] == "original_not_found"
    assert quota(v2)["downloaded_unused"] == "400.00"
    assert ok(v2, "GET", f"/v2/invoices/{blue}")["status"] == "reversed_in_part"
    # 600.00 + tax is left of it: a form for more is refused before any red invoice could be.
    status, answer, _ = call(v2, "POST", "/v2/red-forms", {
        "request_id": "rf-700", "original_number": blue, "reason": "01",
        "lines": [{"original_line_no": 1, "amount": "-700.00", "tax": "-42.00"}]})
    assert status == 422 and answer["error"] == "invalid", answer


def test_the_same_number_uploaded_at_once_from_many_connections_is_accepted_once(v2):
    from concurrent.futures import ThreadPoolExecutor

    (number,) = draw(v2, 1)
    download(v2, "1000.00")
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: upload(v2, [body(number)], f"par-{i}"), range(8)))
    statuses = sorted(results(v2, acceptance_id)[0]["status"] for acceptance_id in ids)
    assert statuses == ["accepted"] + ["duplicate"] * 7
    assert quota(v2)["downloaded_unused"] == "0.00"

"""The platform channel: the platform issues and numbers the invoice; replays by Idempotency-Key."""

from __future__ import annotations

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


def _issue(v2, key: str, sent: dict, status: int = 201) -> dict:
    return ok(v2, "POST", "/v2/issue", sent, status=status, headers={"Idempotency-Key": key})


def test_the_platform_issues_with_its_own_number_and_replays_the_first_answer(v2):
    sent = body(None)
    record = _issue(v2, "k-1", sent)
    number = record["number"]
    assert len(number) == 20 and number.startswith("26110") and number == "26110000000000000001"
    assert record["status"] == "accepted" and record["key"] == "k-1" and record["channel"] == "platform"
    assert record["issued_at"] == sent["issued_at"] and record["total_with_tax"] == "1060.00"
    assert _issue(v2, "k-1", sent, status=200) == record  # the same key again: the first answer
    status, answer, _ = call(v2, "POST", "/v2/issue", {**sent, "remarks": "other"}, headers={"Idempotency-Key": "k-1"})
    assert status == 409 and answer["error"] == "key_conflict"
    assert ok(v2, "GET", f"/v2/invoices/{number}") == record
    assert _issue(v2, "k-2", sent)["number"] == "26110000000000000002"  # another key: another invoice
    assert quota(v2)["available"] == "9998000.00"  # the platform channel draws on the month's total


def test_the_platform_fills_in_the_time_of_issue_and_takes_paper(v2):
    record = _issue(v2, "k-1", body(None, None, medium="paper"))
    assert record["issued_at"].startswith("2026-12-01T10:00:") and record["medium"] == "paper"


def test_an_issue_that_breaks_a_rule_is_422_naming_the_field_and_the_key_stays_free(v2):
    for sent, field in (({**body(None), "total_tax": "61.00"}, "total_tax"), (body("26110000000000000009"), "number"),
                        ({**body(None), "buyer": {**body(None)["buyer"], "name": ""}}, "buyer.name"),
                        (body(None, "2026-12-01T11:00:00+08:00"), "issued_at")):
        status, answer, _ = call(v2, "POST", "/v2/issue", sent, headers={"Idempotency-Key": "k"})
        assert status == 422 and field in [d["field"] for d in answer["details"]], (field, answer)
        assert answer["message"]
    status, answer, _ = call(v2, "POST", "/v2/issue", body(None))
    assert status == 422 and answer["details"][0]["field"] == "Idempotency-Key"
    assert _issue(v2, "k", body(None))["number"] == "26110000000000000001"


def test_the_list_pages_over_both_channels_by_an_opaque_cursor(v2):
    numbers = draw(v2, 3)
    download(v2, "3000.00")
    assert {r["status"] for r in results(v2, upload(v2, [body(n) for n in numbers]))} == {"accepted"}
    issued = [_issue(v2, f"k-{i}", body(None, remarks=f"#{i}"))["number"] for i in range(2)]
    set_clock(v2, now="2026-12-02T10:00:00+08:00")
    _issue(v2, "k-later", body(None, "2026-12-02T09:00:00+08:00"))
    seen, after, pages = [], None, 0
    while True:
        query = "/v2/invoices?from=2026-12-01&to=2026-12-01&limit=2" + (f"&after={after}" if after else "")
        page = ok(v2, "GET", query)
        seen += [r["number"] for r in page["items"]]
        pages += 1
        after = page["next"]
        if after is None:
            break
        assert not after.isdigit()
    assert seen == numbers + issued and pages == 3
    assert len(ok(v2, "GET", "/v2/invoices?from=2026-12-01&to=2026-12-31")["items"]) == 6
    for query, field in (("from=2026-12-01", "to"), ("from=x&to=2026-12-31", "from"),
                         ("from=2026-12-01&to=2026-12-31&after=zzz", "after"),
                         ("from=2026-12-01&to=2026-12-31&limit=1001", "limit")):
        status, answer, _ = call(v2, "GET", f"/v2/invoices?{query}")
        assert status == 422 and [d["field"] for d in answer["details"]] == [field], query


def test_a_red_invoice_on_the_platform_reverses_the_blue_one_in_full(v2):
    blue = _issue(v2, "blue", body(None))["number"]
    # Without a form: refused, naming the form.
    status, answer, _ = call(v2, "POST", "/v2/issue", {k: v for k, v in red_body("", blue).items() if k != "number"},
                             headers={"Idempotency-Key": "red-no-form"})
    assert status == 422 and [d["field"] for d in answer["details"]] == ["red_form_uuid"], answer
    form = red_form(v2, blue)
    red = _issue(v2, "red", {k: v for k, v in red_body("", blue, form=form).items() if k != "number"})
    assert red["red"] is True and red["total_with_tax"] == "-1060.00"
    assert ok(v2, "GET", f"/v2/invoices/{blue}")["status"] == "reversed_in_full"
    assert quota(v2)["available"] == "10000000.00"  # the blue one's month: its quota came back
    status, answer, _ = call(v2, "POST", "/v2/issue", {k: v for k, v in red_body("", blue, form=form).items()
                                                       if k != "number"}, headers={"Idempotency-Key": "red-again"})
    assert status == 422 and answer["details"][0]["field"] == "red_form_uuid"  # the form was used


def test_the_buyer_uses_a_blue_invoice(v2):
    number = _issue(v2, "k", body(None))["number"]
    answer = ok(v2, "POST", "/_buyer", {"action": "use", "number": number}, token=None)
    assert answer["number"] == number and answer["used"] is True and answer["used_at"].startswith("2026-12-01T10:00")
    assert ok(v2, "POST", "/_buyer", {"action": "use", "number": number}, token=None) == answer
    assert call(v2, "POST", "/_buyer", {"action": "use", "number": "26110000000000000999"}, token=None)[0] == 404
    status, answer, _ = call(v2, "POST", "/_buyer", {"action": "raise", "number": number}, token=None)
    assert status == 422 and answer["details"][0]["field"] == "reason"  # a form needs its reason and lines
    status, answer, _ = call(v2, "POST", "/_buyer", {"action": "dance", "number": number}, token=None)
    assert status == 422 and answer["details"][0]["field"] == "action"
    from tests.helpers.platform import platform_sql

    assert platform_sql(v2, "SELECT used_by_buyer FROM v2_invoice WHERE number = ?", number) == [(1,)]

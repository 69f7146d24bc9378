"""The common rules of v2 on the reference platform: auth, the error shape, the taxpayer and its rates, faults."""

from __future__ import annotations

import pytest

from tests.platform_v2.support import START, body, call, download, draw, ok, quota, set_clock, upload

ROUTES = [("GET", "/v2/taxpayer"), ("GET", "/v2/tax-codes"), ("GET", "/v2/tax-rates"), ("POST", "/v2/number-blocks"),
          ("GET", "/v2/quota"), ("POST", "/v2/quota"), ("POST", "/v2/uploads"), ("GET", "/v2/uploads/SL1"),
          ("GET", "/v2/invoices/26112000000000000001"), ("GET", "/v2/invoices?from=2026-12-01&to=2026-12-31"),
          ("POST", "/v2/issue"), ("POST", "/v2/monthly-summaries"), ("DELETE", "/v2/monthly-summaries/202611"),
          ("GET", "/v2/red-forms"), ("GET", "/v2/nothing")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_but_health_needs_the_token(v2, method, path):
    for token in (None, "wrong"):
        status, answer, _ = call(v2, method, path, {}, token=token)
        assert status == 401 and answer["error"] == "unauthorized"
        assert set(answer) == {"error", "message", "details"} and answer["details"] == []


def test_health_needs_no_token_and_tells_the_platforms_time(v2):
    status, answer, _ = call(v2, "GET", "/v2/health", token=None)
    assert status == 200 and answer["status"] == "ok" and answer["time"].startswith(START[:16])


def test_unknown_paths_methods_and_bodies(v2):
    status, answer, _ = call(v2, "GET", "/v2/nothing")
    assert (status, answer["error"]) == (404, "not_found")
    status, answer, _ = call(v2, "GET", "/v2/red-forms/no-such-form")
    assert (status, answer["error"]) == (404, "not_found")
    status, answer, response = call(v2, "GET", "/v2/red-forms/x/decision")
    assert (status, response.getheader("Allow")) == (405, "POST")
    status, answer, response = call(v2, "DELETE", "/v2/quota")
    assert (status, answer["error"], response.getheader("Allow")) == (405, "method_not_allowed", "GET, POST")
    status, answer, _ = call(v2, "POST", "/v2/number-blocks", raw=b"[1, 2]")
    assert (status, answer["error"]) == (400, "bad_request")


def test_the_taxpayer_and_its_rates(v2):
    assert ok(v2, "GET", "/v2/taxpayer") == {
        "tax_id": "91110108MA0123456G", "name": "北京某某科技有限公司", "status": "03", "taxpayer_type": "general",
        "channels": ["direct", "platform"], "risk": "none", "kinds": ["special", "normal"]}
    rates = ok(v2, "GET", "/v2/tax-rates")
    assert [r["rate"] for r in rates["rates"]] == ["0.13", "0.09", "0.06", "0.05", "0.03", "0.015", "0.01", "0"]
    assert rates["rates"][0] == {"rate": "0.13", "label": "13%"}
    assert rates["policies"][0] == {"flag": "01", "label": "简易征收"} and len(rates["policies"]) == 18
    codes = ok(v2, "GET", "/v2/tax-codes")
    assert codes["version"] and codes["codes"]
    assert ok(v2, "GET", f"/v2/tax-codes?since={codes['version']}")["codes"] == []


@pytest.mark.parametrize("v2", [{"taxpayer_type": "small", "taxpayer_tax_id": "91110000600037341L",
                                 "taxpayer_name": "北京客户贸易有限公司"}], indirect=True)
def test_a_small_taxpayer_configured_at_start(v2):
    taxpayer = ok(v2, "GET", "/v2/taxpayer")
    assert (taxpayer["tax_id"], taxpayer["name"], taxpayer["taxpayer_type"]) == (
        "91110000600037341L", "北京客户贸易有限公司", "small")
    assert [r["rate"] for r in ok(v2, "GET", "/v2/tax-rates")["rates"]] == ["0.03", "0.01", "0.05", "0.015", "0"]
    status, answer, _ = call(v2, "POST", "/v2/issue", body(None), headers={"Idempotency-Key": "k"})
    assert status == 422 and {d["field"] for d in answer["details"]} >= {"lines[0].tax_rate"}


def test_a_blocked_taxpayer_may_not_issue(v2):
    numbers = draw(v2, 1)
    download(v2, "1000.00")
    for change in ({"risk": "blocked"}, {"status": "05", "risk": "none"}):
        taxpayer = ok(v2, "POST", "/_taxpayer", change, token=None)
        assert ok(v2, "GET", "/v2/taxpayer") == taxpayer
        assert quota(v2)["suspended"] is True
        for method, path, payload, headers in (
                ("POST", "/v2/number-blocks", {"request_id": "b-2", "count": 1}, {}),
                ("POST", "/v2/quota", {"request_id": "q-2", "action": "download", "amount": "1.00"}, {}),
                ("POST", "/v2/uploads", {"request_id": "u", "invoices": [body(numbers[0])]}, {}),
                ("POST", "/v2/issue", body(None), {"Idempotency-Key": "k"})):
            status, answer, _ = call(v2, method, path, payload, headers=headers)
            assert (status, answer["error"]) == (403, "taxpayer_blocked"), path
    assert draw(v2, 1, "blk-1") == numbers  # a replay of what was given before still answers
    ok(v2, "POST", "/_taxpayer", {"status": "03"}, token=None)
    assert quota(v2)["suspended"] is False
    upload(v2, [body(numbers[0])])
    status, answer, _ = call(v2, "POST", "/_taxpayer", {"risk": "high"}, token=None)
    assert status == 422 and answer["details"][0]["field"] == "risk"


def test_faults_apply_to_v2_as_to_v1_and_never_to_the_hooks(v2):
    v2.set_faults(mode="down", retry_after=7)
    status, answer, response = call(v2, "GET", "/v2/taxpayer")
    assert status == 503 and response.getheader("Retry-After") == "7"
    assert answer["error"] == "unavailable" and answer["message"] and answer["details"] == []
    assert call(v2, "GET", "/v2/health", token=None)[0] == 503
    assert set_clock(v2, advance_hours=1).startswith("2026-12-01T11:00")  # the hooks still answer
    v2.set_faults(mode="flaky", fail_rate=1)
    statuses = set()
    for _ in range(5):  # the first five kinds in turn: 500, 502, 503, 504, 429
        status, answer, response = call(v2, "POST", "/v2/number-blocks", {"request_id": "b", "count": 1})
        statuses.add(status)
        assert answer["error"] == "injected"
        if status in (429, 503):
            assert response.getheader("Retry-After") == "7"
    assert statuses == {500, 502, 503, 504, 429}
    v2.set_faults(mode="ok")
    assert draw(v2, 1, "b")[0] == "26112000000000000001"  # failed before acting: nothing was drawn


def test_the_clock_hook(v2):
    assert ok(v2, "GET", "/_clock", token=None)["now"].startswith(START[:16])
    assert set_clock(v2, advance_hours=-24).startswith("2026-11-30T10:00")
    for bad in ({"now": "tomorrow"}, {"advance_hours": "1"}, {"reset": False}, {"now": START, "reset": True},
                {"when": 1}):
        assert call(v2, "POST", "/_clock", bad, token=None)[0] == 422, bad
    set_clock(v2, reset=True)
    assert ok(v2, "GET", "/_clock", token=None)["offset_seconds"] == 0

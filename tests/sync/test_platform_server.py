"""The reference platform speaks the protocol: replays, 409, 401, 422 naming fields, batch, list, lookup, faults."""

from __future__ import annotations

import functools
import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.helpers.platform import SYNC_TOKEN as TOKEN


@functools.cache
def _codes():
    from app.platform.tax_codes import PlatformTaxCodes

    return PlatformTaxCodes()


def valid_body(number: str = "LX-0000001", **overrides) -> dict:
    from app.core.codec import invoice_to_body
    from app.core.validation import parse_invoice
    from tests.helpers.bodies import SELLER_TAX_ID, invoice_body

    draft = invoice_body(seller={"name": "北京某某科技有限公司", "tax_id": SELLER_TAX_ID}, drawer="张三", number=number,
                         issued_at="2026-11-28T09:30:00+08:00")
    return {**invoice_to_body(parse_invoice(draft, codes=_codes())), **overrides}


def call(platform, method, path, body=None, token=TOKEN, headers=None, raw=None):
    parts = urlsplit(platform.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    send = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        send["Authorization"] = f"Bearer {token}"
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, path, body=payload, headers=send)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, (json.loads(data) if data else None), response


def test_first_submit_201_then_replay_200_same_answer_then_conflict_409(platform):
    body = valid_body()
    status, first, _ = call(platform, "POST", "/v1/invoices", body, headers={"Idempotency-Key": "k-1"})
    assert status == 201 and first["status"] == "accepted" and first["key"] == "k-1"
    number = first["official_number"]
    assert len(number) == 20 and number.isdigit() and number[2:4] == "11" and number[4] == "2"
    assert number[:2] == "26"
    status, again, _ = call(platform, "POST", "/v1/invoices", body, headers={"Idempotency-Key": "k-1"})
    assert status == 200 and again == first
    status, conflict, _ = call(platform, "POST", "/v1/invoices", {**body, "remarks": "changed"},
                               headers={"Idempotency-Key": "k-1"})
    assert status == 409 and conflict == {"error": "key_conflict"}
    assert platform.records.count() == 1


def test_401_without_or_with_a_wrong_token_and_health_needs_none(platform):
    for token in (None, "wrong"):
        status, body, _ = call(platform, "GET", "/v1/invoices/k", token=token)
        assert (status, body) == (401, {"error": "unauthorized"})
    status, body, _ = call(platform, "POST", "/v1/invoices", valid_body(), token="wrong",
                           headers={"Idempotency-Key": "k-2"})
    assert status == 401 and platform.records.count() == 0
    status, body, _ = call(platform, "GET", "/v1/health", token=None)
    assert status == 200 and body["status"] == "ok" and body["time"].endswith("+08:00")


def test_422_names_each_broken_field(platform):
    body = valid_body(buyer={"name": "", "tax_id": "91110000600037341X"})
    status, answer, _ = call(platform, "POST", "/v1/invoices", body, headers={"Idempotency-Key": "k-3"})
    assert status == 422 and answer["error"] == "invalid"
    assert {d["field"] for d in answer["details"]} == {"buyer.name", "buyer.tax_id"}
    status, answer, _ = call(platform, "POST", "/v1/invoices", valid_body(total_tax="61.00"),
                             headers={"Idempotency-Key": "k-3"})
    assert status == 422 and [d["field"] for d in answer["details"]] == ["total_tax"]
    missing = {k: v for k, v in valid_body().items() if k != "total_amount"}
    status, answer, _ = call(platform, "POST", "/v1/invoices", missing, headers={"Idempotency-Key": "k-4"})
    assert status == 422 and "total_amount" in {d["field"] for d in answer["details"]}
    status, answer, _ = call(platform, "POST", "/v1/invoices", raw=b"{not json", headers={"Idempotency-Key": "k-5"})
    assert status == 422 and answer["details"][0]["field"] == "invoice"
    status, answer, _ = call(platform, "POST", "/v1/invoices", valid_body())
    assert status == 422 and answer["details"][0]["field"] == "Idempotency-Key"
    assert platform.records.count() == 0


def test_batch_results_per_item_in_order_and_limit(platform):
    call(platform, "POST", "/v1/invoices", valid_body("LX-1"), headers={"Idempotency-Key": "a"})
    items = [{"key": "a", "invoice": valid_body("LX-1")}, {"key": "b", "invoice": valid_body("LX-2")},
             {"key": "c", "invoice": valid_body("LX-3", total_with_tax="1.00")},
             {"key": "a2", "invoice": valid_body("LX-4")}, {"key": "a", "invoice": valid_body("LX-1", remarks="x")}]
    status, answer, _ = call(platform, "POST", "/v1/invoices/batch", {"items": items})
    assert status == 200
    results = answer["results"]
    assert [r["key"] for r in results] == ["a", "b", "c", "a2", "a"]
    assert [r["status"] for r in results] == ["duplicate", "accepted", "rejected", "accepted", "rejected"]
    assert results[2]["details"][0]["field"] == "total_with_tax"
    assert results[1]["platform_id"] and len(results[1]["official_number"]) == 20
    assert platform.records.count() == 3
    too_many = [{"key": f"k{i}", "invoice": valid_body(f"LX-{i}")} for i in range(501)]
    status, answer, _ = call(platform, "POST", "/v1/invoices/batch", {"items": too_many})
    assert status == 422 and answer["details"][0]["field"] == "items"
    assert platform.records.count() == 3


def test_list_pages_and_lookup(platform):
    from tests.helpers.bodies import SELLER_TAX_ID

    for i in range(7):
        call(platform, "POST", "/v1/invoices", valid_body(f"LX-{i}"), headers={"Idempotency-Key": f"k{i}"})
    seen, after = [], None
    while True:
        query = f"/v1/invoices?seller_tax_id={SELLER_TAX_ID}&from=2026-11-01&to=2026-11-30&limit=3"
        status, page, _ = call(platform, "GET", query + (f"&after={after}" if after else ""))
        assert status == 200
        seen += [r["number"] for r in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert seen == [f"LX-{i}" for i in range(7)]
    status, page, _ = call(platform, "GET", f"/v1/invoices?seller_tax_id={SELLER_TAX_ID}&from=2026-12-01&to=2026-12-31")
    assert (status, page) == (200, {"items": [], "next": None})
    status, page, _ = call(platform, "GET", "/v1/invoices?seller_tax_id=X&from=bad&to=2026-12-31")
    assert status == 422 and page["details"][0]["field"] == "from"
    status, record, _ = call(platform, "GET", "/v1/invoices/k3")
    assert status == 200 and record["number"] == "LX-3" and record["key"] == "k3" and record["lines"]
    assert (call(platform, "GET", "/v1/invoices/nope")[:2]) == (404, {"error": "not_found"})


def test_faults_endpoint_down_slow_and_bad_input(platform):
    status, answer, _ = call(platform, "POST", "/_faults", {"mode": "down", "retry_after": 7}, token=None)
    assert status == 200 and answer["mode"] == "down"
    status, _body, response = call(platform, "GET", "/v1/health", token=None)
    assert status == 503 and response.getheader("Retry-After") == "7"
    status, answer, _ = call(platform, "POST", "/_faults", {"mode": "sideways"}, token=None)
    assert status == 422 and "mode" in answer["details"][0]["message"]
    status, answer, _ = call(platform, "POST", "/_faults", {"mode": "flaky", "fail_rate": 2}, token=None)
    assert status == 422 and "fail_rate" in answer["details"][0]["message"]
    call(platform, "POST", "/_faults", {"mode": "ok"}, token=None)
    assert call(platform, "GET", "/v1/health", token=None)[0] == 200


def test_client_classifies_every_failure_as_the_spec_says(platform):
    from app.platform.client import KeyConflict, Rejected, TransientFailure, Unauthorized
    from app.platform.http_client import HttpPlatformClient

    client = HttpPlatformClient(platform.url, TOKEN, timeout=0.3)
    client.submit("k", valid_body())
    with pytest.raises(KeyConflict):
        client.submit("k", valid_body(remarks="other"))
    with pytest.raises(Rejected) as rejected:
        client.submit("k2", valid_body(total_tax="0.01"))
    assert rejected.value.details[0]["field"] == "total_tax"
    with pytest.raises(Unauthorized):
        HttpPlatformClient(platform.url, "bad").lookup("k")
    platform.set_faults(mode="down", retry_after=3)
    with pytest.raises(TransientFailure) as down:
        client.submit("k3", valid_body("LX-3"))
    assert down.value.retry_after == 3 and not down.value.outcome_unknown
    platform.set_faults(mode="slow", delay_ms=800)
    with pytest.raises(TransientFailure) as slow:
        client.submit("k4", valid_body("LX-4"))
    assert slow.value.outcome_unknown  # it timed out after sending: the platform acted
    platform.set_faults(mode="ok")
    found = client.lookup("k4")
    assert found is not None and found["number"] == "LX-4"
    with pytest.raises(TransientFailure) as refused:
        HttpPlatformClient("http://127.0.0.1:9", TOKEN).health()
    assert not refused.value.outcome_unknown
    assert TOKEN not in repr(client)

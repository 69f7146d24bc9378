"""Red-letter confirmation forms on the reference platform over HTTP: raised by the seller (01 when the
buyer has not used the blue invoice, else 02 for the buyer), raised by the buyer (03 for the seller),
answered, withdrawn, void after 72 hours; a red invoice only on a form in 01 or 04, once, with its
figures; the reasons' rules; never more than what is left of the blue invoice, open forms included."""

from __future__ import annotations

from typing import Any

from tests.platform_v2.support import body, call, ok, red_body, set_clock

NO_NUMBER = {"number"}


def _issue(v2, key: str, sent: dict[str, Any], status: int = 201) -> dict[str, Any]:
    return ok(v2, "POST", "/v2/issue", sent, status=status, headers={"Idempotency-Key": key})


def _blue(v2, key: str = "blue") -> str:
    return str(_issue(v2, key, body(None))["number"])  # 1,000.00 + 60.00 of 信息技术服务 (a service code)


def _form(v2, blue: str, request_id: str = "rf-1", amount: str = "-1000.00", tax: str = "-60.00",
          reason: str = "01", **line: Any) -> tuple[int, Any]:
    sent = {"request_id": request_id, "original_number": blue, "reason": reason,
            "lines": [{"original_line_no": 1, "amount": amount, "tax": tax, **line}]}
    status, answer, _ = call(v2, "POST", "/v2/red-forms", sent)
    return status, answer


def _red(v2, blue: str, form_uuid: str | None, key: str = "red", amount: str = "1000") -> tuple[int, Any]:
    sent = {k: v for k, v in red_body("", blue, amount=amount).items() if k not in NO_NUMBER}
    if form_uuid is not None:
        sent["red_form_uuid"] = form_uuid
    status, answer, _ = call(v2, "POST", "/v2/issue", sent, headers={"Idempotency-Key": key})
    return status, answer


def test_a_form_without_confirmation_then_its_red_invoice_once(v2):
    blue = _blue(v2)
    status, form = _form(v2, blue)
    assert status == 201 and form["status"] == "01" and form["raised_by"] == "seller", form
    assert form["total_amount"] == "-1000.00" and form["total_tax"] == "-60.00" and len(form["form_number"]) == 20
    assert ok(v2, "GET", f"/v2/red-forms/{form['uuid']}")["status"] == "01"
    assert _form(v2, blue)[1] == form  # the same request id: the first answer again
    status, answer = _form(v2, blue, amount="-500.00", tax="-30.00")
    assert status == 409 and answer["error"] == "key_conflict"
    status, red = _red(v2, blue, form["uuid"])
    assert status == 201 and red["red_form_uuid"] == form["uuid"], red
    assert ok(v2, "GET", f"/v2/red-forms/{form['uuid']}")["red_number"] == red["number"]
    status, again = _red(v2, blue, form["uuid"], key="red-2")
    assert status == 422 and again["details"][0]["field"] == "red_form_uuid"


def test_a_used_blue_invoice_needs_the_buyer_who_agrees_or_disagrees(v2):
    blue = _blue(v2)
    ok(v2, "POST", "/_buyer", {"action": "use", "number": blue}, token=None)
    _, form = _form(v2, blue)
    assert form["status"] == "02" and "expires_at" in form
    status, early = _red(v2, blue, form["uuid"])
    assert status == 422 and "02" in early["details"][0]["message_en"]
    agreed = ok(v2, "POST", "/_buyer", {"action": "answer", "uuid": form["uuid"], "decision": "agree"}, token=None)
    assert agreed["status"] == "04"
    assert _red(v2, blue, form["uuid"])[0] == 201

    other = _blue(v2, "blue-2")
    ok(v2, "POST", "/_buyer", {"action": "use", "number": other}, token=None)
    _, refused = _form(v2, other, request_id="rf-2")
    assert ok(v2, "POST", "/_buyer", {"action": "answer", "uuid": refused["uuid"], "decision": "disagree"},
              token=None)["status"] == "05"
    assert _red(v2, other, refused["uuid"], key="red-other")[0] == 422


def test_a_form_not_answered_within_72_hours_is_void(v2):
    blue = _blue(v2)
    ok(v2, "POST", "/_buyer", {"action": "use", "number": blue}, token=None)
    _, form = _form(v2, blue)
    set_clock(v2, advance_hours=71)
    assert ok(v2, "GET", f"/v2/red-forms/{form['uuid']}")["status"] == "02"
    set_clock(v2, advance_hours=1)
    assert ok(v2, "GET", f"/v2/red-forms/{form['uuid']}")["status"] == "07"
    assert [f["uuid"] for f in ok(v2, "GET", "/v2/red-forms?status=07")["items"]] == [form["uuid"]]
    # A void form holds nothing of the blue invoice any more: a new one may take all of it.
    assert _form(v2, blue, request_id="rf-again")[0] == 201


def test_a_form_the_buyer_raised_is_agreed_or_disagreed_by_the_seller(v2):
    blue = _blue(v2)
    raised = ok(v2, "POST", "/_buyer", {"action": "raise", "number": blue, "reason": "01",
                                        "lines": [{"original_line_no": 1, "amount": "-1000.00", "tax": "-60.00"}]},
                token=None, status=201)
    assert raised["status"] == "03" and raised["raised_by"] == "buyer"
    waiting = ok(v2, "GET", "/v2/red-forms?status=03")["items"]
    assert [f["uuid"] for f in waiting] == [raised["uuid"]]
    decided = ok(v2, "POST", f"/v2/red-forms/{raised['uuid']}/decision", {"request_id": "d-1", "decision": "agree"})
    assert decided["status"] == "04"
    assert ok(v2, "POST", f"/v2/red-forms/{raised['uuid']}/decision",
              {"request_id": "d-1", "decision": "agree"}) == decided  # the same request again
    status, answer, _ = call(v2, "POST", f"/v2/red-forms/{raised['uuid']}/decision",
                             {"request_id": "d-2", "decision": "disagree"})
    assert status == 422  # no longer waiting for the seller
    status, answer, _ = call(v2, "POST", f"/v2/red-forms/{raised['uuid']}/decision",
                             {"request_id": "d-3", "decision": "revoke"})
    assert status == 422 and "revoke" in answer["details"][0]["message_en"]


def test_the_seller_withdraws_its_own_form(v2):
    blue = _blue(v2)
    _, form = _form(v2, blue)
    revoked = ok(v2, "POST", f"/v2/red-forms/{form['uuid']}/decision", {"request_id": "r-1", "decision": "revoke"})
    assert revoked["status"] == "08"
    assert _red(v2, blue, form["uuid"])[0] == 422


def test_the_reasons_rules(v2):
    service = _blue(v2)  # 信息技术服务: a service code
    status, answer = _form(v2, service, request_id="r-02", reason="02", quantity="-1")
    assert status == 422 and "销货退回" in answer["details"][0]["message"]
    status, answer = _form(v2, service, request_id="r-04", reason="04", quantity="-1")
    assert status == 422 and answer["details"][0]["field"] == "lines[0].quantity"
    assert _form(v2, service, request_id="r-03", reason="03", amount="-100.00", tax="-6.00")[0] == 201
    status, answer, _ = call(v2, "POST", "/v2/red-forms", {"request_id": "r-x", "original_number": service,
                                                           "reason": "05", "lines": []})
    assert status == 422 and answer["details"][0]["field"] == "reason"
    status, answer = _form(v2, service, request_id="r-pos", amount="100.00")
    assert status == 422 and answer["details"][0]["field"] == "lines[0].amount"


def test_two_forms_cannot_both_take_what_is_left(v2):
    blue = _blue(v2)
    assert _form(v2, blue, request_id="a", amount="-600.00", tax="-36.00")[0] == 201
    status, answer = _form(v2, blue, request_id="b", amount="-600.00", tax="-36.00")
    assert status == 422 and answer["details"][0]["field"] == "lines"
    assert _form(v2, blue, request_id="c", amount="-400.00", tax="-24.00")[0] == 201
    # A red invoice without a form is refused, whatever is left.
    status, answer = _red(v2, blue, None, key="red-free", amount="1")
    assert status == 422 and answer["details"][0]["field"] == "red_form_uuid"


def test_a_red_invoice_must_carry_its_forms_figures(v2):
    blue = _blue(v2)
    _, form = _form(v2, blue, amount="-500.00", tax="-30.00")
    status, answer = _red(v2, blue, form["uuid"], amount="1000")
    assert status == 422 and answer["details"][0]["field"] == "total_amount"
    assert _red(v2, blue, form["uuid"], key="red-ok", amount="500")[0] == 201
    status, answer = _form(v2, "26110000000000009999", request_id="nope")
    assert status == 422 and answer["error"] == "original_not_found"

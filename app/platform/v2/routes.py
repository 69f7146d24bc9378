"""Protocol v2's HTTP paths on the reference platform: auth, JSON, and which V2Platform call answers.

Every path but `GET /v2/health` needs `Authorization: Bearer <token>` (401 first, before 404/405).
A body that is not JSON, or not a JSON object where one is expected, is `400 bad_request`.
The red-letter forms: `POST|GET /v2/red-forms`, `GET /v2/red-forms/{U}`, `POST /v2/red-forms/{U}/decision`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from app.platform.answer import Answer, error
from app.platform.tax_codes import PlatformTaxCodes
from app.platform.v2.platform import V2Platform

log = logging.getLogger(__name__)

# path -> the methods it takes (a known path asked with another method: 405)
FIXED = {
    "/v2/health": ("GET",), "/v2/taxpayer": ("GET",), "/v2/tax-codes": ("GET",), "/v2/tax-rates": ("GET",),
    "/v2/number-blocks": ("POST",), "/v2/quota": ("GET", "POST"), "/v2/uploads": ("POST",),
    "/v2/invoices": ("GET",), "/v2/issue": ("POST",), "/v2/monthly-summaries": ("POST",),
    "/v2/red-forms": ("GET", "POST"),
}
PREFIXED = {"/v2/uploads/": ("GET",), "/v2/invoices/": ("GET",), "/v2/monthly-summaries/": ("GET", "DELETE"),
            "/v2/red-forms/": ("GET",)}
DECISION = "/decision"  # /v2/red-forms/{U}/decision


def unauthorized() -> Answer:
    return error(401, "unauthorized", "缺少或无效的访问令牌", "the bearer token is missing or wrong")


def not_found() -> Answer:
    return error(404, "not_found", "没有这个接口", "no such path")


def bad_request(zh: str = "请求体不是有效的 JSON", en: str = "the body is not JSON") -> Answer:
    return error(400, "bad_request", zh, en)


def parse_body(raw: bytes, *, must_be_object: bool = True) -> tuple[Any, Answer | None]:
    try:
        value = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, bad_request()
    if must_be_object and not isinstance(value, dict):
        return None, bad_request("请求体应为 JSON 对象", "the body must be a JSON object")
    return value, None


class V2Routes:
    def __init__(self, platform: V2Platform, tax_codes: Callable[[], PlatformTaxCodes]) -> None:
        self.platform = platform
        self._tax_codes = tax_codes  # read at each call: a test may swap the table while the server runs

    def route(self, method: str, path: str, query: str, raw: bytes, idempotency_key: str | None,
              authorized: bool) -> Answer:
        """The answer to one call; `idempotency_key` is the Idempotency-Key header, if any."""
        try:
            return self._route(method, path, query, raw, idempotency_key, authorized)
        except Exception:  # a bug here is a 500 (transient to the desk), and logged: a test sees it
            log.exception("v2 %s %s failed", method, path)
            return error(500, "internal", "平台内部错误", "the platform failed")

    def _route(self, method: str, path: str, query: str, raw: bytes, idempotency_key: str | None,
               authorized: bool) -> Answer:
        if path == "/v2/health" and method == "GET":
            return self.platform.health()
        if not authorized:
            return unauthorized()
        if path.startswith("/v2/red-forms/") and path.endswith(DECISION):
            form_uuid = unquote(path[len("/v2/red-forms/"):-len(DECISION)])
            if not form_uuid or "/" in form_uuid:
                return not_found()
            if method != "POST":
                answer = error(405, "method_not_allowed", "该接口不支持此方法", f"{method} is not allowed here")
                answer.headers["Allow"] = "POST"
                return answer
            body, bad = parse_body(raw)
            return bad or self.platform.decide_red_form(form_uuid, body)
        methods = FIXED.get(path)
        tail = ""
        if methods is None:
            for prefix, allowed in PREFIXED.items():
                if path.startswith(prefix) and len(path) > len(prefix) and "/" not in path[len(prefix):]:
                    methods, tail, path = allowed, unquote(path[len(prefix):]), prefix + "{}"
                    break
        if methods is None:
            return not_found()
        if method not in methods:
            answer = error(405, "method_not_allowed", "该接口不支持此方法", f"{method} is not allowed here")
            answer.headers["Allow"] = ", ".join(methods)
            return answer
        params = {name: values[-1] for name, values in parse_qs(query).items()}
        v2 = self.platform
        if path == "/v2/taxpayer":
            return v2.taxpayer_view()
        if path == "/v2/tax-codes":
            return Answer(200, self._tax_codes().answer(params.get("since", "").strip() or None))
        if path == "/v2/tax-rates":
            return v2.tax_rates()
        if path == "/v2/invoices":
            return v2.invoices(params)
        if path == "/v2/uploads/{}":
            return v2.upload_results(tail)
        if path == "/v2/invoices/{}":
            return v2.invoice(tail)
        if path == "/v2/red-forms/{}":
            return v2.red_form(tail)
        if path == "/v2/red-forms" and method == "GET":
            return v2.red_form_list(params)
        if path == "/v2/monthly-summaries/{}":
            return v2.month_view(tail) if method == "GET" else v2.withdraw_month(tail)
        if path == "/v2/quota" and method == "GET":
            return v2.quota_view(params)
        if path == "/v2/issue":
            body, bad = parse_body(raw, must_be_object=False)
            return bad or v2.issue(idempotency_key, body)
        body, bad = parse_body(raw)
        if bad:
            return bad
        if path == "/v2/number-blocks":
            return v2.draw_block(body)
        if path == "/v2/quota":
            return v2.change_quota(body)
        if path == "/v2/uploads":
            return v2.upload(body)
        if path == "/v2/monthly-summaries":
            return v2.confirm_month(body)
        if path == "/v2/red-forms":
            return v2.raise_red_form(body)
        return not_found()  # pragma: no cover  (every path of FIXED and PREFIXED is answered above)

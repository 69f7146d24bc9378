"""Protocol v2 against the reference platform over real HTTP: calls, bodies, blocks, quota, uploads."""

from __future__ import annotations

import functools
import http.client
import json
import time
from typing import Any, Protocol
from urllib.parse import urlsplit

from app.platform.server import PlatformServer
from tests.helpers.platform import SYNC_TOKEN as TOKEN

SELLER_NAME = "北京某某科技有限公司"
START = "2026-12-01T10:00:00+08:00"  # the platform's clock at the start of each test
ISSUED = "2026-12-01T09:30:00+08:00"


@functools.cache
def _codes():
    from app.platform.tax_codes import PlatformTaxCodes

    return PlatformTaxCodes()


def body(number: str | None, issued_at: str | None = ISSUED, **overrides: Any) -> dict[str, Any]:
    """A v2 invoice body as the desk sends it: 1000.00 + 60.00 tax unless the overrides say otherwise."""
    from app.core.codec import invoice_to_body
    from app.core.validation import parse_invoice
    from tests.helpers.bodies import SELLER_TAX_ID, invoice_body

    given: dict[str, Any] = {"seller": {"name": SELLER_NAME, "tax_id": SELLER_TAX_ID}, "drawer": "张三",
                             "number": number or "", "issued_at": issued_at, **overrides}
    draft = invoice_body(**given)
    sent = invoice_to_body(parse_invoice(draft, codes=_codes()))
    if number is None:
        del sent["number"]
    if issued_at is None:
        del sent["issued_at"]
    return sent


def red_body(number: str, original: str, amount: str = "1000", issued_at: str = ISSUED,
             form: str | None = None) -> dict[str, Any]:
    """A red invoice of one 6 % service line reversing `amount` of line 1 of `original`, on the form `form`."""
    from tests.helpers.bodies import SOFTWARE

    return body(number, issued_at, original_number=original, red_reason="01", red_form_uuid=form,
                lines=[{"tax_code": SOFTWARE, "item_name": "软件开发", "unit": "项", "quantity": "-1",
                        "unit_price": amount, "tax_rate": "0.06", "original_line_no": 1}])


def red_form(platform: HasUrl, original: str, amount: str = "1000", request_id: str | None = None) -> str:
    """A form (01: the buyer has not used the blue invoice) taking `amount` + 6 % of line 1; its uuid."""
    from decimal import Decimal

    tax = (Decimal(amount) * Decimal("0.06")).quantize(Decimal("0.01"))
    sent = {"request_id": request_id or f"rf-{original}-{amount}", "original_number": original, "reason": "01",
            "lines": [{"original_line_no": 1, "amount": f"-{Decimal(amount):.2f}", "tax": f"-{tax}"}]}
    got, answer, _ = call(platform, "POST", "/v2/red-forms", sent)
    assert got == 201 and answer["status"] == "01", (got, answer)
    return str(answer["uuid"])


class HasUrl(Protocol):
    @property
    def url(self) -> str: ...


def call(platform: HasUrl, method: str, path: str, payload: Any = None, token: str | None = TOKEN,
         headers: dict[str, str] | None = None, raw: bytes | None = None, timeout: float = 5
         ) -> tuple[int, Any, http.client.HTTPResponse]:
    parts = urlsplit(platform.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    send = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        send["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else None)
    try:
        conn.request(method, path, body=data, headers=send)
        response = conn.getresponse()
        answer = response.read()
    finally:
        conn.close()
    return response.status, (json.loads(answer) if answer else None), response


def ok(platform: PlatformServer, method: str, path: str, payload: Any = None, status: int = 200, **kw: Any) -> Any:
    got, answer, _ = call(platform, method, path, payload, **kw)
    assert got == status, (got, answer)
    return answer


def set_clock(platform: PlatformServer, **values: Any) -> str:
    return ok(platform, "POST", "/_clock", values, token=None)["now"]


def draw(platform: PlatformServer, count: int, request_id: str = "blk-1") -> list[str]:
    """A block drawn: every number in it, in order."""
    block = ok(platform, "POST", "/v2/number-blocks", {"request_id": request_id, "count": count}, status=201)
    first = int(block["first"])
    return [str(first + i) for i in range(block["count"])]


def download(platform: PlatformServer, amount: str, request_id: str = "q-1") -> dict[str, Any]:
    return ok(platform, "POST", "/v2/quota", {"request_id": request_id, "action": "download", "amount": amount})


def upload(platform: PlatformServer, invoices: list[Any], request_id: str = "up-1") -> str:
    answer = ok(platform, "POST", "/v2/uploads", {"request_id": request_id, "invoices": invoices}, status=202)
    assert answer["request_id"] == request_id
    return str(answer["acceptance_id"])


def results(platform: PlatformServer, acceptance_id: str, wait: float = 2.0) -> list[dict[str, Any]]:
    """The results of an upload once checked (polled in short steps while they are processing)."""
    deadline = time.monotonic() + wait
    while True:
        answer = ok(platform, "GET", f"/v2/uploads/{acceptance_id}")
        assert answer["acceptance_id"] == acceptance_id
        if all(r["status"] != "processing" for r in answer["results"]) or time.monotonic() > deadline:
            return list(answer["results"])
        time.sleep(0.02)


def quota(platform: PlatformServer) -> dict[str, Any]:
    return ok(platform, "GET", "/v2/quota")

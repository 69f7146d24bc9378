"""HttpPlatformClient: protocol v1 over HTTP (stdlib http.client, one keep-alive connection).

Short timeouts: a platform that does not answer must not hold the worker or the clerk.
Every failure is classified exactly as the spec says (see app.platform.client). The token is
sent only in the Authorization header and never appears in a message or a repr.
"""

from __future__ import annotations

import http.client
import json
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from app.core.taxcodes import CODE_LENGTH, TaxCode, code_from_wire
from app.platform.client import (
    ACCEPTED,
    DUPLICATE,
    MAX_BATCH,
    REJECTED,
    BatchUnsupported,
    KeyConflict,
    PlatformClient,
    RecordPage,
    Rejected,
    SubmitResult,
    TaxCodeUpdate,
    TransientFailure,
    Unauthorized,
    mask_token,
)

TRANSIENT_STATUSES = (429, 500, 502, 503, 504)
MAX_VERSION_LENGTH = 40  # a table version ("32.0") as the platform names it: short, printable, one word
DEFAULT_TIMEOUT = 5.0  # seconds, for one invoice, a look-up or a page
BATCH_TIMEOUT = 15.0  # a batch of 500 takes the platform longer to check


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))  # ok-float: seconds, not money
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


class HttpPlatformClient(PlatformClient):
    def __init__(self, base_url: str, token: str | None, *, timeout: float = DEFAULT_TIMEOUT,
                 batch_timeout: float = BATCH_TIMEOUT) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"platform url: {base_url!r} is not an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._token = token or ""
        self.timeout = timeout
        self.batch_timeout = batch_timeout
        self._conn: http.client.HTTPConnection | None = None

    def __repr__(self) -> str:
        return f"HttpPlatformClient({self.base_url!r}, token={mask_token(self._token)})"

    # --- transport -----------------------------------------------------------------------------

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=timeout)
        self._conn.timeout = timeout
        if self._conn.sock is not None:
            self._conn.sock.settimeout(timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                 timeout: float | None = None, auth: bool = True) -> tuple[int, Any, http.client.HTTPResponse]:
        """Send one request; returns (status, parsed JSON, response). Raises TransientFailure for
        anything the network or a garbled answer does. A write whose answer is lost is outcome_unknown."""
        payload = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        send_headers = {"Accept": "application/json"}
        if payload is not None:
            send_headers["Content-Type"] = "application/json; charset=utf-8"
        if auth:
            send_headers["Authorization"] = f"Bearer {self._token}"
        send_headers.update(headers or {})
        is_write = method == "POST"
        # A kept-alive connection the server has closed since fails at once: one fresh retry,
        # only when nothing can have been processed (the request was never sent on a live socket).
        for attempt in (1, 2):
            conn = self._connection(timeout or self.timeout)
            reused = conn.sock is not None
            sent = False
            try:
                conn.request(method, self._prefix + path, body=payload, headers=send_headers)
                sent = True
                response = conn.getresponse()
                raw = response.read()
            except TimeoutError as error:
                self.close()
                waited = timeout or self.timeout
                raise TransientFailure(f"平台无应答，{waited:g} 秒超时 (timeout after {waited:g}s, {method} {path})",
                                       outcome_unknown=is_write and sent) from error
            except ConnectionRefusedError as error:
                self.close()
                raise TransientFailure(f"连接被拒绝 (connection refused, {self.base_url})") from error
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.IncompleteRead, http.client.BadStatusLine, OSError) as error:
                self.close()
                if reused and attempt == 1 and not sent:
                    continue
                if reused and attempt == 1 and isinstance(error, http.client.RemoteDisconnected) and not is_write:
                    continue  # an idle keep-alive socket the server closed: a read is safe to repeat
                raise TransientFailure(f"连接中断 (connection dropped, {type(error).__name__}: {error})",
                                       outcome_unknown=is_write and sent) from error
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            status = response.status
            if status in TRANSIENT_STATUSES:
                raise TransientFailure(f"平台暂时不可用 (HTTP {status} from the platform)", status=status,
                                       retry_after=parse_retry_after(response.getheader("Retry-After")))
            try:
                data = json.loads(raw.decode("utf-8")) if raw else None
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                self.close()
                raise TransientFailure(f"平台应答无法识别 (answer is not JSON, HTTP {status})",
                                       outcome_unknown=is_write,
                                       status=status) from error
            if status == 401:
                raise Unauthorized("平台拒绝了令牌 (the platform refused the token, 401 unauthorized): "
                                   "set a valid token "
                                   f"(current {mask_token(self._token)})")
            return status, data, response
        raise AssertionError("unreachable")

    @staticmethod
    def _garbled(status: int, what: str, write: bool) -> TransientFailure:
        return TransientFailure(f"平台应答不符合协议 (unexpected answer, HTTP {status}, to {what})",
                                outcome_unknown=write, status=status)

    # --- the protocol --------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        status, data, _ = self._request("GET", "/v1/health", auth=False)
        if status != 200 or not isinstance(data, dict) or data.get("status") != "ok":
            raise self._garbled(status, "health", False)
        return data

    @staticmethod
    def _result(key: str, data: Any, status: str | None = None) -> SubmitResult:
        if not isinstance(data, dict):
            raise TransientFailure("平台应答不符合协议 (answer is not the protocol's JSON)", outcome_unknown=True)
        return SubmitResult(key=str(data.get("key", key)), status=status or str(data.get("status", "")),
                            platform_id=data.get("platform_id"), official_number=data.get("official_number"),
                            accepted_at=data.get("accepted_at"), details=list(data.get("details") or []))

    def submit(self, key: str, invoice: dict[str, Any]) -> SubmitResult:
        status, data, _ = self._request("POST", "/v1/invoices", invoice, headers={"Idempotency-Key": key})
        if status in (200, 201) and isinstance(data, dict) and data.get("official_number"):
            return self._result(key, data, ACCEPTED if status == 201 else DUPLICATE)
        if status == 409:
            raise KeyConflict(f"idempotency key {key} was used with a different body (409 key_conflict)")
        if status == 422 and isinstance(data, dict):
            raise Rejected(list(data.get("details") or []))
        raise self._garbled(status, "submit", True)

    def submit_batch(self, items: list[tuple[str, dict[str, Any]]]) -> list[SubmitResult]:
        if not items:
            return []
        if len(items) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} items in a batch, not {len(items)}")
        body = {"items": [{"key": key, "invoice": invoice} for key, invoice in items]}
        status, data, _ = self._request("POST", "/v1/invoices/batch", body, timeout=self.batch_timeout)
        if status in (404, 405):
            raise BatchUnsupported(f"the platform has no batch endpoint (HTTP {status})")
        if status == 200 and isinstance(data, dict) and isinstance(data.get("results"), list) \
                and len(data["results"]) == len(items):
            results = [self._result(key, item) for (key, _), item in zip(items, data["results"], strict=True)]
            if all(r.key == key and r.status in (ACCEPTED, DUPLICATE, REJECTED)
                   for r, (key, _) in zip(results, items, strict=True)):
                return results
        if status == 422 and isinstance(data, dict):
            raise Rejected(list(data.get("details") or []))
        raise self._garbled(status, "batch", True)

    def lookup(self, key: str) -> dict[str, Any] | None:
        status, data, _ = self._request("GET", f"/v1/invoices/{quote(key, safe='')}")
        if status == 404:
            return None
        if status == 200 and isinstance(data, dict) and data.get("key") == key:
            return data
        raise self._garbled(status, "lookup", False)

    def list_invoices(self, seller_tax_id: str, date_from: str, date_to: str, *, after: str | None = None,
                      limit: int = 500) -> RecordPage:
        query = {"seller_tax_id": seller_tax_id, "from": date_from, "to": date_to, "limit": str(limit)}
        if after:
            query["after"] = after
        status, data, _ = self._request("GET", "/v1/invoices?" + urlencode(query))
        if status == 200 and isinstance(data, dict) and isinstance(data.get("items"), list):
            return RecordPage(items=data["items"], next=data.get("next"))
        raise self._garbled(status, "list", False)

    def tax_codes(self, since: str | None) -> TaxCodeUpdate:
        path = "/v2/tax-codes" + ("?" + urlencode({"since": since}) if since else "")
        status, data, _ = self._request("GET", path)
        update = self._tax_code_update(data) if status == 200 else None
        if update is None:
            raise self._garbled(status, "tax-codes", False)
        return update

    @staticmethod
    def _tax_code_update(data: Any) -> TaxCodeUpdate | None:
        """The answer checked in full, or None: a row that does not fit makes all of it untrusted."""
        if not isinstance(data, dict):
            return None
        version, raw_codes, withdrawn = data.get("version"), data.get("codes"), data.get("withdrawn")
        if not (isinstance(version, str) and version.strip() and len(version) <= MAX_VERSION_LENGTH
                and version.isprintable() and not any(c.isspace() for c in version)):
            return None
        if not (isinstance(raw_codes, list) and isinstance(withdrawn, list)):
            return None
        if not all(isinstance(c, str) and len(c) == CODE_LENGTH and c.isascii() and c.isdigit() for c in withdrawn):
            return None
        codes: list[TaxCode] = []
        for raw in raw_codes:
            code = code_from_wire(raw, version)
            if code is None or not code.code.isascii():  # isdigit() alone lets full-width digits through
                return None
            codes.append(code)
        if len({code.code for code in codes}) != len(codes):  # the same code twice: which one is meant?
            return None
        return TaxCodeUpdate(version=version, codes=tuple(codes), withdrawn=tuple(dict.fromkeys(withdrawn)))

"""HttpTransport: requests to the platform over HTTP (stdlib http.client, one keep-alive connection).

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
from urllib.parse import urlsplit

from app.platform.client import TransientFailure, Unauthorized, mask_token

TRANSIENT_STATUSES = (429, 500, 502, 503, 504)
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


class HttpTransport:
    """The transport under HttpPlatformClient: one connection, short timeouts, failures classified."""

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
        return f"{type(self).__name__}({self.base_url!r}, token={mask_token(self._token)})"

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


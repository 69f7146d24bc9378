"""HttpTransport: requests to the platform over HTTP (stdlib http.client, one keep-alive connection).

Short timeouts: a platform that does not answer must not hold the worker or the clerk. Each wait for the
network is at most `timeout`, and the whole request (connect, send, status line, headers, every byte of the
body) at most `deadline` (twice the timeout unless given): a server that dribbles its answer a byte at a time
is cut off. A body larger than `max_body` is cut off too (memory stays bounded), redirects are never followed
(an answer from another address is no answer), and a Retry-After is believed up to MAX_RETRY_AFTER.
Every failure is classified exactly as the spec says (see app.platform.client). The token is
sent only in the Authorization header and never appears in a message or a repr.
"""

from __future__ import annotations

import functools
import http.client
import io
import json
import math
import socket
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from app.core.errors import PLATFORM_CALLS
from app.platform.client import TransientFailure, Unauthorized, mask_token

TRANSIENT_STATUSES = (429, 500, 502, 503, 504)
DEFAULT_TIMEOUT = 5.0  # seconds, for one invoice, a look-up or a page
BATCH_TIMEOUT = 15.0  # a batch of 500 takes the platform longer to check
DEADLINE_FACTOR = 2.0  # the whole request (connect + send + the whole answer) within this many timeouts
MAX_RETRY_AFTER = 300.0  # seconds: a Retry-After beyond it (days, "inf") is taken as this
MAX_BODY = 16 * 1024 * 1024  # bytes of an answer; the largest real one (a page of 1,000 records) is far less
READ_CHUNK = 64 * 1024
MAX_SHOWN = 120  # characters of anything the server chose (a redirect's target) kept in a message


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds, between 0 and MAX_RETRY_AFTER: a number of seconds or an HTTP date; None for
    anything else (then the client's own back-off decides)."""
    if not value:
        return None
    value = value.strip()
    if not value.isascii() or len(value) > 100:
        return None
    seconds: float | None = None
    try:
        seconds = float(value)  # ok-float: seconds, not money
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if seconds is None or math.isnan(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def _shown(text: str | None) -> str:
    """Text the server chose, fit for a message: printable, short, its parentheses square (a message kept as
    "中文 (English)" must still split at its own)."""
    cleaned = "".join(c if c.isprintable() else "?" for c in (text or "")).replace("(", "[").replace(")", "]")
    return cleaned[:MAX_SHOWN] + ("…" if len(cleaned) > MAX_SHOWN else "")


class _DeadlinePassed(TimeoutError):
    """The request's total deadline passed while its answer was still coming."""


class _DeadlineReader(io.RawIOBase):
    """The socket under a response, read against the request's deadline: every read waits at most the time left
    (and at most `timeout`), so a trickle of bytes cannot hold the request past the deadline."""

    def __init__(self, sock: socket.socket, deadline: float, timeout: float, holder: io.IOBase) -> None:
        super().__init__()
        self._sock, self._deadline, self._timeout = sock, deadline, timeout
        self._holder = holder  # the socket file http.client made: it keeps the socket open until the answer is read

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._holder.close()
        super().close()

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise _DeadlinePassed("deadline")
        self._sock.settimeout(min(left, self._timeout))
        return self._sock.recv_into(buffer)


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, deadline: float, timeout: float, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp = io.BufferedReader(_DeadlineReader(sock, deadline, timeout, self.fp))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a protocol value")


class HttpTransport:
    """The transport under HttpPlatformClient: one connection, short timeouts, failures classified."""

    def __init__(self, base_url: str, token: str | None, *, timeout: float = DEFAULT_TIMEOUT,
                 batch_timeout: float = BATCH_TIMEOUT, deadline: float | None = None,
                 max_body: int = MAX_BODY) -> None:
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
        self._deadline = deadline  # None: DEADLINE_FACTOR × the request's timeout
        self.max_body = max_body
        self._conn: http.client.HTTPConnection | None = None

    @property
    def deadline(self) -> float:
        """Seconds a request of the ordinary timeout may take in all."""
        return self._deadline_for(self.timeout)

    def _deadline_for(self, timeout: float) -> float:
        return self._deadline if self._deadline is not None else DEADLINE_FACTOR * timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r}, token={mask_token(self._token)})"

    # --- transport -----------------------------------------------------------------------------

    def _connection(self, timeout: float, deadline: float) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=timeout)
        wait = max(0.001, min(timeout, deadline - time.monotonic()))
        self._conn.timeout = wait  # the connect, and every send (sendall's timeout covers all of it)
        if self._conn.sock is not None:
            self._conn.sock.settimeout(wait)
        # The status line, the headers and the body are read against the deadline (a trickle is cut off).
        self._conn.response_class = functools.partial(  # type: ignore[assignment]
            _DeadlineResponse, deadline=deadline, timeout=timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _read_body(self, response: http.client.HTTPResponse, method: str, path: str, is_write: bool) -> bytes:
        """The whole body, never more than max_body bytes (a longer or endless one is cut off: transient)."""
        declared = response.getheader("Content-Length")
        too_large = TransientFailure(f"平台应答过大，超过 {self.max_body} 字节，已中断（{method} {path}）",
                                     f"answer too large: more than {self.max_body} bytes, cut off; {method} {path}",
                                     outcome_unknown=is_write, status=response.status)
        if declared and declared.strip().isdigit() and int(declared.strip()) > self.max_body:
            self.close()
            raise too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            piece = response.read(READ_CHUNK)
            if not piece:
                return b"".join(chunks)
            size += len(piece)
            if size > self.max_body:
                self.close()
                raise too_large
            chunks.append(piece)

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
        waited = timeout or self.timeout
        total = self._deadline_for(waited)
        deadline = time.monotonic() + total
        # A kept-alive connection the server has closed since fails at once: one fresh retry,
        # only when nothing can have been processed (the request was never sent on a live socket).
        for attempt in (1, 2):
            conn = self._connection(waited, deadline)
            reused = conn.sock is not None
            sent = False
            try:
                conn.request(method, self._prefix + path, body=payload, headers=send_headers)
                sent = True
                response = conn.getresponse()
                raw = self._read_body(response, method, path, is_write)
            except TimeoutError as error:
                self.close()
                if isinstance(error, _DeadlinePassed) or time.monotonic() >= deadline:
                    raise TransientFailure(f"平台应答未在总期限 {total:g} 秒内完成（{method} {path}）",
                                           f"the answer did not complete within the total deadline of {total:g}s, "
                                           f"{method} {path}", outcome_unknown=is_write and sent) from error
                raise TransientFailure(f"平台无应答，{waited:g} 秒超时（{method} {path}）",
                                       f"timeout after {waited:g}s, {method} {path}",
                                       outcome_unknown=is_write and sent) from error
            except ConnectionRefusedError as error:
                self.close()
                raise TransientFailure(f"连接被拒绝（{self.base_url}）",
                                       f"connection refused, {self.base_url}") from error
            except (http.client.HTTPException, OSError) as error:
                # Dropped, reset, an incomplete or garbled status line or headers (too long, too many), TLS.
                self.close()
                if reused and attempt == 1 and not sent and time.monotonic() < deadline:
                    continue
                if reused and attempt == 1 and isinstance(error, http.client.RemoteDisconnected) and not is_write \
                        and time.monotonic() < deadline:
                    continue  # an idle keep-alive socket the server closed: a read is safe to repeat
                if isinstance(error, (OSError, http.client.IncompleteRead)):
                    cause = f"{type(error).__name__}: {_shown(str(error))}"
                    raise TransientFailure(f"连接中断（{cause}）", f"connection dropped, {cause}",
                                           outcome_unknown=is_write and sent) from error
                cause = f"{type(error).__name__}: {_shown(str(error))}"
                raise TransientFailure(f"平台应答不符合 HTTP 协议（{cause}）", f"malformed HTTP answer, {cause}",
                                       outcome_unknown=is_write and sent) from error
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            status = response.status
            if 300 <= status < 400:
                # Never followed: the answer must come from the platform's own address (a redirect to another
                # host would send it the token and take its word for the platform's).
                self.close()
                target = urlsplit(_shown(response.getheader("Location", ""))).netloc or "?"
                raise TransientFailure(f"平台应答重定向，未跟随（HTTP {status} 至 {target}，{method} {path}）",
                                       f"redirect not followed: HTTP {status} to {target}, {method} {path}",
                                       outcome_unknown=is_write, status=status)
            if status in TRANSIENT_STATUSES:
                raise TransientFailure(f"平台暂时不可用（HTTP {status}）", f"HTTP {status} from the platform",
                                       status=status, retry_after=parse_retry_after(response.getheader("Retry-After")))
            try:
                data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant) if raw else None
            except (UnicodeDecodeError, ValueError, RecursionError) as error:
                # Not JSON, NaN or Infinity, nesting too deep, an integer too long to convert: not this protocol.
                self.close()
                raise TransientFailure(f"平台应答无法识别（不是 JSON，HTTP {status}）",
                                       f"answer is not JSON, HTTP {status}", outcome_unknown=is_write,
                                       status=status) from error
            if status == 401:
                current = mask_token(self._token) if self._token else "未设置"
                raise Unauthorized(f"平台拒绝了令牌（HTTP 401）：请设置有效的令牌（当前 {current}）",
                                   "the platform refused the token (401 unauthorized): set a valid token "
                                   f"(current {mask_token(self._token)})")
            return status, data, response
        raise AssertionError("unreachable")

    @staticmethod
    def _garbled(status: int, what: str, write: bool) -> TransientFailure:
        return TransientFailure(f"平台应答不符合协议（HTTP {status}，{PLATFORM_CALLS.get(what, what)}）",
                                f"unexpected answer, HTTP {status}, to {what}", outcome_unknown=write, status=status)


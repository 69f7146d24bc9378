"""A hostile platform on loopback: a ThreadingHTTPServer whose answers a test scripts.

By default it passes every request on to the real platform behind it (`upstream`, the reference server), so
that the desk draws its stock, issues and uploads for real; a test then scripts what comes back for some calls:
an answer of its own, the real answer changed (`forward()` gives it), a body dribbled byte by byte, a body
that never ends, a redirect. `requests` records what reached it, in order.

    hostile = HostileServer(platform.url).start()
    hostile.script("POST", "/v2/issue", lambda call: Reply.json(201, {...}))
    hostile.script("GET", "/v2/uploads/", lambda call: tamper(call.forward()))
    hostile.clear()   # honest again: everything goes to the real platform
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Reply:
    """What the hostile server answers: a status, headers, and a body given at once or as chunks (each after
    `pause` seconds); `length` overrides Content-Length (None: the length of `body`, unless streamed)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None
    pause: float = 0.0
    header_pause: float = 0.0  # a trickle of the status line and headers themselves, a byte at a time

    @classmethod
    def json(cls, status: int, data: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(data, ensure_ascii=False).encode(),
                   {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    def data(self) -> Any:
        return json.loads(self.body.decode()) if self.body else None


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    forward: Callable[[], Reply]

    def json(self) -> Any:
        return json.loads(self.body.decode()) if self.body else None


Script = Callable[[Call], Reply]


def endless(chunk: bytes = b"[" * 65536) -> Iterator[bytes]:
    """A body that never ends (the client must cut it)."""
    while True:
        yield chunk


class _Handler(BaseHTTPRequestHandler):
    server: HostileHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        owner = self.server.owner
        call = Call(self.command, self.path, headers, body, lambda: owner.forward(self.command, self.path, headers,
                                                                                  body))
        owner.record(call)
        script = owner.script_for(self.command, self.path)
        reply = script(call) if script is not None else call.forward()
        try:
            self._send(reply)
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True

    do_GET = do_POST = do_DELETE = do_PUT = _any

    def _send(self, reply: Reply) -> None:
        streamed = reply.chunks is not None
        lines = [f"HTTP/1.1 {reply.status} {http.client.responses.get(reply.status, 'Status')}"]
        headers = dict(reply.headers)
        if not streamed and "Content-Length" not in headers:
            headers["Content-Length"] = str(len(reply.body))
        if streamed:
            headers["Connection"] = "close"
            self.close_connection = True
        lines += [f"{k}: {v}" for k, v in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()  # bytes beyond ASCII as a hostile server sends them
        if reply.header_pause:
            for byte in head:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if self.server.owner.stopping.wait(reply.header_pause):
                    return
        else:
            self.wfile.write(head)
        if not streamed:
            self.wfile.write(reply.body)
            self.wfile.flush()
            return
        assert reply.chunks is not None
        for chunk in reply.chunks:
            self.wfile.write(chunk)
            self.wfile.flush()
            self.server.owner.sent_bytes += len(chunk)
            if reply.pause and self.server.owner.stopping.wait(reply.pause):
                return
            if self.server.owner.stopping.is_set():
                return


class HostileHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner: HostileServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that cut us off is what the tests expect


class HostileServer:
    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream
        self._scripts: list[tuple[str, str, Script, int | None]] = []
        self._lock = threading.Lock()
        self.requests: list[Call] = []
        self.sent_bytes = 0
        self.stopping = threading.Event()
        self._server = HostileHTTPServer(self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HostileServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="hostile-platform", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    # --- scripts ---------------------------------------------------------------------------------

    def script(self, method: str, path_prefix: str, answer: Script, times: int | None = None) -> None:
        """Answer calls of `method` whose path starts with `path_prefix` (the first script that fits wins),
        `times` times (None: until cleared)."""
        with self._lock:
            self._scripts.append((method, path_prefix, answer, times))

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()

    def script_for(self, method: str, path: str) -> Script | None:
        with self._lock:
            for index, (m, prefix, answer, times) in enumerate(self._scripts):
                if m == method and path.startswith(prefix):
                    if times is not None:
                        if times <= 1:
                            del self._scripts[index]
                        else:
                            self._scripts[index] = (m, prefix, answer, times - 1)
                    return answer
        return None

    def record(self, call: Call) -> None:
        with self._lock:
            self.requests.append(call)

    def calls(self, method: str, path_prefix: str) -> list[Call]:
        with self._lock:
            return [c for c in self.requests if c.method == method and c.path.startswith(path_prefix)]

    # --- the real platform behind --------------------------------------------------------------

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if self.upstream is None:
            return Reply.json(404, {"error": "not_found", "message": "无 (nothing behind)", "details": []})
        parts = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection", "content-length")}
            conn.request(method, path, body=body or None, headers=sent)
            response = conn.getresponse()
            data = response.read()
            kept = {k: v for k, v in response.getheaders()
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server")}
            return Reply(response.status, data, kept)
        finally:
            conn.close()


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()

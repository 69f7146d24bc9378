"""Issue 15: what goes wrong talking to the platform reads in Chinese, with the English beside it (a DeskError's
pair), over real HTTP on loopback; the text the desk keeps of it (str(error), as the worker stores it) gives each
language back whole."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.core.errors import stored_message
from app.platform.client import PlatformError, Rejected, TransientFailure, Unauthorized
from app.platform.http_client import HttpPlatformClient

Reply = tuple[int, bytes]
# English the clerk must not read in the Chinese message.
ENGLISH = ("from the platform", "connection refused", "timeout", "answer", "unexpected", "token", "refused",
           "unauthorized", "valid", "current", "(none)")


class _Handler(BaseHTTPRequestHandler):
    reply: Callable[[], Reply]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        code, body = type(self).reply()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[Callable[[Callable[[], Reply]], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(reply: Callable[[], Reply]) -> str:
        handler = type("Handler", (_Handler,), {"reply": staticmethod(reply)})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _fails(url: str, call: Callable[[HttpPlatformClient], object], timeout: float = 2.0) -> PlatformError:
    client = HttpPlatformClient(url, "", timeout=timeout)
    try:
        with pytest.raises(PlatformError) as caught:
            call(client)
    finally:
        client.close()
    return caught.value


def _chinese_first(error: PlatformError, zh_start: str) -> None:
    assert error.message_zh.startswith(zh_start), error.message_zh
    assert not any(word in error.message_zh.lower() for word in ENGLISH), error.message_zh
    assert error.message_en and error.message_en.isascii(), error.message_en
    kept = str(error)  # what the upload queue, the outage log and the audit keep
    assert stored_message(kept) == error.message_zh and stored_message(kept, "en") == error.message_en


def test_connection_refused():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = _fails(f"http://127.0.0.1:{port}", lambda c: c.health())
    assert isinstance(error, TransientFailure)
    _chinese_first(error, "连接被拒绝")
    assert "connection refused" in error.message_en


def test_platform_unavailable(answering):
    error = _fails(answering(lambda: (503, b'{"error": "unavailable"}')), lambda c: c.health())
    _chinese_first(error, "平台暂时不可用（HTTP 503）")
    assert error.message_en == "HTTP 503 from the platform"


def test_not_json_and_an_answer_that_does_not_fit(answering):
    garbled = _fails(answering(lambda: (200, b"<html>oops</html>")), lambda c: c.health())
    _chinese_first(garbled, "平台应答无法识别")
    unfit = _fails(answering(lambda: (200, b'{"status": "maybe"}')), lambda c: c.health())
    _chinese_first(unfit, "平台应答不符合协议（HTTP 200，健康检查）")


def test_no_answer_in_time(answering):
    def slow() -> Reply:
        time.sleep(1.0)
        return 200, b'{"status": "ok"}'

    error = _fails(answering(slow), lambda c: c.health(), timeout=0.2)
    _chinese_first(error, "平台")
    assert "超时" in error.message_zh or "期限" in error.message_zh


def test_the_token_refused(answering):
    error = _fails(answering(lambda: (401, b'{"error": "unauthorized"}')), lambda c: c.taxpayer())
    assert isinstance(error, Unauthorized)
    _chinese_first(error, "平台拒绝了令牌（HTTP 401）")
    assert "未设置" in error.message_zh


def test_a_rejection_names_the_field_in_words(answering):
    body = {"error": "invalid", "message": "发票不符合规则 (the invoice breaks a rule)",
            "details": [{"field": "lines[0].amount", "message": "与数量×单价不符", "message_en": "does not add up"},
                        {"field": "red_reason", "message": "不能为空", "message_en": "is required"}]}
    error = _fails(answering(lambda: (422, json.dumps(body, ensure_ascii=False).encode())),
                   lambda c: c.issue("k", {"lines": []}))
    assert isinstance(error, Rejected)
    assert error.message_zh == "第1行金额：与数量×单价不符；红字发票开具原因：不能为空"
    assert error.message_en == "line 1 amount: does not add up; red-letter reason: is required"
    assert [d["field"] for d in error.details] == ["lines[0].amount", "red_reason"]  # the ids, for machines

"""Answers that do not fit what was sent are never taken as acceptance. A proxy in front of the reference
platform tampers with its answers (the key, the number, the count of results, their format); the desk
records nothing from them, and once the answers are honest again each invoice is accepted once."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.core import status
from app.platform.http_client import HttpPlatformClient
from app.services.issuing import issue_invoices
from app.store.models import Invoice, UploadQueueEntry
from app.sync.worker import Backoff, QueueWorker
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import SYNC_TOKEN, make_worker

Tamper = Callable[[str, str, Any], Any]  # (method, path, answer) -> the answer to give instead


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.tamper: Tamper | None = None
        super().__init__(("127.0.0.1", 0), _Forward)


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Proxy

    def log_message(self, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(*self.server.target, timeout=5)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type",
                                                                            "idempotency-key")}
        conn.request(self.command, self.path, body=body, headers=headers)
        answer = conn.getresponse()
        raw = answer.read()
        conn.close()
        data = json.loads(raw) if raw else None
        if self.server.tamper is not None and data is not None:
            data = self.server.tamper(self.command, self.path, data)
        out = json.dumps(data).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_DELETE = _forward


@pytest.fixture
def proxy(online) -> Iterator[_Proxy]:
    server = _Proxy(online.url)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _worker(proxy: _Proxy) -> QueueWorker:
    url = f"http://127.0.0.1:{proxy.server_address[1]}"
    return QueueWorker(lambda: HttpPlatformClient(url, SYNC_TOKEN, timeout=2, batch_timeout=2),
                       backoff=Backoff(base=0.01, cap=0.02), result_wait=0.05, result_wait_cap=0.1, pass_wait=1.0)


def _results(change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Tamper:
    def tamper(method: str, path: str, data: Any) -> Any:
        if method == "GET" and path.startswith("/v2/uploads/") and isinstance(data.get("results"), list):
            results = list(data["results"])
            if results and all(r.get("status") != "processing" for r in results):
                data = {**data, "results": change(results)}
        return data
    return tamper


HOSTILE_RESULTS = {
    "numbers swapped": lambda rs: [{**rs[0], "number": rs[1]["number"]}, {**rs[1], "number": rs[0]["number"]},
                                   *rs[2:]],
    "one result short": lambda rs: rs[:-1],
    "one result more": lambda rs: [*rs, rs[0]],
    "a number of another format": lambda rs: [{**r, "number": r["number"][:-1]} for r in rs],
    "accepted with no time": lambda rs: [{**r, "accepted_at": None} for r in rs],
    "a status the protocol lacks": lambda rs: [{**r, "status": "ok"} for r in rs],
}


@pytest.mark.parametrize("how", list(HOSTILE_RESULTS))
def test_upload_results_that_do_not_fit_are_not_acceptance(direct, proxy, how):
    issue_invoices([invoice_body(remarks=f"#{i}") for i in range(3)])
    proxy.tamper = _results(HOSTILE_RESULTS[how])
    report = _worker(proxy).run_once()
    assert report.accepted == 0 and report.transient_failures >= 1
    assert {r.status for r in Invoice.select()} == {status.PENDING_UPLOAD}
    proxy.tamper = None
    from app.services import queue

    queue.make_due_now()
    assert _worker(proxy).run_once().accepted == 3
    assert len(direct.v2_store.all("SELECT number FROM v2_invoice")) == 3


def test_an_acceptance_id_under_another_request_id_is_not_believed(direct, proxy):
    issue_invoices([invoice_body()])
    proxy.tamper = lambda m, p, d: {**d, "request_id": "someone-else"} if p == "/v2/uploads" else d
    report = _worker(proxy).run_once()
    assert report.sent == 0 and report.transient_failures == 1
    assert UploadQueueEntry.get().state == status.Q_SENDING  # asked again under the same request id
    proxy.tamper = None
    from app.services import queue

    queue.make_due_now()
    assert _worker(proxy).run_once().accepted == 1


HOSTILE_ISSUES = {
    "another key": lambda d: {**d, "key": "not-ours"},
    "another total": lambda d: {**d, "total_with_tax": "1.00"},
    "a number of another format": lambda d: {**d, "number": "LX-0000001"},
    "another seller": lambda d: {**d, "seller": {**d["seller"], "tax_id": "91110000600037341L"}},
}


@pytest.mark.parametrize("how", list(HOSTILE_ISSUES))
def test_an_issue_answer_that_does_not_fit_is_not_acceptance(online, proxy, how):
    issue_invoices([invoice_body()])
    change = HOSTILE_ISSUES[how]
    proxy.tamper = lambda m, p, d: change(d) if p == "/v2/issue" and "number" in d else d
    report = _worker(proxy).run_once()
    assert report.accepted == 0
    row = Invoice.get()
    assert row.status == status.PRE_ISSUE and row.official_number is None
    proxy.tamper = None
    from app.services import queue

    queue.make_due_now()
    assert make_worker(online).run_once().accepted == 1
    assert len(online.v2_store.all("SELECT number FROM v2_invoice")) == 1  # the same key: issued once

"""The reference platform: protocol v2 (docs/platform-api-v2.md, with what this server adds in
docs/platform-api-v2-reference.md) over real HTTP.

    python -m app platform [--host 127.0.0.1] [--port P] [--db FILE] [--token T]
                           [--mode ok|down|slow|flaky] [--fail-rate F] [--delay-ms D] [--hang-ms H]
                           [--taxpayer-id ID] [--taxpayer-name NAME] [--taxpayer-type general|small]
                           [--quota A] [--result-delay-ms MS] [--tax-codes FILE]

Built on the stdlib's ThreadingHTTPServer: no dependency, nothing extra in the installer, and
full control of the socket, which fault injection needs (drop a connection after acting, hang
past the client's timeout). It checks invoices with the same rules as the desk
(app.core.validation.parse_received_invoice, every amount given), keeps accepted records in its own
SQLite file (app.platform.v2.store, tables `v2_*`), and prints its URL on start ("listening on URL"),
so a test can ask for port 0.

`/v2/...` is protocol v2 (app.platform.v2.routes); anything else is 404. The hooks `/_faults`,
`/_clock`, `/_taxpayer` and `/_buyer` answer loopback callers only, need no token and are never
failed by the faults they set.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
import threading
import time
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.core.money import to_money
from app.platform.answer import Answer as _Answer
from app.platform.answer import error, field_details
from app.platform.client import mask_token
from app.platform.faults import Faults, FaultSettings
from app.platform.tax_codes import PlatformTaxCodes
from app.platform.v2.platform import (
    DEFAULT_NAME,
    DEFAULT_QUOTA,
    DEFAULT_RESULT_DELAY_MS,
    DEFAULT_TAX_ID,
    Taxpayer,
    V2Platform,
)
from app.platform.v2.routes import V2Routes, parse_body
from app.platform.v2.store import V2Store

__all__ = ["PlatformHTTPServer", "PlatformServer", "add_arguments", "run"]

log = logging.getLogger(__name__)
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
MAX_PAGE = 1000
HOOKS = ("/_faults", "/_clock", "/_taxpayer", "/_buyer")
_details = field_details


class PlatformHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a hanging (fault) handler never keeps the process alive
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, token: str, faults: Faults, v2: V2Platform,
                 tax_codes: PlatformTaxCodes | None = None) -> None:
        self.tax_codes = tax_codes or PlatformTaxCodes()
        self.token = token
        self.faults = faults
        self.v2 = v2
        self.v2_routes = V2Routes(self.v2, lambda: self.tax_codes)
        super().__init__(address, PlatformHandler)

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (timeout) or went away is normal here, not an error worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class PlatformHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client sends many calls on one connection
    disable_nagle_algorithm = True  # headers and body go in two writes: Nagle + delayed ACK would add 40 ms
    server: PlatformHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the stdlib's name)
        pass  # quiet: the Authorization header is never logged anyway, and tests run thousands of calls

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- plumbing ------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, answer: _Answer) -> None:
        payload = answer.json_text().encode("utf-8")
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _drop(self) -> None:
        """Close the connection without an answer (a reset, as a crashed proxy does)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self, method: str) -> None:
        raw = self._read_body()
        parts = urlsplit(self.path)
        path = parts.path
        if path in HOOKS:
            self._send(self._hook(path, method, raw))
            return
        settings = self.server.faults.settings
        if settings.mode == "down":
            headers = {"Retry-After": str(settings.retry_after)}
            self._send(error(503, "unavailable", "平台暂不可用", "the platform is unavailable", headers=headers))
            return
        fault = self.server.faults.pick()
        if fault is not None and not fault[1]:
            self._fail(fault[0], settings)
            return
        answer = self._route(method, path, parts.query, raw)
        if settings.mode == "slow":  # after acting: a client that gives up meanwhile does not know the outcome
            time.sleep(settings.delay_ms / 1000)
        if fault is not None:
            self._fail(fault[0], settings)
            return
        self._send(answer)

    def _fail(self, kind: str, settings: FaultSettings) -> None:
        if kind.startswith("status:"):
            status = int(kind.split(":")[1])
            headers = {"Retry-After": str(settings.retry_after)} if status in (429, 503) else {}
            self._send(error(status, "injected", "注入的故障", "an injected fault", headers=headers))
        elif kind == "drop":
            self._drop()
        elif kind == "hang":
            time.sleep(settings.hang_ms / 1000)
            self._drop()
        elif kind == "garbage":
            payload = b"<html><body>502 Bad Gateway</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    def _hook(self, path: str, method: str, raw: bytes) -> _Answer:
        """The reference server's own hooks: loopback only, no token, never failed on purpose."""
        if self.client_address[0] not in LOOPBACK:
            return _Answer(403, {"error": "forbidden"}) if path == "/_faults" else error(
                403, "forbidden", "只接受本机调用", "loopback callers only")
        if path == "/_faults":
            return self._faults(method, raw)
        v2 = self.server.v2
        if method == "GET" and path in ("/_clock", "/_taxpayer"):
            return v2.clock_view() if path == "/_clock" else v2.taxpayer_view()
        if method != "POST":
            return error(405, "method_not_allowed", "该接口不支持此方法", f"{method} is not allowed here")
        body, bad = parse_body(raw)
        if bad:
            return bad
        try:
            if path == "/_clock":
                return v2.set_clock(body)
            if path == "/_taxpayer":
                return v2.set_taxpayer(body)
            return v2.act_as_buyer(body)
        except Exception:  # a bug: a 500, and logged (a test sees it)
            log.exception("hook %s failed", path)
            return error(500, "internal", "平台内部错误", "the platform failed")

    def _faults(self, method: str, raw: bytes) -> _Answer:
        if method == "GET":
            return _Answer(200, vars(self.server.faults.settings))
        if method != "POST":
            return _Answer(405, {"error": "method_not_allowed"})
        try:
            values = json.loads(raw or b"{}")
            if not isinstance(values, dict):
                raise ValueError("body: must be a JSON object")
            settings = self.server.faults.update(values)
        except (ValueError, TypeError) as error:
            return _Answer(422, {"error": "invalid", "details": [{"field": "faults", "message": str(error)}]})
        return _Answer(200, vars(settings))

    def _authorized(self) -> bool:
        given = self.headers.get("Authorization", "")
        return given == f"Bearer {self.server.token}"

    # --- the protocol --------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: str, raw: bytes) -> _Answer:
        if path.startswith("/v2/"):
            return self.server.v2_routes.route(method, path, query, raw, self.headers.get("Idempotency-Key"),
                                              self._authorized())
        return error(404, "not_found", "没有这个接口", f"no such path: {path[:100]}")


class PlatformServer:
    """The reference platform in a background thread (tests, benchmarks, demos).

    v2's taxpayer (the one seller it serves), its month's quota and the delay before an upload's
    results can be read are set here; `clock` is the platform's clock (`POST /_clock`), `v2` its
    protocol v2 state (app.platform.v2.platform.V2Platform)."""

    def __init__(self, db: Path | str, *, host: str = "127.0.0.1", port: int = 0, token: str = "dev-token",
                 faults: FaultSettings | None = None, seed: int | None = None,
                 tax_codes: Path | None = None, taxpayer_type: str = "general",
                 taxpayer_tax_id: str = DEFAULT_TAX_ID, taxpayer_name: str = DEFAULT_NAME,
                 quota: Decimal = DEFAULT_QUOTA, result_delay_ms: int = DEFAULT_RESULT_DELAY_MS) -> None:
        self.db_path = Path(db)
        self.v2_store = V2Store(db)
        self.faults = Faults(faults, seed)
        codes = PlatformTaxCodes(tax_codes)
        self.v2 = V2Platform(self.v2_store, lambda: self.httpd.tax_codes,
                             taxpayer=Taxpayer(tax_id=taxpayer_tax_id, name=taxpayer_name,
                                               taxpayer_type=taxpayer_type),
                             quota=quota, result_delay_ms=result_delay_ms)
        self.clock = self.v2.clock
        self.httpd = PlatformHTTPServer((host, port), token, self.faults, self.v2, codes)
        self.token = token
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://{shown}:{port}"

    def start(self) -> PlatformServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="reference-platform", daemon=True)
        self._thread.start()
        return self

    def set_faults(self, **values: Any) -> FaultSettings:
        return self.faults.update(values)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self.v2_store.close()

    def __enter__(self) -> PlatformServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port (printed on start)")
    parser.add_argument("--db", type=Path, default=Path("platform.sqlite3"), help="the platform's own SQLite file")
    parser.add_argument("--token", default="dev-token", help="the bearer token clients must send")
    parser.add_argument("--mode", choices=("ok", "down", "slow", "flaky"), default="ok")
    parser.add_argument("--fail-rate", type=float, default=0.3, help="flaky: fraction of calls that fail")
    parser.add_argument("--delay-ms", type=int, default=500, help="slow: delay added to each answer")
    parser.add_argument("--hang-ms", type=int, default=15000, help="flaky timeouts: how long a call hangs")
    parser.add_argument("--retry-after", type=int, default=1, help="seconds sent in Retry-After with 503/429")
    parser.add_argument("--seed", type=int, default=None, help="flaky: random seed, for a repeatable run")
    parser.add_argument("--tax-codes", type=Path, default=None,
                        help="serve and check against this tax classification table (CSV) instead of the shipped one")
    parser.add_argument("--taxpayer-type", choices=("general", "small"), default="general",
                        help="the seller's taxpayer type: which rates its invoices may carry")
    parser.add_argument("--taxpayer-id", default=DEFAULT_TAX_ID, help="the tax id of the taxpayer it serves")
    parser.add_argument("--taxpayer-name", default=DEFAULT_NAME, help="that taxpayer's name")
    parser.add_argument("--quota", type=_quota, default=DEFAULT_QUOTA, metavar="A",
                        help="the taxpayer's invoicing quota (发票额度) of every month, e.g. 10000000.00")
    parser.add_argument("--result-delay-ms", type=int, default=DEFAULT_RESULT_DELAY_MS, metavar="MS",
                        help="how long after an upload its results can be read (platform time)")


def _quota(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount") from None
    if not value.is_finite() or value < 0 or value != to_money(value):
        raise argparse.ArgumentTypeError(f"{text!r}: an amount of money, 0 or more, at most two places")
    return value


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.fail_rate <= 1:
        print("fail-rate: must be between 0 and 1", file=sys.stderr)
        return 2
    settings = FaultSettings(mode=args.mode, fail_rate=args.fail_rate, delay_ms=args.delay_ms, hang_ms=args.hang_ms,
                             retry_after=args.retry_after)
    if args.result_delay_ms < 0:
        print("result-delay-ms: must not be negative", file=sys.stderr)
        return 2
    try:
        server = PlatformServer(args.db, host=args.host, port=args.port, token=args.token, faults=settings,
                                seed=args.seed, tax_codes=args.tax_codes,
                                taxpayer_type=args.taxpayer_type, taxpayer_tax_id=args.taxpayer_id,
                                taxpayer_name=args.taxpayer_name, quota=args.quota,
                                result_delay_ms=args.result_delay_ms)
    except ValueError as bad:
        print(bad, file=sys.stderr)
        return 2
    print(f"listening on {server.url} (db {args.db}, token {mask_token(args.token)}, mode {args.mode}, "
          f"taxpayer {server.v2.taxpayer.tax_id}, quota {server.v2.quota})", flush=True)
    try:
        server.httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        server.v2_store.close()
    return 0

"""What the reference platform does besides protocol v2's routes (those are tested in tests/platform_v2):
fault injection (down, slow, flaky) on v2 paths, the hooks answering loopback callers only, unknown and v1
paths 404, the desk's client classifying every failure as the spec says, and `python -m app platform`'s
start flags (v1's --no-batch is gone)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from decimal import Decimal

import pytest

from app.core.codec import pre_issue_body
from tests.helpers.cli import ROOT
from tests.helpers.platform import SYNC_TOKEN as TOKEN
from tests.platform_v2.support import body, call, ok


def issued(platform) -> list[tuple[str, str]]:
    return [(r["key"], r["number"]) for r in platform.v2_store.all("SELECT key, number FROM v2_invoice ORDER BY seq")]


def issue(platform, key: str, sent: dict | None = None, **kw):
    """POST /v2/issue of a pre-issue record (no number, no time: the platform gives both)."""
    return call(platform, "POST", "/v2/issue", sent or body(None, None), headers={"Idempotency-Key": key}, **kw)


def test_faults_hook_down_on_v2_paths_and_bad_settings(platform):
    answer = ok(platform, "POST", "/_faults", {"mode": "down", "retry_after": 7}, token=None)
    assert answer["mode"] == "down" and answer["retry_after"] == 7
    assert ok(platform, "GET", "/_faults", token=None)["mode"] == "down"
    for method, path, payload in (("GET", "/v2/health", None), ("GET", "/v2/taxpayer", None),
                                  ("POST", "/v2/issue", body(None, None)),
                                  ("POST", "/v2/uploads", {"request_id": "r", "invoices": []})):
        status, answer, response = call(platform, method, path, payload, headers={"Idempotency-Key": "k-down"})
        assert status == 503 and response.getheader("Retry-After") == "7", (path, status)
        assert answer["error"] == "unavailable" and answer["message"]
    assert issued(platform) == []  # down: nothing was done
    for bad, word in (({"mode": "sideways"}, "mode"), ({"mode": "flaky", "fail_rate": 2}, "fail_rate")):
        status, answer, _ = call(platform, "POST", "/_faults", bad, token=None)
        assert status == 422 and word in answer["details"][0]["message"], answer
    status, answer, _ = call(platform, "POST", "/_faults", raw=b"[1]", token=None)
    assert status == 422 and answer["details"][0]["field"] == "faults"
    assert call(platform, "PUT", "/_faults", {}, token=None)[0] == 405
    assert ok(platform, "GET", "/_faults", token=None)["mode"] == "down"  # a refused change changed nothing
    ok(platform, "POST", "/_faults", {"mode": "ok"}, token=None)
    assert call(platform, "GET", "/v2/health", token=None)[0] == 200


def test_slow_answers_after_acting_so_a_client_that_gives_up_does_not_know(platform):
    from app.platform.client import TransientFailure
    from app.platform.http_client import HttpPlatformClient

    platform.set_faults(mode="slow", delay_ms=500)
    client = HttpPlatformClient(platform.url, TOKEN, timeout=0.15)
    try:
        with pytest.raises(TransientFailure) as lost:
            client.issue("k-slow", pre_issue_body(body(None, None)))
        assert lost.value.outcome_unknown  # the request went out; the platform acted
        assert [k for k, _ in issued(platform)] == ["k-slow"]
        platform.set_faults(mode="ok")
        again = client.issue("k-slow", pre_issue_body(body(None, None)))
        assert issued(platform) == [("k-slow", again["number"])]  # the same key: the first answer, once
    finally:
        client.close()
    platform.set_faults(mode="slow", delay_ms=150)
    status, answer, _ = issue(platform, "k-slow-2")  # a patient caller just waits
    assert status == 201 and answer["key"] == "k-slow-2"


def test_flaky_fails_every_way_in_turn_before_or_after_acting(platform):
    """fail_rate 1: each call fails, the kinds in turn: 500, 502, 503, 504, 429, a dropped connection
    (before, then after acting), a hang (before, then after acting), an answer that is not JSON (after)."""
    platform.set_faults(mode="flaky", fail_rate=1, hang_ms=300, retry_after=2)
    seen: list[tuple[int | str, bool]] = []
    for n in range(10):
        key = f"k-{n}"
        try:
            status, answer, response = issue(platform, key, timeout=2)
        except json.JSONDecodeError:  # a 200 whose body is an HTML page
            seen.append(("garbage", key in dict(issued(platform))))
            continue
        except OSError:  # the connection closed without an answer (at once, or after hanging)
            seen.append(("dropped", key in dict(issued(platform))))
            continue
        assert answer["error"] == "injected"
        assert (response.getheader("Retry-After") == "2") == (status in (429, 503))
        seen.append((status, key in dict(issued(platform))))
    assert seen[:5] == [(500, False), (502, False), (503, False), (504, False), (429, False)]
    assert seen[5:9] == [("dropped", False), ("dropped", True), ("dropped", False), ("dropped", True)]
    assert seen[9] == ("garbage", True)
    assert platform.faults.injected == 10
    assert ok(platform, "GET", "/_faults", token=None)["mode"] == "flaky"  # the hooks are never failed
    platform.set_faults(mode="ok")
    assert [k for k, _ in issued(platform)] == ["k-6", "k-8", "k-9"]


def test_unknown_and_v1_paths_are_404(platform):
    for path in ("/v1/health", "/v1/invoices", "/v1/invoices/batch", "/v1/invoices/k-1", "/", "/nothing"):
        for method in ("GET", "POST"):
            status, answer, _ = call(platform, method, path, {} if method == "POST" else None)
            assert (status, answer["error"]) == (404, "not_found"), (method, path)
            assert answer["message"] and answer["details"] == []
    status, answer, _ = call(platform, "GET", "/v1/health", token=None)
    assert status == 404  # no token needed to learn that v1 is gone
    assert call(platform, "GET", "/v2/nothing")[0] == 404
    assert call(platform, "GET", "/v2/nothing", token=None)[0] == 401  # v2 paths need the token first


def _outward_address() -> str | None:
    """An address of this machine other than loopback, or None when it has none."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        address: str = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_hooks_answer_loopback_callers_only(tmp_path):
    from app.platform.server import PlatformServer

    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no address but loopback: a non-loopback caller cannot be made")
    server = PlatformServer(tmp_path / "p.sqlite3", host="0.0.0.0", token=TOKEN).start()
    try:
        port = int(server.url.rsplit(":", 1)[1])

        class Outside:
            url = f"http://{address}:{port}"

        for method, path, payload in (("POST", "/_faults", {"mode": "down"}), ("GET", "/_faults", None),
                                      ("POST", "/_clock", {"advance_hours": 1}), ("GET", "/_taxpayer", None),
                                      ("POST", "/_buyer", {})):
            status, answer, _ = call(Outside, method, path, payload, token=None)
            assert status == 403 and answer["error"] == "forbidden", (method, path)
        assert ok(server, "GET", "/_faults", token=None)["mode"] == "ok"  # nothing changed
        assert ok(server, "GET", "/_clock", token=None)["offset_seconds"] == 0
        assert call(Outside, "GET", "/v2/health", token=None)[0] == 200  # the protocol itself answers anyone
    finally:
        server.stop()


def test_client_classifies_every_failure_as_the_spec_says(platform):
    from app.platform.client import KeyConflict, Rejected, TransientFailure, Unauthorized
    from app.platform.http_client import HttpPlatformClient

    client = HttpPlatformClient(platform.url, TOKEN, timeout=0.3)
    sent = pre_issue_body(body(None, None))
    first = client.issue("k", sent)
    with pytest.raises(KeyConflict):
        client.issue("k", {**sent, "remarks": "other"})
    with pytest.raises(Rejected) as rejected:
        client.issue("k2", {**sent, "total_tax": "0.01"})
    assert rejected.value.details[0]["field"] == "total_tax"
    with pytest.raises(Unauthorized):
        HttpPlatformClient(platform.url, "bad").invoice_by_number(first["number"])
    platform.set_faults(mode="down", retry_after=3)
    with pytest.raises(TransientFailure) as down:
        client.issue("k3", sent)
    assert down.value.retry_after == 3 and not down.value.outcome_unknown
    platform.set_faults(mode="slow", delay_ms=800)
    with pytest.raises(TransientFailure) as slow:
        client.issue("k4", sent)
    assert slow.value.outcome_unknown  # it timed out after sending: the platform acted
    platform.set_faults(mode="ok")
    numbers = dict(issued(platform))
    assert set(numbers) == {"k", "k4"}
    found = client.invoice_by_number(numbers["k4"])
    assert found is not None and found["key"] == "k4"
    with pytest.raises(TransientFailure) as refused:
        HttpPlatformClient("http://127.0.0.1:9", TOKEN).health()
    assert not refused.value.outcome_unknown
    assert TOKEN not in repr(client)
    client.close()


def _start(tmp_path, *flags: str) -> subprocess.CompletedProcess[str] | tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "app", "platform", "--port", "0", "--db", str(tmp_path / "p.db"), *flags]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    line = child.stdout.readline()
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    if match is None:
        _out, err = child.communicate(timeout=30)
        return subprocess.CompletedProcess(command, child.returncode, line, err)
    return child, match.group(1)


def test_platform_command_flags(tmp_path):
    from app.platform.client import TransientFailure
    from app.platform.http_client import HttpPlatformClient

    for flags, word in ((["--no-batch"], "--no-batch"), (["--fail-rate", "2"], "fail-rate"),
                        (["--result-delay-ms", "-1"], "result-delay-ms"), (["--quota", "12.345"], "quota"),
                        (["--mode", "sideways"], "mode"), (["--taxpayer-type", "huge"], "taxpayer-type")):
        refused = _start(tmp_path, *flags)
        assert isinstance(refused, subprocess.CompletedProcess), flags
        assert refused.returncode == 2 and word in refused.stderr, (flags, refused.stderr)

    started = _start(tmp_path, "--token", "secret-token-abc", "--taxpayer-type", "small", "--quota", "5000.00",
                     "--mode", "down", "--retry-after", "4")
    assert isinstance(started, tuple), started
    child, url = started
    try:
        client = HttpPlatformClient(url, "secret-token-abc")
        with pytest.raises(TransientFailure) as down:
            client.health()
        assert down.value.retry_after == 4
        status, _answer, _ = call(_At(url), "POST", "/_faults", {"mode": "ok"}, token=None)
        assert status == 200
        assert client.health()["status"] == "ok"
        assert client.taxpayer().taxpayer_type == "small"
        assert client.quota().available == Decimal("5000.00")
        client.close()
    finally:
        child.terminate()
        child.wait(10)


class _At:
    """A platform known only by its URL (one started as a child process)."""

    def __init__(self, url: str) -> None:
        self.url = url

"""Nothing the platform's address answers is let in unchecked (issue 14): the shapes an outside harness found,
driven as it found them, with a hostile server on loopback in front of the real reference platform, the real
HttpPlatformClient and the real worker on a real store.

An answer that does not fit what was asked (an acceptance without a proper official number, a result of another
number or key, a look-up that answers something else, a batch's results in another count or order) never marks
an invoice accepted: it stays waiting, with the reason kept, and goes to the real platform again later. A
Retry-After is capped; a slow trickle is cut at a total deadline and an endless body at a size cap; a redirect is
never followed. The reference platform refuses dates no rule allows with 422 naming issued_at.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core import status
from app.platform.client import TransientFailure
from app.platform.http_client import HttpPlatformClient
from app.platform.server import PlatformServer
from app.services.seller import SellerSettings
from app.store.database import Store
from app.store.models import Invoice, UploadBatch, UploadQueueEntry
from app.sync.worker import QueueWorker
from tests.hardening.hostile_server import Call, HostileServer, Reply, endless
from tests.helpers.platform import SYNC_TOKEN, draw_direct_stock, issue_many, make_worker
from tests.sync.support import assert_issued_once_each

# --- the two servers and the desk -------------------------------------------------------------------


@pytest.fixture
def real(tmp_path: Path) -> Iterator[PlatformServer]:
    """The real reference platform, at real time (the desk dates invoices with the real clock)."""
    server = PlatformServer(tmp_path / "platform.sqlite3", token=SYNC_TOKEN, seed=7, result_delay_ms=30).start()
    yield server
    server.stop()


@pytest.fixture
def hostile(real: PlatformServer) -> Iterator[HostileServer]:
    server = HostileServer(real.url).start()
    yield server
    server.stop()


@pytest.fixture
def elsewhere() -> Iterator[HostileServer]:
    """Another host: a redirect's target, which must never be asked anything."""
    server = HostileServer(None).start()
    yield server
    server.stop()


@pytest.fixture
def platform_desk(store: Store, seller: SellerSettings, hostile: HostileServer) -> HostileServer:
    from app.services.settings import set_platform

    set_platform(hostile.url, SYNC_TOKEN)
    return hostile


@pytest.fixture
def direct_desk(store: Store, seller: SellerSettings, hostile: HostileServer) -> HostileServer:
    draw_direct_stock(hostile)  # type: ignore[arg-type]  # only its url is used
    return hostile


def worker_for(server: HostileServer, **options: Any) -> QueueWorker:
    options.setdefault("timeout", 1.0)
    options.setdefault("pass_wait", 0.5)
    return make_worker(server, **options)  # type: ignore[arg-type]


def drain(worker: QueueWorker, until: Callable[[], bool], timeout: float = 15.0) -> None:
    """Passes (as run_forever makes them) until `until()` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the desk did not get there in time"
        worker.run_once()
        time.sleep(0.05)


def rows(numbers: list[str]) -> list[Invoice]:
    return [Invoice.get(Invoice.provisional_number == n) for n in numbers]


def entry_of(number: str) -> UploadQueueEntry:
    return UploadQueueEntry.get(UploadQueueEntry.invoice == Invoice.get(Invoice.provisional_number == number))


def all_accepted(numbers: list[str]) -> Callable[[], bool]:
    return lambda: all(r.status == status.ACCEPTED for r in rows(numbers))


def assert_waiting(numbers: list[str], waiting_status: str) -> None:
    for row in rows(numbers):
        assert row.status == waiting_status, (row.provisional_number, row.status)
        entry = UploadQueueEntry.get(UploadQueueEntry.invoice == row)
        assert entry.state in status.QUEUE_WAITING_STATES, entry.state
    if waiting_status == status.PRE_ISSUE:
        assert all(r.official_number is None for r in rows(numbers))


def tampered(change: Callable[[Any], Any]) -> Callable[[Call], Reply]:
    """The real platform's answer, changed."""

    def answer(call: Call) -> Reply:
        got = call.forward()
        return Reply.json(got.status, change(got.data()))

    return answer


def edit(**fields: Any) -> Callable[[Any], Any]:
    def change(data: Any) -> Any:
        out = dict(data)
        for key, value in fields.items():
            if value is DROP:
                out.pop(key, None)
            else:
                out[key] = value
        return out

    return change


DROP = object()


# --- 1, 2: the platform channel's answer to POST /v2/issue -----------------------------------------


ISSUE_ANSWERS: dict[str, Callable[[Any], Any]] = {
    "number missing": edit(number=DROP),
    "number empty": edit(number=""),
    "number provisional": edit(number="LX-0000001"),
    "number 19 digits": lambda d: {**d, "number": d["number"][:-1]},
    "number full-width digits": lambda d: {**d, "number": d["number"].translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789"})},
    "number as a JSON number": lambda d: {**d, "number": int(d["number"])},
    "number of another year": lambda d: {**d, "number": f"{(int(d['number'][:2]) - 1) % 100:02d}" + d["number"][2:]},
    "number of another area": lambda d: {**d, "number": d["number"][:2] + "12" + d["number"][4:]},
    "key of another invoice": edit(key="someone-elses-key"),
    "key missing": edit(key=DROP),
    "status rejected": edit(status="rejected"),
    "status missing": edit(status=DROP),
    "another seller": lambda d: {**d, "seller": {**d["seller"], "tax_id": "91110000000000000X"}},
    "other totals": edit(total_amount="1.00"),
    "another issued_at": edit(issued_at="2026-01-01T09:00:00+08:00"),
    "accepted_at missing": edit(accepted_at=DROP),
    "a bare key": lambda d: d["key"],
    "a bare number": lambda d: d["number"],
}


@pytest.mark.parametrize("shape", list(ISSUE_ANSWERS))
def test_an_issue_answer_that_does_not_fit_never_makes_an_invoice(platform_desk, real, shape):
    issued = [i.number for i in issue_many(2)]
    platform_desk.script("POST", "/v2/issue", tampered(ISSUE_ANSWERS[shape]))
    worker = worker_for(platform_desk)
    report = worker.run_once()
    assert report.accepted == 0 and report.transient_failures == 1, report
    assert_waiting(issued, status.PRE_ISSUE)
    entry = entry_of(issued[0])
    assert entry.state == status.Q_UNKNOWN  # the platform may hold it: asked again under the same key
    assert "不符合协议" in entry.last_error and "unexpected answer" in entry.last_error, entry.last_error
    platform_desk.clear()
    drain(worker, all_accepted(issued))
    assert_issued_once_each(real, issued)


def test_a_number_the_desk_holds_for_another_invoice_is_not_taken_twice(platform_desk, real):
    issued = [i.number for i in issue_many(2)]
    worker = worker_for(platform_desk)
    first = {"number": ""}

    def same_number_twice(call: Call) -> Reply:
        got = call.forward()
        data = got.data()
        if not first["number"]:
            first["number"] = data["number"]
        return Reply.json(got.status, {**data, "number": first["number"]})

    platform_desk.script("POST", "/v2/issue", same_number_twice)
    report = worker.run_once()
    assert report.accepted == 1, report
    assert rows(issued)[0].official_number == first["number"]
    assert_waiting(issued[1:], status.PRE_ISSUE)
    assert "不符合协议" in entry_of(issued[1]).last_error
    platform_desk.clear()
    drain(worker, all_accepted(issued))
    assert_issued_once_each(real, issued)


@pytest.mark.parametrize("answer", [Reply.json(422, {"detail": "unprocessable"}), Reply.json(422, ["invalid"]),
                                    Reply.json(409, {"detail": "conflict"}), Reply(422, b"<html>422</html>")],
                         ids=["422 another shape", "422 a list", "409 another shape", "422 HTML"])
def test_a_refusal_not_in_the_protocols_shape_is_not_a_rejection(platform_desk, real, answer):
    issued = [i.number for i in issue_many(1)]
    platform_desk.script("POST", "/v2/issue", lambda call: answer)
    worker = worker_for(platform_desk)
    report = worker.run_once()
    assert report.rejected == 0 and report.transient_failures == 1, report
    assert_waiting(issued, status.PRE_ISSUE)
    platform_desk.clear()
    drain(worker, all_accepted(issued))
    assert_issued_once_each(real, issued)


# --- 1, 2, 4: the direct channel's upload results -----------------------------------------------------


def results(change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Callable[[Any], Any]:
    return lambda data: {**data, "results": change([dict(r) for r in data["results"]])}


def first_result(**fields: Any) -> Callable[[Any], Any]:
    return results(lambda rs: [edit(**fields)(rs[0]), *rs[1:]])


RESULT_ANSWERS: dict[str, Callable[[Any], Any]] = {
    "accepted, number missing": first_result(number=DROP),
    "accepted, number null": first_result(number=None),
    "accepted, number malformed": first_result(number="LX-0000001"),
    "accepted, number of the next invoice": results(lambda rs: [{**rs[0], "number": rs[1]["number"]}, *rs[1:]]),
    "accepted, accepted_at missing": first_result(accepted_at=DROP),
    "accepted, accepted_at not a time": first_result(accepted_at="yesterday"),
    "status unknown": first_result(status="ok"),
    "fewer results": results(lambda rs: rs[:-1]),
    "more results": results(lambda rs: [*rs, rs[-1]]),
    "no results": results(lambda rs: []),
    "reordered": results(lambda rs: rs[::-1]),
    "another acceptance id": edit(acceptance_id="SL20260101000000000001"),
    "results not a list": edit(results={"0": "accepted"}),
    "a bare list": lambda data: data["results"],
}


@pytest.mark.parametrize("shape", list(RESULT_ANSWERS))
def test_upload_results_that_do_not_fit_never_accept_an_invoice(direct_desk, real, shape):
    from tests.helpers.platform import platform_numbers

    issued = [i.number for i in issue_many(3)]
    direct_desk.script("GET", "/v2/uploads/", tampered(RESULT_ANSWERS[shape]))
    worker = worker_for(direct_desk, result_wait=0.1)
    report = worker.run_once()
    assert report.accepted == 0 and report.transient_failures >= 1, report
    assert_waiting(issued, status.PENDING_UPLOAD)
    batch = UploadBatch.get()
    assert batch.state == status.B_AWAITING and "不符合协议" in batch.last_error, batch.last_error
    assert "unexpected answer" in entry_of(issued[0]).last_error
    direct_desk.clear()
    drain(worker, all_accepted(issued))
    assert sorted(platform_numbers(real)) == sorted(issued)


UPLOAD_ANSWERS: dict[str, Callable[[Any], Any]] = {
    "another request id": edit(request_id="another"),
    "acceptance id missing": edit(acceptance_id=DROP),
    "acceptance id not text": edit(acceptance_id=12),
    "acceptance id with a path in it": edit(acceptance_id="../../v2/invoices"),
}


@pytest.mark.parametrize("shape", list(UPLOAD_ANSWERS))
def test_an_upload_answer_that_does_not_fit_is_posted_again(direct_desk, real, shape):
    issued = [i.number for i in issue_many(2)]
    direct_desk.script("POST", "/v2/uploads", tampered(UPLOAD_ANSWERS[shape]))
    worker = worker_for(direct_desk)
    report = worker.run_once()
    assert report.accepted == 0 and report.transient_failures == 1, report
    batch = UploadBatch.get()
    assert batch.state == status.B_POSTING and "不符合协议" in batch.last_error
    assert_waiting(issued, status.PENDING_UPLOAD)
    direct_desk.clear()
    drain(worker, all_accepted(issued))
    assert UploadBatch.select().count() == 1  # the same batch, posted again under its request id


# --- 3: look-ups by number after the results expired ----------------------------------------------


def expired(call: Call) -> Reply:
    call.forward()  # the platform checks the upload meanwhile
    return Reply.json(410, {"error": "expired", "message": "过期 (expired)", "details": []})


def record_of_the_other(call: Call) -> Reply:
    """The platform's record of the batch's other invoice, given back for this one."""
    client = HttpPlatformClient(OTHER["url"], SYNC_TOKEN)
    try:
        return Reply.json(200, client.invoice_by_number(OTHER["number"]))
    finally:
        client.close()


LOOKUP_ANSWERS: dict[str, Callable[[Call], Reply]] = {
    "a bare key": lambda call: Reply.json(200, "3f2a9c0d1e"),
    "a bare number": lambda call: Reply.json(200, call.path.rsplit("/", 1)[-1]),
    "a key only": lambda call: Reply.json(200, {"key": "3f2a9c0d1e"}),
    "the record of another number": record_of_the_other,
    "our number, no status": lambda call: Reply.json(200, edit(status=DROP)(call.forward().data())),
    "our number, totals not money": lambda call: Reply.json(200, edit(total_with_tax=1060)(call.forward().data())),
    "our number, no seller": lambda call: Reply.json(200, edit(seller=DROP)(call.forward().data())),
    "a list": lambda call: Reply.json(200, [call.forward().data()]),
    "404 as an HTML page": lambda call: Reply(404, b"<html>not here</html>", {"Content-Type": "text/html"}),
    "404 in another JSON shape": lambda call: Reply.json(404, {"detail": "Not Found"}),
}
OTHER: dict[str, Any] = {}


def due_now() -> None:
    UploadQueueEntry.update(next_try_at=None).execute()
    UploadBatch.update(next_try_at=None).execute()


@pytest.mark.parametrize("shape", list(LOOKUP_ANSWERS))
def test_a_look_up_that_answers_something_else_accepts_nothing(direct_desk, real, shape):
    issued = [i.number for i in issue_many(2)]
    OTHER.update(url=real.url, number=issued[1])
    worker = worker_for(direct_desk, result_wait=0.1)
    direct_desk.script("GET", "/v2/uploads/", expired)  # results gone: each invoice is looked up by number
    direct_desk.script("GET", "/v2/invoices/" + issued[0], LOOKUP_ANSWERS[shape])
    drain(worker, lambda: "look-up failed" in entry_of(issued[0]).last_error or all_accepted(issued[:1])())
    first = rows(issued[:1])[0]
    assert first.status == status.PENDING_UPLOAD and first.official_number in (None, issued[0]), first.status
    entry = entry_of(issued[0])
    assert entry.state == status.Q_LOOKUP, entry.state
    assert entry.last_error.startswith("look-up failed: 平台"), entry.last_error
    assert rows(issued[1:])[0].status == status.ACCEPTED  # the honest look-up of the other one
    direct_desk.clear()
    due_now()
    drain(worker, all_accepted(issued))


# --- 5: Retry-After ----------------------------------------------------------------------------


RETRY_AFTERS = ["1e12", "99999999999999999999", "-5", "soon", "inf", "Infinity", "nan", "1e400", "",
                "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 1900 00:00:00 GMT", "0x10", "3600", "١٢"]


def unavailable(retry_after: str) -> Callable[[Call], Reply]:
    return lambda call: Reply.json(503, {"error": "unavailable", "message": "维护 (maintenance)", "details": []},
                                   {"Retry-After": retry_after})


@pytest.mark.parametrize("value", RETRY_AFTERS)
def test_retry_after_is_capped_on_the_platform_channel(platform_desk, real, value):
    from app.platform.transport import MAX_RETRY_AFTER
    from app.services.queue import seconds_until

    issued = [i.number for i in issue_many(3)]
    platform_desk.script("POST", "/v2/issue", unavailable(value))
    worker = worker_for(platform_desk)
    report = worker.run_once()  # never raises
    assert report.transient_failures == 1 and report.accepted == 0
    for number in issued:
        entry = entry_of(number)
        assert entry.next_try_at is not None
        assert seconds_until(entry.next_try_at) <= MAX_RETRY_AFTER + 1, (value, entry.next_try_at)
    assert "HTTP 503" in entry_of(issued[0]).last_error
    platform_desk.clear()
    due_now()  # no test waits the 5 minutes
    drain(worker, all_accepted(issued))


@pytest.mark.parametrize("value", ["1e12", "inf", "nan", "-1", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_retry_after_is_capped_on_the_direct_channel(direct_desk, real, value):
    from app.platform.transport import MAX_RETRY_AFTER
    from app.services.queue import seconds_until

    issued = [i.number for i in issue_many(2)]
    direct_desk.script("POST", "/v2/uploads", unavailable(value))
    worker = worker_for(direct_desk)
    report = worker.run_once()
    assert report.transient_failures == 1
    batch = UploadBatch.get()
    assert batch.next_try_at is not None and seconds_until(batch.next_try_at) <= MAX_RETRY_AFTER + 1
    direct_desk.clear()
    due_now()
    drain(worker, all_accepted(issued))


def test_parse_retry_after_bounds():
    from app.platform.transport import MAX_RETRY_AFTER, parse_retry_after

    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("1e12") == MAX_RETRY_AFTER
    assert parse_retry_after("inf") == MAX_RETRY_AFTER
    assert parse_retry_after("nan") is None
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT") == MAX_RETRY_AFTER


# --- 6: a slow trickle, an endless body ------------------------------------------------------------


def trickle(call: Call) -> Reply:
    body = json.dumps({"status": "ok", "time": "2026-12-01T10:00:00+08:00", "pad": "x" * 200}).encode()
    return Reply(200, headers={"Content-Type": "application/json", "Content-Length": str(len(body))},
                 chunks=(body[i:i + 1] for i in range(len(body))), pause=0.2)


def header_trickle(call: Call) -> Reply:
    return Reply(200, b"{}", {"Content-Type": "application/json", "X-Pad": "y" * 400}, header_pause=0.1)


@pytest.mark.parametrize("answer", [trickle, header_trickle], ids=["body", "headers"])
def test_a_slow_trickle_is_cut_at_the_total_deadline(hostile, answer):
    hostile.script("GET", "/v2/health", answer)
    client = HttpPlatformClient(hostile.url, SYNC_TOKEN, timeout=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(TransientFailure) as failure:
            client.health()
    finally:
        client.close()
    took = time.monotonic() - started
    assert took < client.deadline + 1.0, took  # each byte came well within the 1 s timeout
    assert "期限" in str(failure.value) and "deadline" in str(failure.value)


def test_a_trickled_issue_answer_leaves_the_record_waiting(platform_desk, real):
    issued = [i.number for i in issue_many(1)]

    def slow_truth(call: Call) -> Reply:
        got = call.forward()
        return Reply(got.status, headers={"Content-Type": "application/json", "Content-Length": str(len(got.body))},
                     chunks=(got.body[i:i + 1] for i in range(len(got.body))), pause=0.1)

    platform_desk.script("POST", "/v2/issue", slow_truth)
    worker = worker_for(platform_desk)
    started = time.monotonic()
    worker.run_once()
    assert time.monotonic() - started < 6
    entry = entry_of(issued[0])
    assert entry.state == status.Q_UNKNOWN and "deadline" in entry.last_error
    platform_desk.clear()
    drain(worker, all_accepted(issued))
    assert_issued_once_each(real, issued)


@pytest.mark.parametrize("length", [None, "10000000000"], ids=["endless", "huge Content-Length"])
def test_an_endless_or_huge_body_is_cut_at_the_size_cap(hostile, length):
    from app.platform.transport import MAX_BODY

    headers = {"Content-Type": "application/json"}
    if length:
        headers["Content-Length"] = length
    hostile.script("GET", "/v2/invoices", lambda call: Reply(200, headers=headers, chunks=endless()))
    client = HttpPlatformClient(hostile.url, SYNC_TOKEN, timeout=5.0)
    started = time.monotonic()
    try:
        with pytest.raises(TransientFailure) as failure:
            client.list_invoices("91110108MA0123456G", "2026-12-01", "2026-12-01")
    finally:
        client.close()
    assert time.monotonic() - started < 10
    assert "过大" in str(failure.value) and "too large" in str(failure.value)
    assert hostile.sent_bytes <= MAX_BODY + 32 * 1024 * 1024  # read no further than the cap (and socket buffers)


def test_a_deeply_nested_or_overlong_answer_is_a_transient_failure(hostile):
    client = HttpPlatformClient(hostile.url, SYNC_TOKEN, timeout=2.0)
    try:
        for raw in (b"[" * 200_000 + b"]" * 200_000, b'{"status": "ok", "n": ' + b"9" * 10_000 + b"}",
                    b'{"status": "ok", "time": NaN}'):
            hostile.script("GET", "/v2/health", lambda call, raw=raw: Reply(200, raw), times=1)
            with pytest.raises(TransientFailure):
                client.health()
    finally:
        client.close()


@pytest.mark.parametrize("headers", [{f"X-Pad-{i}": "1" for i in range(150)}, {"X-Long": "z" * 70_000},
                                     {"Content-Length": "-1"}, {"Transfer-Encoding": "chunked"}],
                         ids=["too many headers", "a header line too long", "negative length", "bad chunks"])
def test_garbled_headers_never_break_a_pass(platform_desk, real, headers):
    issued = [i.number for i in issue_many(2)]
    platform_desk.script("POST", "/v2/issue", lambda call: Reply(201, b"zz\r\n{}", {"Connection": "close",
                                                                                    **headers}))
    worker = worker_for(platform_desk)
    report = worker.run_once()  # never raises
    assert report.transient_failures == 1 and report.accepted == 0, report
    assert_waiting(issued, status.PRE_ISSUE)
    assert entry_of(issued[0]).last_error.startswith(("平台", "连接中断")), entry_of(issued[0]).last_error
    platform_desk.clear()
    due_now()
    drain(worker, all_accepted(issued))
    assert_issued_once_each(real, issued)


# --- 7: redirects --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed(platform_desk, real, elsewhere, code):
    issued = [i.number for i in issue_many(1)]
    platform_desk.script("POST", "/v2/issue", lambda call: Reply.json(
        code, {"number": "26110000000000000099"}, {"Location": elsewhere.url + "/v2/issue"}))
    worker = worker_for(platform_desk)
    worker.run_once()
    assert elsewhere.requests == []
    assert_waiting(issued, status.PRE_ISSUE)
    entry = entry_of(issued[0])
    assert "重定向" in entry.last_error and "redirect" in entry.last_error, entry.last_error
    platform_desk.clear()
    drain(worker, all_accepted(issued))
    assert elsewhere.requests == []


# --- the reference platform: dates no rule allows ---------------------------------------------------


OUT_OF_RANGE = ["0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-08:00",
                "9999-12-31T23:59:59+08:00", "1999-12-31T10:00:00+08:00", "2001-01-01T10:00:00+08:00"]


def in_days(days: float) -> str:
    from app.core.clock import BEIJING

    return (datetime.now(BEIJING) + timedelta(days=days)).isoformat(timespec="seconds")


@pytest.mark.parametrize("issued_at", [*OUT_OF_RANGE, "far future", "far past"])
def test_the_platform_refuses_an_invoice_dated_outside_its_rules(real, issued_at):
    from tests.platform_v2.support import body, call

    issued_at = {"far future": in_days(400), "far past": in_days(-400)}.get(issued_at, issued_at)
    sent = body(None, "2026-12-01T09:30:00+08:00")
    sent["issued_at"] = issued_at
    got, answer, _ = call(real, "POST", "/v2/issue", sent, headers={"Idempotency-Key": "k-" + issued_at})
    assert got == 422, (got, answer)
    assert "issued_at" in [d["field"] for d in answer["details"]], answer
    # The same date uploaded on the direct channel: rejected naming issued_at (or its number), and the platform
    # keeps serving (a date it cannot place never poisons the checks of later requests).
    grant_status, grant, _ = call(real, "POST", "/v2/number-blocks", {"request_id": "b1", "count": 1})
    assert grant_status == 201, grant
    up = body(grant["first"], "2026-12-01T09:30:00+08:00")
    up["issued_at"] = issued_at
    got, answer, _ = call(real, "POST", "/v2/uploads", {"request_id": "u-" + issued_at, "invoices": [up]})
    assert got == 202, answer
    deadline = time.monotonic() + 5
    while True:
        got, answer, _ = call(real, "GET", f"/v2/uploads/{answer['acceptance_id']}")
        assert got == 200, answer
        if answer["results"][0]["status"] != "processing" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    result = answer["results"][0]
    assert result["status"] == "rejected", result
    assert {d["field"] for d in result["details"]} & {"issued_at", "number"}, result
    assert call(real, "GET", "/v2/health")[0] == 200

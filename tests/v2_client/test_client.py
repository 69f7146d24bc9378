"""The desk's protocol v2 client against the reference platform over loopback, and against answers
that do not fit what was asked (a stub server on loopback that lies): never believed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.platform.client import KeyConflict, QuotaExceeded, Rejected, ResultsExpired, TransientFailure
from app.platform.http_client import HttpPlatformClient
from app.platform.server import PlatformServer
from tests.helpers.platform import SYNC_TOKEN
from tests.platform_v2.support import body, set_clock


@pytest.fixture
def client(v2: PlatformServer) -> Iterator[HttpPlatformClient]:
    made = HttpPlatformClient(v2.url, SYNC_TOKEN)
    yield made
    made.close()


def _results(client: HttpPlatformClient, acceptance: str, numbers: list[str]):
    for _ in range(100):
        results = client.upload_results(acceptance, numbers)
        if all(r.status != "processing" for r in results):
            return results
        time.sleep(0.02)
    raise AssertionError("results never came")


def test_blocks_quota_upload_and_results(client, v2):
    taxpayer = client.taxpayer()
    assert taxpayer.may_issue and taxpayer.tax_id == "91110108MA0123456G"
    grant = client.draw_numbers("blk-1", 10)
    assert (grant.count, grant.year) == (10, 2026) and grant.first.startswith("26112")
    assert client.draw_numbers("blk-1", 10) == grant  # a lost answer asked again: the same block
    with pytest.raises(KeyConflict):
        client.draw_numbers("blk-1", 20)
    before = client.quota()
    quota = client.change_quota("q-1", "download", Decimal("5000.00"))
    assert quota.downloaded_unused == Decimal("5000.00") and quota.valid_from.isoformat() == "2026-12-01"
    assert client.quota().available == before.available - Decimal("5000.00")
    with pytest.raises(QuotaExceeded):
        client.change_quota("q-2", "download", before.available)
    numbers = [f"{grant.first[:5]}{int(grant.first[5:]) + i:015d}" for i in range(3)]
    acceptance = client.upload("up-1", [body(n) for n in numbers])
    assert client.upload("up-1", [body(n) for n in numbers]) == acceptance
    results = _results(client, acceptance, numbers)
    assert [r.status for r in results] == ["accepted"] * 3 and all(r.is_accepted for r in results)
    again = client.upload("up-2", [body(numbers[0])])
    assert [r.status for r in _results(client, again, numbers[:1])] == ["duplicate"]
    record = client.invoice_by_number(numbers[1])
    assert record is not None and record["number"] == numbers[1]
    assert client.invoice_by_number("26112000000000999999") is None
    set_clock(v2, advance_hours=13)
    with pytest.raises(ResultsExpired):
        client.upload_results(acceptance, numbers)


def test_the_platform_channel_and_the_month(client, v2):
    issued = client.issue("k-1", body(None))
    assert issued["number"][4] == "0" and client.issue("k-1", body(None))["number"] == issued["number"]
    with pytest.raises(KeyConflict):
        client.issue("k-1", body(None, remarks="x"))
    wrong = {**body(None), "total_with_tax": "1.00"}
    with pytest.raises(Rejected) as refused:
        client.issue("k-2", wrong)
    assert any(d.get("field") == "total_with_tax" for d in refused.value.details)
    set_clock(v2, now="2027-01-02T10:00:00+08:00")  # a month is confirmed once it has ended
    answer = client.confirm_month("202612", 0, Decimal("0"), Decimal("0"))
    assert not answer.confirmed and answer.platform is not None and answer.platform["count"] == 1
    assert client.confirm_month("202612", 1, Decimal("1000.00"), Decimal("60.00")).confirmed
    client.withdraw_month("202612")


# --- a platform that lies ---------------------------------------------------------------------------

class _Liar(BaseHTTPRequestHandler):
    answers: dict[str, tuple[int, Any]] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, payload = self.answers.get(self.path.split("?")[0], (404, {"error": "not_found"}))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


@pytest.fixture
def liar() -> Iterator[tuple[HttpPlatformClient, dict[str, tuple[int, Any]]]]:
    answers: dict[str, tuple[int, Any]] = {}
    handler = type("Liar", (_Liar,), {"answers": answers})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    made = HttpPlatformClient(f"http://127.0.0.1:{server.server_address[1]}", "t")
    yield made, answers
    made.close()
    server.shutdown()
    server.server_close()


N1, N2 = "26112000000000000001", "26112000000000000002"


@pytest.mark.parametrize("answer", [
    {"request_id": "other", "first": N1, "last": N2, "count": 2, "year": 2026},  # another request's block
    {"request_id": "r", "first": N1, "last": N1, "count": 2, "year": 2026},  # count does not match the run
    {"request_id": "r", "first": N1, "last": "26112000000000000003", "count": 2, "year": 2026},
    {"request_id": "r", "first": "26110000000000000001", "last": "26110000000000000002", "count": 2, "year": 2026},
    {"request_id": "r", "first": N1, "last": N2, "count": 2, "year": 2025},
    {"request_id": "r", "first": "x", "last": N2, "count": 2, "year": 2026},
])
def test_a_block_that_does_not_fit_is_not_believed(liar, answer):
    client, answers = liar
    answers["/v2/number-blocks"] = (201, answer)
    with pytest.raises(TransientFailure) as failed:
        client.draw_numbers("r", 2)
    assert failed.value.outcome_unknown


@pytest.mark.parametrize("results", [
    [{"number": N1, "status": "accepted", "accepted_at": "2026-12-01T10:00:00+08:00"}],  # fewer than sent
    [{"number": N2, "status": "accepted", "accepted_at": "2026-12-01T10:00:00+08:00"},
     {"number": N1, "status": "accepted", "accepted_at": "2026-12-01T10:00:00+08:00"}],  # another order
    [{"number": N1, "status": "accepted"}, {"number": N2, "status": "accepted"}],  # no acceptance time
    [{"number": N1, "status": "ok", "accepted_at": "2026-12-01T10:00:00+08:00"},
     {"number": N2, "status": "accepted", "accepted_at": "2026-12-01T10:00:00+08:00"}],
    "accepted",
])
def test_results_that_do_not_match_what_was_sent_are_not_believed(liar, results):
    client, answers = liar
    answers["/v2/uploads/A-1"] = (200, {"acceptance_id": "A-1", "results": results})
    with pytest.raises(TransientFailure):
        client.upload_results("A-1", [N1, N2])
    answers["/v2/uploads/A-1"] = (200, {"acceptance_id": "A-2", "results": []})
    with pytest.raises(TransientFailure):
        client.upload_results("A-1", [N1, N2])


def test_other_answers_that_do_not_fit(liar):
    client, answers = liar
    answers["/v2/uploads"] = (202, {"request_id": "other", "acceptance_id": "A-1"})
    with pytest.raises(TransientFailure):
        client.upload("r", [{"number": N1}])
    answers[f"/v2/invoices/{N1}"] = (200, {"number": N2, "status": "accepted"})
    with pytest.raises(TransientFailure):
        client.invoice_by_number(N1)
    answers["/v2/quota"] = (200, {"request_id": "r", "valid_from": "2026-12-31", "valid_to": "2026-12-01",
                                  "downloaded_unused": "1.00"})
    with pytest.raises(TransientFailure):
        client.change_quota("r", "download", Decimal("1"))
    answers["/v2/issue"] = (201, {"number": "LX-1", "total_with_tax": "1060.00"})
    with pytest.raises(TransientFailure):
        client.issue("k", {"total_with_tax": "1060.00", "seller": {"tax_id": "x"}})
    answers["/v2/taxpayer"] = (200, {"tax_id": "x", "status": 3})
    with pytest.raises(TransientFailure):
        client.taxpayer()

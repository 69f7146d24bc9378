"""The client believes a red-letter form only when it fits what was asked: a real form from the reference
platform is accepted as is; the same answer altered one field at a time, served by a loopback server that
lies, is a TransientFailure (asked again later under the same request id), never a form."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.platform.client import Rejected, TransientFailure
from app.platform.http_client import HttpPlatformClient
from tests.red_forms.support import accepted_blue

SENT = [{"original_line_no": 1, "quantity": "-2", "amount": "-1000.00", "tax": "-60.00"}]


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
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Liar", (_Liar,), {"answers": answers}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    made = HttpPlatformClient(f"http://127.0.0.1:{server.server_address[1]}", "t")
    yield made, answers
    made.close()
    server.shutdown()
    server.server_close()


@pytest.fixture
def real_form(online, client) -> dict[str, Any]:
    blue = accepted_blue(online)
    form = client.raise_red_form("rf-real", blue, "01", SENT)
    assert form.status == "01" and form.request_id == "rf-real"
    assert client.red_form(form.uuid) == client.red_forms()[0]
    assert client.red_form("no-such-form") is None
    with pytest.raises(Rejected):
        client.decide_red_form(form.uuid, "d-1", "agree")  # not a 03 form
    answer: dict[str, Any] = json.loads(online.v2_store.all("SELECT answer FROM v2_red_form")[0]["answer"])
    return answer


def _altered(form: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(form)
    target: Any = changed
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = value
    return changed


ALTERATIONS = [
    ("request_id", "rf-other"), ("original_number", "26110000000000000999"), ("reason", "02"),
    ("status", "11"), ("status", "03"), ("status", "04"), ("raised_by", "buyer"), ("uuid", ""), ("form_number", "123"),
    ("total_amount", "-999.00"), ("total_tax", "-61.00"), ("lines.0.amount", "-999.99"), ("lines.0.tax", "1.00"),
    ("lines.0.original_line_no", 2), ("lines", []), ("created_at", "yesterday"), ("red_number", "LX-0000001"),
    ("uuid", KeyError),
]


@pytest.mark.parametrize(("path", "value"), ALTERATIONS)
def test_a_raised_form_that_does_not_fit_is_not_believed(real_form, liar, path, value):
    client, answers = liar
    answers["/v2/red-forms"] = (201, real_form)
    assert client.raise_red_form("rf-real", real_form["original_number"], "01", SENT).uuid == real_form["uuid"]
    answers["/v2/red-forms"] = (201, _altered(real_form, path, value))
    with pytest.raises(TransientFailure):
        client.raise_red_form("rf-real", real_form["original_number"], "01", SENT)


def test_read_and_decided_forms_that_do_not_fit_are_not_believed(real_form, liar):
    client, answers = liar
    form_uuid = real_form["uuid"]
    answers["/v2/red-forms"] = (200, {"items": [real_form, _altered(real_form, "total_tax", "5.00")]})
    with pytest.raises(TransientFailure):
        client.red_forms()
    answers[f"/v2/red-forms/{form_uuid}"] = (200, _altered(real_form, "uuid", "another"))
    with pytest.raises(TransientFailure):
        client.red_form(form_uuid)
    waiting = _altered(real_form, "status", "02")  # waiting without its 72-hour deadline
    answers[f"/v2/red-forms/{form_uuid}"] = (200, waiting)
    with pytest.raises(TransientFailure):
        client.red_form(form_uuid)
    # A decision answered with a state it cannot leave: revoke must end in 08 or 09.
    answers[f"/v2/red-forms/{form_uuid}/decision"] = (200, real_form)
    with pytest.raises(TransientFailure):
        client.decide_red_form(form_uuid, "d-1", "revoke")
    answers[f"/v2/red-forms/{form_uuid}/decision"] = (200, _altered(real_form, "status", "08"))
    assert client.decide_red_form(form_uuid, "d-1", "revoke").status == "08"

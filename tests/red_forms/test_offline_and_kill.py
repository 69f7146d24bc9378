"""Offline, a form cannot be raised (the platform decides whether the buyer must confirm): the desk records the
request with its request id and sends it, in the order recorded, when the platform is back (the daily round,
app/sync/housekeeping.py), then tells the clerk. A SIGKILL while sending leaves one form, not two."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from app.services import red_forms
from app.services.settings import make_client
from app.store.models import AuditEntry, RedLetterForm
from app.store.red_forms import KNOWN, REQUESTED
from app.sync.housekeeping import Housekeeping
from tests.helpers.cli import ROOT, run_cli, token_file_args
from tests.helpers.platform import SYNC_TOKEN
from tests.red_forms.support import accepted_blue


def test_requests_recorded_offline_are_sent_in_order_once_the_platform_is_back(online, client):
    first_blue, second_blue = accepted_blue(online), accepted_blue(online)
    online.set_faults(mode="down")
    first = red_forms.raise_form(first_blue, "01", client=client)
    second = red_forms.raise_form(second_blue, "04", [{"original_line_no": 1, "amount": "100"}], client=client)
    assert not first.sent and not second.sent and "已记录" in first.message_zh
    assert [f.state for f in (first.form, second.form)] == [REQUESTED, REQUESTED]
    assert online.v2_store.all("SELECT uuid FROM v2_red_form") == []
    # Still down: the round sends nothing and keeps the order.
    down_round = Housekeeping(make_client).run_once()
    assert "red_forms" not in down_round.done
    assert [r.state for r in RedLetterForm.select().order_by(RedLetterForm.id)] == [REQUESTED, REQUESTED]

    online.set_faults(mode="ok")
    report = Housekeeping(make_client).run_once()
    assert "red_forms" in report.done, report
    rows = list(RedLetterForm.select().order_by(RedLetterForm.id))
    assert [(r.state, r.status) for r in rows] == [(KNOWN, "01"), (KNOWN, "01")]
    held = online.v2_store.all("SELECT request_id, original_number FROM v2_red_form ORDER BY form_number")
    assert [(h["request_id"], h["original_number"]) for h in held] == [(r.request_id, r.original_number)
                                                                       for r in rows]  # in the order recorded
    assert len(report.messages) == 2 and all(rows[0].form_number in m or rows[1].form_number in m
                                             for m in report.messages)
    told = red_forms.pending_messages()
    assert [f.id for f in told] == [r.id for r in rows] and red_forms.pending_messages() == []
    assert AuditEntry.select().where(AuditEntry.action == "red_form_raised").count() == 2


def desk_forms(store) -> list[tuple[str | None, str]]:
    store.db.close()
    rows = [(r.uuid, r.state) for r in RedLetterForm.select()]
    store.db.close()
    return rows


def test_a_sigkill_while_sending_leaves_one_form_not_two(online, store, data_dir):
    blue = accepted_blue(online)
    store.db.close()  # the child owns the store while it runs
    online.set_faults(mode="slow", delay_ms=4000)  # the platform acts, then answers 4 s later
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    child = subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data_dir), "red-form", "raise", blue,
                              "--reason", "01", "--full", "--url", online.url, *token_file_args(SYNC_TOKEN),
                              "--timeout", "30"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not online.v2_store.all("SELECT uuid FROM v2_red_form"):
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    held = online.v2_store.all("SELECT uuid, request_id FROM v2_red_form")
    assert len(held) == 1  # the platform made the form...
    assert desk_forms(store) == [(None, REQUESTED)]  # ...and the desk never heard: its request stands

    online.set_faults(mode="ok")
    result = run_cli(data_dir, "red-form", "list", "--url", online.url, *token_file_args(SYNC_TOKEN))
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert held[0]["uuid"] in result.stdout and "通知" in result.stdout
    assert len(online.v2_store.all("SELECT uuid FROM v2_red_form")) == 1  # sent again: the same form
    assert desk_forms(store) == [(held[0]["uuid"], KNOWN)]
    store.db.connect()
    assert RedLetterForm.get().request_id == held[0]["request_id"]

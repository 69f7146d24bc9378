"""The command line of the two channels: month-close and reissue, in a child process on the real store."""

from __future__ import annotations

import json

from app.core import status
from app.services.issuing import issue_invoice
from app.store.models import Invoice
from tests.helpers.bodies import invoice_body
from tests.helpers.cli import run_cli
from tests.helpers.platform import make_worker
from tests.platform_v2.support import set_clock


def test_month_close_refuses_a_month_not_ended_and_a_bad_period(direct, data_dir, store):
    store.close()
    bad = run_cli(data_dir, "month-close", "--period", "2026-11")
    assert bad.returncode == 2 and "所属期" in bad.stderr and "YYYYMM" in bad.stderr
    current = run_cli(data_dir, "month-close", "--period", "209912")
    assert current.returncode == 2 and "尚未结束" in current.stderr


def test_month_close_says_what_waits_and_then_confirms(direct, data_dir, store):
    # Last month has an invoice the platform has not answered yet: dated there by the clerk's record.
    from app.core import clock
    from app.core.deadlines import period_of, previous_period

    last = previous_period(period_of(clock.now()))
    row_id = issue_invoice(invoice_body()).id
    Invoice.update(issued_date=f"{last[:4]}-{last[4:]}-28").where(Invoice.id == row_id).execute()
    store.close()
    waiting = run_cli(data_dir, "month-close", "--json")
    assert waiting.returncode == 3, waiting.stderr
    answer = json.loads(waiting.stdout)
    assert answer["period"] == last and answer["state"] == "waiting" and answer["waiting"] == 1


def test_reissue_on_the_command_line(direct, data_dir, store):
    issued = issue_invoice(invoice_body())
    set_clock(direct, advance_hours=49)
    make_worker(direct).run_once()
    assert Invoice.get().status == status.UPLOAD_TOO_LATE
    store.close()
    done = run_cli(data_dir, "reissue", issued.number, "--clerk", "wang")
    assert done.returncode == 0, done.stderr
    assert issued.number in done.stdout
    again = run_cli(data_dir, "reissue", issued.number)
    assert again.returncode == 2 and "已重新开具" in again.stderr
    missing = run_cli(data_dir, "reissue", "LX-9999999")
    assert missing.returncode == 2 and "LX-9999999" in missing.stderr

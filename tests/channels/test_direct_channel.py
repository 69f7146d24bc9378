"""The direct channel end to end: invoices issued offline from the desk's own block and quota, uploaded
once the platform is back, each accepted once, numbers contiguous, quota drawn exactly, the month confirmed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from app.core import clock, status
from app.core.deadlines import next_period, period_of
from app.core.official_numbers import parse_number
from app.services import months, stock
from app.services.issuing import issue_invoices
from app.store.models import Invoice, UploadQueueEntry
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import make_worker
from tests.platform_v2.support import quota, set_clock


def _sequence(number: str) -> int:
    parts = parse_number(number)
    assert parts is not None, number
    return parts.sequence


def _platform_numbers(platform) -> list[str]:
    return [r["number"] for r in platform.v2_store.all("SELECT number FROM v2_invoice ORDER BY number")]


def test_two_hundred_invoices_issued_offline_are_each_accepted_once_and_the_month_confirmed(direct, client):
    direct.set_faults(mode="down")  # the platform is down all day: the desk issues all the same
    issued = []
    for start in range(0, 200, 50):
        issued += issue_invoices([invoice_body(remarks=f"#{i}") for i in range(start, start + 50)])
    numbers = [i.number for i in issued]
    sequences = [_sequence(n) for n in numbers]
    assert sequences == list(range(sequences[0], sequences[0] + 200))  # gap-free, in order
    rows = list(Invoice.select().order_by(Invoice.id))
    assert {r.status for r in rows} == {status.PENDING_UPLOAD} and all(r.official_number == r.provisional_number
                                                                       for r in rows)
    view = stock.stock_view()
    assert view.numbers_left == 800 and view.quota_drawn == Decimal("200000.00")  # 200 × 1,000.00 excluding tax

    worker = make_worker(direct)
    report = worker.run_once()
    assert report.transient_failures == 1 and report.accepted == 0  # still down

    direct.set_faults(mode="ok")
    report = worker.run_once()
    assert report.accepted == 200 and report.rejected == 0, report
    assert sorted(_platform_numbers(direct)) == sorted(numbers)  # each held once
    assert {r.status for r in Invoice.select()} == {status.ACCEPTED}
    assert {e.state for e in UploadQueueEntry.select()} == {status.Q_ACCEPTED}
    held = quota(direct)
    assert Decimal(held["downloaded"]) == Decimal("300000.00")
    assert Decimal(held["downloaded_unused"]) == Decimal("100000.00")  # the platform drew exactly what the desk did

    # Next month the month is confirmed with the platform's figures.
    period = period_of(clock.now())
    set_clock(direct, advance_hours=24 * 32)
    later = clock.now() + timedelta(days=32)
    assert period_of(later) == next_period(period)
    result = months.confirm(client, period, at=later)
    assert result.state == months.CONFIRMED, result
    assert result.figures.count == 200 and result.figures.total_amount == Decimal("200000.00")
    summary = months.summary(period)
    assert summary is not None and summary.state == months.CONFIRMED


ISSUER = r"""
import sys
from app.services.store_access import open_store
from app.services.issuing import issue_invoice
open_store(sys.argv[1])
body = {"buyer": {"name": "并发测试客户有限公司"}, "lines": [
    {"tax_code": "3040201010000000000", "item_name": "软件开发", "quantity": "1", "unit_price": "10",
     "tax_rate": "0.06"}]}
for _ in range(int(sys.argv[2])):
    print(issue_invoice(body).number, flush=True)
"""


def test_two_instances_on_one_store_take_the_blocks_numbers_once_each_without_gaps(direct, data_dir, store):
    import subprocess
    import sys

    from tests.helpers.cli import ROOT

    first = stock.stock_view().next_number
    store.close()
    children = [subprocess.Popen([sys.executable, "-c", ISSUER, str(data_dir), "40"], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (_out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    printed = sorted(n for out, _ in outputs for n in out.split())
    assert first is not None
    start = _sequence(first)
    assert [_sequence(n) for n in printed] == list(range(start, start + 80))
    from app.services.store_access import open_store

    again = open_store(data_dir)
    try:
        assert stock.stock_view().quota_drawn == Decimal("800.00")
        assert sorted(r.provisional_number for r in Invoice.select()) == printed
    finally:
        again.close()

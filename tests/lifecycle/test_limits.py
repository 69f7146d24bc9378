"""Offline limits block and release as set, through the issue service itself."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import IO

import pytest

from app.core import status
from app.core.clock import BEIJING, now, shifted
from app.core.errors import ValidationFailed
from app.core.limits import OfflineLimits
from app.services.issuing import issue_invoice, issue_invoices
from app.services.lifecycle import cancel_invoice, record_acceptance_here
from app.services.limits import (
    OfflineLimitReached,
    current_remaining,
    current_usage,
    is_overdue,
    overdue_invoices,
    set_limits,
    upload_deadline,
)
from app.store.models import Invoice, UploadQueueEntry
from tests.helpers.bodies import SOFTWARE, invoice_body
from tests.helpers.cli import run_cli


def _read(stream: IO[str] | None) -> str:
    assert stream is not None
    return stream.read()


def upload_all(start: int = 1) -> None:
    """Every held invoice accepted, as after the queue is uploaded."""
    for n, entry in enumerate(UploadQueueEntry.select().where(UploadQueueEntry.state == status.Q_PENDING), start):
        record_acceptance_here(entry, {"official_number": f"2611000000000000{n:04d}"})


def priced(amount: str) -> dict:
    return invoice_body(lines=[{"tax_code": SOFTWARE, "item_name": "软件开发", "quantity": "1",
                                "unit_price": amount, "tax_rate": "0.06"}])


def test_count_limit_blocks_then_releases_after_upload(seller):
    set_limits(OfflineLimits(max_hours=72, max_count=5, max_amount=Decimal("1000000"), max_single=Decimal("100000")))
    issue_invoices([invoice_body()] * 3)
    assert current_remaining().count == 2 and not current_remaining().warnings
    issue_invoice(invoice_body())
    left = current_remaining()
    assert left.count == 1 and [w.field for w in left.warnings] == ["offline_limits.max_count"]  # 4/5 = 80 %
    with pytest.raises(OfflineLimitReached) as caught:  # two more would pass it: nothing stored
        issue_invoices([invoice_body(), invoice_body()])
    assert caught.value.errors[0].field == "offline_limits.max_count" and "离线发票张数上限" in caught.value.describe()
    assert Invoice.select().count() == 4
    issue_invoice(invoice_body())
    assert current_remaining().blocked
    with pytest.raises(OfflineLimitReached, match="5 张"):
        issue_invoice(invoice_body())
    # A cancelled invoice is not held any more.
    cancel_invoice("LX-0000005", "重复")
    assert issue_invoice(invoice_body()).number == "LX-0000006"
    upload_all()
    assert current_usage().count == 0 and current_remaining().hours is None
    assert issue_invoice(invoice_body()).number == "LX-0000007"


def test_amount_and_single_limits(seller):
    set_limits(OfflineLimits(max_hours=72, max_count=100, max_amount=Decimal("2500.00"), max_single=Decimal("1000.00")))
    with pytest.raises(OfflineLimitReached) as caught:
        issue_invoice(priced("1000.01"))
    assert caught.value.errors[0].field == "total_amount" and "单张发票开票限额" in caught.value.errors[0].message_zh
    issue_invoice(priced("1000.00"))  # exactly the single limit is allowed
    issue_invoice(priced("1000.00"))
    assert current_usage().amount == Decimal("2000.00")
    assert current_remaining().amount == Decimal("500.00")
    with pytest.raises(OfflineLimitReached) as caught:
        issue_invoice(priced("500.01"))
    assert caught.value.errors[0].field == "offline_limits.max_amount"
    issue_invoice(priced("500.00"))
    assert current_remaining().blocked
    upload_all()
    issue_invoice(priced("900.00"))


def test_time_limit_counts_from_the_oldest_held_invoice(seller):
    set_limits(OfflineLimits(max_hours=24, max_count=100, max_amount=Decimal("1000000"), max_single=Decimal("100000")))
    with shifted(now() - timedelta(hours=20)):
        number = issue_invoice(invoice_body()).number
    left = current_remaining()
    assert left.hours is not None and Decimal("3.9") <= left.hours <= Decimal("4.0")
    assert [w.field for w in left.warnings] == ["offline_limits.max_hours"]
    row = Invoice.get(Invoice.provisional_number == number)
    deadline = upload_deadline(row.issued_at)
    assert deadline == datetime.fromisoformat(row.issued_at) + timedelta(hours=24)
    assert not is_overdue(row.status, row.issued_at)
    later = now() + timedelta(hours=5)
    assert is_overdue(row.status, row.issued_at, at=later)
    assert [r.provisional_number for r in overdue_invoices(at=later)] == [number]
    assert current_remaining(later).blocked
    # Not blocked yet (the oldest is 20 h old); one issued 25 h ago (on the clock of then) is the oldest now.
    with shifted(now() - timedelta(hours=25)):
        issue_invoice(invoice_body())
    with pytest.raises(OfflineLimitReached) as caught:
        issue_invoice(invoice_body())
    assert caught.value.errors[0].field == "offline_limits.max_hours" and "离线开票时限" in caught.value.describe()
    upload_all()
    assert issue_invoice(invoice_body()).number


def test_cli_limits_set_show_and_refuse(seller, data_dir, store):
    store.close()
    bad = run_cli(data_dir, "limits", "--max-count", "zero")
    assert bad.returncode == 2 and "离线发票张数上限" in bad.stderr
    done = run_cli(data_dir, "limits", "--max-count", "1", "--max-single", "5000")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["limits"]["max_count"] == 1 and shown["limits"]["max_single"] == "5000.00"
    assert shown["limits"]["max_hours"] == 48  # the default is the ceiling (app/core/limits.MAX_OFFLINE_HOURS)
    path = data_dir / "draft.json"
    path.write_text(json.dumps(invoice_body(), ensure_ascii=False), encoding="utf-8")
    assert run_cli(data_dir, "issue", str(path)).returncode == 0
    refused = run_cli(data_dir, "issue", str(path))
    assert refused.returncode == 2 and "离线发票张数上限" in refused.stderr
    shown = json.loads(run_cli(data_dir, "limits").stdout)
    assert shown["held"]["count"] == 1 and shown["exceeded"]


def test_two_instances_started_together_take_the_last_slot_once(seller, data_dir, store):
    """Two processes issue on one store with one slot left. (They start together but need not overlap in
    the transaction; the check sits inside the IMMEDIATE transaction, so when they do, the second waits.)"""
    import subprocess
    import sys

    from tests.helpers.cli import ROOT

    set_limits(OfflineLimits(max_hours=48, max_count=3, max_amount=Decimal("1000000"), max_single=Decimal("100000")))
    issue_invoices([invoice_body()] * 2)
    store.close()
    path = data_dir / "draft.json"
    path.write_text(json.dumps(invoice_body(), ensure_ascii=False), encoding="utf-8")
    racers = [subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data_dir), "issue", str(path)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
              for _ in range(2)]
    results = sorted((p.wait(timeout=120), _read(p.stdout), _read(p.stderr)) for p in racers)
    assert [code for code, _, _ in results] == [0, 2], results
    assert results[0][1].split("\t")[0].strip() == "LX-0000003" and "离线发票张数上限" in results[1][2]
    assert "预开单" in results[0][1]  # the platform channel: a pre-issue record, not an invoice


def test_the_oldest_held_invoice_is_found_whatever_offset_its_time_was_typed_in(seller):
    with shifted(now() - timedelta(minutes=150)):
        issue_invoice(invoice_body())
    # Typed in +09:00, 3 hours ago by the clock of then: older, yet as text it sorts after the Beijing time of
    # 2.5 hours ago.
    tokyo = (now() - timedelta(hours=3)).astimezone(timezone(timedelta(hours=9)))
    with shifted(tokyo):
        issue_invoice(invoice_body(issued_at=tokyo.isoformat()))
    assert current_usage().oldest_issued_at == tokyo


def test_a_body_cannot_date_its_invoice_in_the_past(seller):
    """The date of issue is the desk's clock: a body may be a few minutes old, never another day (nor year 1)."""
    assert issue_invoice(invoice_body(issued_at=(now() - timedelta(minutes=4)).isoformat())).number
    before = Invoice.select().count()
    for moment in (now() - timedelta(minutes=6), now() - timedelta(days=1), datetime(1, 1, 2, tzinfo=BEIJING)):
        with pytest.raises(ValidationFailed) as caught:
            issue_invoice(invoice_body(issued_at=moment.isoformat()))
        assert caught.value.errors[0].field == "issued_at" and "本机时钟" in caught.value.errors[0].message_zh
    assert Invoice.select().count() == before

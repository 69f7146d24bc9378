"""The seller's status and risk from GET /v2/taxpayer: a blocked taxpayer cannot issue, and says why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.clock import now
from app.platform.client import TransientFailure
from app.services import taxpayer
from app.services.issuing import issue_invoice
from app.services.settings import make_client
from app.store.models import AuditEntry, Invoice
from tests.helpers.bodies import invoice_body
from tests.helpers.cli import run_cli
from tests.platform_v2.support import ok


def _refresh():
    client = make_client()
    try:
        return taxpayer.refresh(client)
    finally:
        client.close()


def test_a_normal_taxpayer_issues_and_a_blocked_one_is_refused_with_the_reason(desk):
    assert taxpayer.due()  # never asked: the desk issues (offline first) and asks when it can
    issue_invoice(invoice_body())
    state = _refresh()
    assert state.may_issue and state.status == "03" and not taxpayer.due()
    issue_invoice(invoice_body())
    ok(desk, "POST", "/_taxpayer", {"risk": "blocked"}, token=None)
    assert not _refresh().may_issue
    count = Invoice.select().count()
    with pytest.raises(taxpayer.TaxpayerBlocked) as refused:
        issue_invoice(invoice_body())
    assert "高风险" in refused.value.message_zh and "high risk" in refused.value.message_en
    assert Invoice.select().count() == count  # nothing written
    ok(desk, "POST", "/_taxpayer", {"risk": "none", "status": "05"}, token=None)
    with pytest.raises(taxpayer.TaxpayerBlocked) as refused:
        _refresh()
        issue_invoice(invoice_body())
    assert "05" in refused.value.message_zh
    ok(desk, "POST", "/_taxpayer", {"status": "03"}, token=None)
    _refresh()
    issue_invoice(invoice_body())
    # Every change of status is in the history; a daily answer that says the same adds nothing.
    changes = AuditEntry.select().where((AuditEntry.action == "setting_changed")
                                        & AuditEntry.detail.contains('"taxpayer"')).count()
    _refresh()
    assert AuditEntry.select().where((AuditEntry.action == "setting_changed")
                                     & AuditEntry.detail.contains('"taxpayer"')).count() == changes == 4


def test_an_answer_for_another_taxpayer_is_not_believed(desk):
    ok(desk, "POST", "/_taxpayer", {"risk": "blocked"}, token=None)
    desk.v2.taxpayer.tax_id = "91110000600037341L"  # the platform answers for someone else
    with pytest.raises(TransientFailure):
        _refresh()
    assert taxpayer.last_known() is None
    issue_invoice(invoice_body())


def test_asked_again_after_a_day(desk):
    _refresh()
    assert not taxpayer.due(now() + timedelta(hours=23))
    assert taxpayer.due(now() + timedelta(hours=24, minutes=1))


def test_cli_show_and_refresh(desk, data_dir):
    assert run_cli(data_dir, "taxpayer", "show").returncode == 2
    refreshed = run_cli(data_dir, "taxpayer", "refresh")
    assert refreshed.returncode == 0 and "状态 (status) 03" in refreshed.stdout
    ok(desk, "POST", "/_taxpayer", {"risk": "blocked"}, token=None)
    assert run_cli(data_dir, "taxpayer", "refresh").returncode == 0
    shown = run_cli(data_dir, "taxpayer", "show")
    assert "不能开票" in shown.stdout and "high risk" in shown.stdout
    issued = run_cli(data_dir, "issue", "-", stdin='{"buyer": {"name": "北京客户贸易有限公司"}, "lines": []}')
    assert issued.returncode == 1 and "taxpayer" in issued.stderr
    unreachable = run_cli(data_dir, "taxpayer", "refresh", "--url", "http://127.0.0.1:9")
    assert unreachable.returncode == 1 and "not refreshed" in unreachable.stderr

"""The outage log on the real store, its fault report read back from the PDF, and its CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader

from app.core.clock import BEIJING
from app.core.errors import ValidationFailed
from app.reports.fault_report import fault_report_text, write_fault_report_pdf
from app.services import outages
from app.services.issuing import issue_invoice
from app.store import queries
from tests.helpers.bodies import invoice_body
from tests.helpers.cli import run_cli


def stage_outage():
    """One invoice before; then three failed checks with two distinct errors and an upload failure;
    two invoices issued meanwhile; then the platform answers again."""
    before = issue_invoice(invoice_body()).number
    start = datetime.now(BEIJING)
    outages.record_failure("HTTP 503 Service Unavailable", at=start)
    outages.record_failure("HTTP 503 Service Unavailable", at=start + timedelta(milliseconds=100))
    outages.record_failure("connection refused", at=start + timedelta(milliseconds=200))
    outages.record_failure("timeout after 10 s", at=start + timedelta(milliseconds=300), upload=True)
    during = [issue_invoice(invoice_body()).number for _ in range(2)]
    outage = outages.record_recovery(at=datetime.now(BEIJING) + timedelta(seconds=1))
    after = issue_invoice(invoice_body()).number
    assert after not in during
    return outage, before, during


def test_outage_recorded_with_errors_deduplicated_and_invoices_meanwhile(seller):
    outage, before, during = stage_outage()
    assert outage.ended_at is not None
    data = outages.describe(outage.id)
    assert data["failed_checks"] == 3 and data["upload_attempts"] == 1
    assert [(e["message"], e["count"]) for e in data["errors"]] == [
        ("HTTP 503 Service Unavailable", 2), ("connection refused", 1), ("timeout after 10 s", 1)]
    assert [i["number"] for i in data["invoices"]] == during
    assert before not in [i["number"] for i in data["invoices"]]
    # After recovery a new failure opens a second outage; it does not reopen the first.
    assert outages.record_recovery() is None
    second = outages.record_failure("HTTP 502 Bad Gateway")
    still_open = outages.open_outage()
    assert second.id != outage.id and still_open is not None and still_open.id == second.id
    assert [o.id for o in queries.list_outages()] == [second.id, outage.id]


def test_notes_and_their_rules(seller):
    outage, _, _ = stage_outage()
    outages.add_note(outage.id, "已致电12366，平台维护中", clerk="张三")
    with pytest.raises(ValidationFailed):
        outages.add_note(outage.id, "  ")
    with pytest.raises(ValidationFailed):
        outages.add_note(999, "x")
    assert [n["text"] for n in outages.describe(outage.id)["notes"]] == ["已致电12366，平台维护中"]


def test_fault_report_pdf_and_text_hold_times_symptoms_and_invoices(seller, tmp_path):
    outage, _, during = stage_outage()
    outages.add_note(outage.id, "重启路由器后仍无法连接", clerk="张三")
    report = outages.fault_report(outage.id)
    pdf = write_fault_report_pdf(report, tmp_path / "fault.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    start = outage.started_at[:19].replace("T", " ")
    end = outage.ended_at[:19].replace("T", " ")
    for expected in (start, end, *during, "平台暂时不可用（HTTP 503）", "2 次", "重启路由器后仍无法连接", "故障报告",
                     seller.party.tax_id):
        assert expected in text, expected
    plain = fault_report_text(report)
    for expected in (start, end, *during, "连接被拒绝"):
        assert expected in plain


def test_cli_outages_and_report(seller, data_dir, store, tmp_path):
    outage, _, during = stage_outage()
    store.close()
    listed = run_cli(data_dir, "outages", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["invoices"][0]["number"] == during[0]
    noted = run_cli(data_dir, "outages", "--id", str(outage.id), "--note", "called support")
    assert noted.returncode == 0 and "HTTP 503" in noted.stdout
    out = tmp_path / "r.txt"
    assert run_cli(data_dir, "outage-report", str(outage.id), "-o", str(out)).returncode == 0
    assert "called support" in out.read_text(encoding="utf-8")
    pdf = tmp_path / "r.pdf"
    made = run_cli(data_dir, "outage-report", str(outage.id), "-o", str(pdf))
    assert made.returncode == 0, made.stderr
    assert during[1] in PdfReader(pdf).pages[0].extract_text()
    assert run_cli(data_dir, "outage-report", "42", "-o", str(pdf)).returncode == 2
    assert run_cli(data_dir, "outage-report", str(outage.id), "-o", str(tmp_path / "r.doc")).returncode == 2

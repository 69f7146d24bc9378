"""Issue 15: the fault report reads in one language: Chinese headings, labels and errors by default (an error an
older desk kept in English too), English with --lang en; the outage log writes it in the clerk's language."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from app.reports.fault_report import fault_report_text, write_fault_report_pdf
from app.services import outages
from app.ui.i18n import set_language
from tests.outages.test_outage_log import stage_outage

ENGLISH = ("Summary", "Symptoms", "What was tried", "Invoices issued meanwhile", "Taxpayer", "Duration", "times",
           "connection refused", "Service Unavailable", "timeout", "Fapiao Desk", "Clerk", "none", "ongoing")


def test_the_report_is_chinese(seller, tmp_path: Path):
    outage, _, during = stage_outage()
    report = outages.fault_report(outage.id)
    text = fault_report_text(report)
    assert text.startswith("发票离线开票台 故障报告\n")
    for heading in ("概况", "现象（出现的错误）", "已采取的措施", "期间开具的发票"):
        assert f"\n{heading}\n" in text
    assert "平台暂时不可用（HTTP 503） —— 2 次" in text and "连接被拒绝 —— 1 次" in text
    assert "平台无应答，10 秒超时" in text and all(number in text for number in during)
    assert [word for word in ENGLISH if word in text] == []
    pdf = " ".join(page.extract_text() for page in PdfReader(write_fault_report_pdf(report, tmp_path / "f.pdf")).pages)
    assert "故障报告" in pdf and "经办人签字" in pdf
    assert [word for word in ENGLISH if word in pdf] == []


def test_the_report_in_english(seller):
    outage, _, _ = stage_outage()
    text = fault_report_text(outages.fault_report(outage.id), "en")
    assert text.startswith("Fapiao Desk fault report\n") and "Symptoms (errors seen)" in text
    assert "connection refused — 1 times" in text and "概况" not in text and "次" not in text


def test_the_outage_log_exports_in_the_clerks_language(qtbot, seller, tmp_path: Path):
    from app.ui.outage_view import OutageLogView

    stage_outage()
    view = OutageLogView(None)
    qtbot.addWidget(view)
    task = view.export("txt", tmp_path / "zh.txt")
    assert task is not None
    qtbot.waitUntil(lambda: (tmp_path / "zh.txt").exists() and not view.tasks, timeout=10000)
    assert (tmp_path / "zh.txt").read_text(encoding="utf-8").startswith("发票离线开票台 故障报告")
    set_language("en")
    try:
        view.export("txt", tmp_path / "en.txt")
        qtbot.waitUntil(lambda: (tmp_path / "en.txt").exists() and not view.tasks, timeout=10000)
    finally:
        set_language("zh")
    assert (tmp_path / "en.txt").read_text(encoding="utf-8").startswith("Fapiao Desk fault report")

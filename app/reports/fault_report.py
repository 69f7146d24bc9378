"""The fault report of one outage, as text and as a PDF (A4, the embedded CJK font), for support or the
tax office. Both print fault_report_lines, so the PDF and the text say the same."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from app.core.money import format_money
from app.core.status import UPLOAD_TOO_LATE, status_label
from app.printing.fonts import TEXT_FONT, register_fonts
from app.services.outages import FaultReport


def _when(text: str | None) -> str:
    return text[:19].replace("T", " ") if text else "（仍在持续 ongoing）"


def fault_report_lines(report: FaultReport) -> list[tuple[str, list[str]]]:
    """Sections of the report as (heading, lines); the text and the PDF both print these."""
    o = report.outage
    sections: list[tuple[str, list[str]]] = []
    sections.append(("概况 Summary", [
        f"纳税人 Taxpayer：{report.seller_name}  {report.seller_tax_id}",
        f"停机编号 Outage no.：{o.id}",
        f"开始 Platform stopped answering：{_when(o.started_at)}（北京时间）",
        f"恢复 Platform answered again：{_when(o.ended_at)}",
        f"持续 Duration：{o.duration()}",
        f"报告生成 Report made：{_when(report.made_at)}",
    ]))
    symptoms = [f"{e.message} —— {e.count} 次 times（{_when(e.first_seen)} 至 {_when(e.last_seen)}）"
                for e in o.errors] or ["（无 none）"]
    sections.append(("现象 Symptoms (errors seen)", symptoms))
    tried = [f"自动检测平台连通 Automatic health checks that failed：{o.failed_checks} 次",
             f"自动重试上传 Upload attempts that failed：{o.upload_attempts} 次"]
    tried += [f"{_when(n.at)} {n.clerk}：{n.text}" for n in o.notes]
    sections.append(("已采取的措施 What was tried", tried))
    affected = [f"{i.number}  {i.official_number or '（未上传 not uploaded）'}  {_when(i.issued_at)}  "
                f"{i.buyer_name}  ¥{format_money(i.total_with_tax)}  {status_label(i.status)}" for i in o.invoices]
    affected.append(f"共 {len(o.invoices)} 张 invoices, 价税合计 total ¥{format_money(report.invoice_total)}"
                    "（不含已作废 excluding cancelled）")
    too_late = sum(1 for i in o.invoices if i.status == UPLOAD_TOO_LATE)
    if too_late:
        affected.append(f"其中超期未上传（须重新开具）{too_late} 张 — of them too late to upload (to issue again): "
                        f"{too_late}")
    sections.append(("期间开具的发票 Invoices issued meanwhile", affected))
    return sections


def fault_report_text(report: FaultReport) -> str:
    out = ["发票离线开票台 故障报告 / Fapiao Desk fault report", ""]
    for heading, lines in fault_report_lines(report):
        out.append(heading)
        out.append("-" * 40)
        out += ["  " + line for line in lines]
        out.append("")
    return "\n".join(out)


REPORT_SUFFIXES = (".pdf", ".txt")


def write_fault_report(report: FaultReport, path: Path | str) -> Path:
    """As PDF for a .pdf path, as UTF-8 text otherwise (the command line and the app both write it here)."""
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        return write_fault_report_pdf(report, path)
    path.write_text(fault_report_text(report), encoding="utf-8")
    return path


def write_fault_report_pdf(report: FaultReport, path: Path | str) -> Path:
    register_fonts()
    path = Path(path)
    title = ParagraphStyle("title", fontName=TEXT_FONT, fontSize=16, leading=22, spaceAfter=8)
    heading = ParagraphStyle("heading", fontName=TEXT_FONT, fontSize=12, leading=17, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("body", fontName=TEXT_FONT, fontSize=9.5, leading=14, leftIndent=4 * mm, wordWrap="CJK")
    story = [Paragraph("发票离线开票台 故障报告 / Fapiao Desk fault report", title)]
    for section, lines in fault_report_lines(report):
        story.append(Paragraph(escape(section), heading))
        story += [Paragraph(escape(line), body) for line in lines]
    story.append(Spacer(1, 10 * mm))
    story.append(Paragraph("经办人签字 Clerk：____________    日期 Date：____________", body))
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title="Fault report", author="Fapiao Desk",
                            initialFontName=TEXT_FONT)  # no unembedded Helvetica in the file
    doc.build(story)
    return path

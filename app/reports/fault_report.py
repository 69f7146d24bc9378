"""The fault report of one outage, as text and as a PDF (A4, the embedded CJK font), for support or the
tax office. Both print fault_report_lines, so the PDF and the text say the same."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from app.core.errors import stored_message
from app.core.money import format_money
from app.core.status import UPLOAD_TOO_LATE, status_label
from app.printing.fonts import TEXT_FONT, register_fonts
from app.services.outages import FaultReport

TITLE = ("发票离线开票台 故障报告", "Fapiao Desk fault report")
SIGNATURE = ("经办人签字：____________    日期：____________", "Clerk: ____________    Date: ____________")


def _pick(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _when(text: str | None, lang: str = "zh") -> str:
    return text[:19].replace("T", " ") if text else _pick(lang, "（仍在持续）", "(ongoing)")


def fault_report_lines(report: FaultReport, lang: str = "zh") -> list[tuple[str, list[str]]]:
    """Sections of the report as (heading, lines), in one language (Chinese unless lang is "en"); the text and
    the PDF both print these. The errors seen are kept as text, "中文 (English)" or English alone: each is shown
    in the report's language."""
    o = report.outage

    def t(zh: str, en: str) -> str:
        return _pick(lang, zh, en)

    sections: list[tuple[str, list[str]]] = []
    sections.append((t("概况", "Summary"), [
        t("纳税人：", "Taxpayer: ") + f"{report.seller_name}  {report.seller_tax_id}",
        t("停机编号：", "Outage no.: ") + str(o.id),
        t(f"平台停止应答：{_when(o.started_at, lang)}（北京时间）",
          f"Platform stopped answering: {_when(o.started_at, lang)} (Beijing time)"),
        t("平台恢复应答：", "Platform answered again: ") + _when(o.ended_at, lang),
        t("持续时间：", "Duration: ") + o.duration(),
        t("报告生成时间：", "Report made: ") + _when(report.made_at, lang),
    ]))
    symptoms = [t(f"{stored_message(e.message, lang)} —— {e.count} 次（{_when(e.first_seen, lang)} 至 "
                  f"{_when(e.last_seen, lang)}）",
                  f"{stored_message(e.message, lang)} — {e.count} times ({_when(e.first_seen, lang)} to "
                  f"{_when(e.last_seen, lang)})")
                for e in o.errors] or [t("（无）", "(none)")]
    sections.append((t("现象（出现的错误）", "Symptoms (errors seen)"), symptoms))
    tried = [t(f"自动检测平台连通失败：{o.failed_checks} 次",
               f"Automatic health checks that failed: {o.failed_checks}"),
             t(f"自动重试上传失败：{o.upload_attempts} 次", f"Upload attempts that failed: {o.upload_attempts}")]
    tried += [f"{_when(n.at, lang)} {n.clerk}{t('：', ': ')}{n.text}" for n in o.notes]
    sections.append((t("已采取的措施", "What was tried"), tried))
    affected = [f"{i.number}  {i.official_number or t('（未上传）', '(not uploaded)')}  {_when(i.issued_at, lang)}  "
                f"{i.buyer_name}  ¥{format_money(i.total_with_tax)}  {status_label(i.status, lang)}"
                for i in o.invoices]
    affected.append(t(f"共 {len(o.invoices)} 张，价税合计 ¥{format_money(report.invoice_total)}（不含已作废）",
                      f"{len(o.invoices)} invoices, total with tax ¥{format_money(report.invoice_total)} "
                      "(excluding cancelled)"))
    too_late = sum(1 for i in o.invoices if i.status == UPLOAD_TOO_LATE)
    if too_late:
        affected.append(t(f"其中超期未上传（须重新开具）{too_late} 张",
                          f"of them too late to upload (to issue again): {too_late}"))
    sections.append((t("期间开具的发票", "Invoices issued meanwhile"), affected))
    return sections


def fault_report_text(report: FaultReport, lang: str = "zh") -> str:
    out = [_pick(lang, *TITLE), ""]
    for heading, lines in fault_report_lines(report, lang):
        out.append(heading)
        out.append("-" * 40)
        out += ["  " + line for line in lines]
        out.append("")
    return "\n".join(out)


REPORT_SUFFIXES = (".pdf", ".txt")


def write_fault_report(report: FaultReport, path: Path | str, lang: str = "zh") -> Path:
    """As PDF for a .pdf path, as UTF-8 text otherwise (the command line and the app both write it here)."""
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        return write_fault_report_pdf(report, path, lang)
    path.write_text(fault_report_text(report, lang), encoding="utf-8")
    return path


def write_fault_report_pdf(report: FaultReport, path: Path | str, lang: str = "zh") -> Path:
    register_fonts()
    path = Path(path)
    title = ParagraphStyle("title", fontName=TEXT_FONT, fontSize=16, leading=22, spaceAfter=8)
    heading = ParagraphStyle("heading", fontName=TEXT_FONT, fontSize=12, leading=17, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("body", fontName=TEXT_FONT, fontSize=9.5, leading=14, leftIndent=4 * mm, wordWrap="CJK")
    story = [Paragraph(escape(_pick(lang, *TITLE)), title)]
    for section, lines in fault_report_lines(report, lang):
        story.append(Paragraph(escape(section), heading))
        story += [Paragraph(escape(line), body) for line in lines]
    story.append(Spacer(1, 10 * mm))
    story.append(Paragraph(escape(_pick(lang, *SIGNATURE)), body))
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title="Fault report", author="Fapiao Desk",
                            initialFontName=TEXT_FONT)  # no unembedded Helvetica in the file
    doc.build(story)
    return path

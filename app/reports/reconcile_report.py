"""The reconciliation report as CSV and as a PDF: the summary, then each difference with both sides
(A4 landscape). A platform record (protocol v2) carries its official number in `number`."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from app.core import status
from app.core.catalog_rules import neutralised
from app.core.money import format_money
from app.printing.fonts import TEXT_FONT, register_fonts
from app.services.reconcile import KINDS, ReconcileReport, kind_label

HEADERS = ["类别", "号码", "本地状态", "本地价税合计", "本地购买方", "平台号码", "平台价税合计", "平台购买方",
           "说明"]
WIDTHS_MM = [26, 26, 22, 24, 36, 38, 24, 36, 30]  # the rest of the width goes to 说明


# report_rows' keys (the command line's --json keeps them) and the CSV's headers, in Chinese as the clerk reads
# them in Excel (like the list export); the CSV's cells say states and channels in words, not as ids.
CSV_COLUMNS = ["kind", "kind_label", "number", "key", "channel", "local_status", "local_official_number",
               "local_total_with_tax", "local_buyer", "platform_official_number", "platform_total_with_tax",
               "platform_buyer", "platform_status", "detail"]
CSV_HEADERS = {
    "kind": "差异代码", "kind_label": "类别", "number": "号码", "key": "幂等键", "channel": "开具渠道",
    "local_status": "本地状态", "local_official_number": "本地正式号码", "local_total_with_tax": "本地价税合计",
    "local_buyer": "本地购买方", "platform_official_number": "平台号码", "platform_total_with_tax": "平台价税合计",
    "platform_buyer": "平台购买方", "platform_status": "平台状态", "detail": "说明",
}
# The CSV leaves out the difference's code: 类别 says it in words.
CSV_WRITTEN = [key for key in CSV_COLUMNS if key != "kind"]

# Words in a detail's Chinese half the service writes as ids: a status, a queue state, a channel.
_STATE_WORDS = {**status.STATUS_LABELS, **status.QUEUE_STATE_LABELS,
                **status.CHANNEL_LABELS}
_STATE_ID = re.compile(r"(?<![\w])(" + "|".join(sorted(map(re.escape, _STATE_WORDS), key=len, reverse=True))
                       + r")(?![\w])")


def detail_text(detail: str, lang: str = "zh") -> str:
    """A difference's detail ("中文 / English; 中文 / English") in one language, its ids put into words."""
    parts = []
    for part in detail.split("; "):
        zh, _, en = part.partition(" / ")
        if lang == "zh":
            parts.append(_STATE_ID.sub(lambda m: _STATE_WORDS[m[1]][0], zh.strip()))
        else:
            parts.append((en or zh).strip())
    return ("；" if lang == "zh" else "; ").join(p for p in parts if p)


def shown_row(row: dict[str, str], lang: str = "zh") -> dict[str, str]:
    """One of report_rows as the clerk reads it: statuses, channel and detail in words of one language."""
    return {**row, "kind_label": kind_label(row["kind"], lang),
            "channel": status.label_of(status.CHANNEL_LABELS, row["channel"], lang) if row["channel"] else "",
            "local_status": status.status_label(row["local_status"], lang) if row["local_status"] else "",
            "platform_status": status.record_status_label(row["platform_status"], lang)
            if row["platform_status"] else "",
            "detail": detail_text(row["detail"], lang)}


MONEY_COLUMNS = frozenset({"local_total_with_tax", "platform_total_with_tax"})


def report_rows(report: ReconcileReport) -> list[dict[str, str]]:
    rows = []
    for d in report.differences:
        local, record = d.local, d.platform or {}
        buyer = record.get("buyer")
        rows.append({
            "kind": d.kind, "kind_label": kind_label(d.kind), "number": d.number, "key": d.key or "",
            "channel": local.channel if local else str(record.get("channel") or ""),
            "local_status": local.status if local else "",
            "local_official_number": (local.official_number or "") if local else "",
            "local_total_with_tax": format_money(local.total_with_tax) if local else "",
            "local_buyer": local.buyer_name if local else "",
            "platform_official_number": str(record.get("number") or ""),  # a v2 record's number is official
            "platform_total_with_tax": str(record.get("total_with_tax") or ""),
            "platform_buyer": str(buyer.get("name") or "") if isinstance(buyer, dict) else "",
            "platform_status": str(record.get("status") or ""),
            "detail": d.detail,
        })
    return rows


def write_csv(report: ReconcileReport, path: Path | str) -> Path:
    """UTF-8 with a BOM, so Excel on a Chinese Windows opens it right."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([CSV_HEADERS[key] for key in CSV_WRITTEN])
        for row in report_rows(report):
            shown = shown_row(row)
            # A buyer name or detail starting = + - @ must not run as a formula in Excel; money stays a number.
            writer.writerow([shown[key] if key in MONEY_COLUMNS else neutralised(shown[key]) for key in CSV_WRITTEN])
    return path


def summary_lines(report: ReconcileReport, lang: str = "zh") -> list[str]:
    """The counts, in one language (Chinese unless lang is "en")."""
    counts = report.counts()
    if lang == "zh":
        lines = [f"对账期间：{report.date_from} 至 {report.date_to}   纳税人 {report.seller_tax_id}",
                 f"本地 {report.local_count} 张，平台 {report.platform_count} 张，一致 {report.matched} 张，"
                 f"本地已作废或未被接受（平台无记录，正常）{report.not_sent} 张"]
        return lines + [f"{kind_label(kind)}：{counts[kind]}" for kind in KINDS]
    lines = [f"Period: {report.date_from} to {report.date_to}   taxpayer {report.seller_tax_id}",
             f"here {report.local_count}, platform {report.platform_count}, matching {report.matched}, "
             f"cancelled or never taken here (rightly not on the platform) {report.not_sent}"]
    return lines + [f"{kind_label(kind, 'en')}: {counts[kind]}" for kind in KINDS]


def write_reconcile_pdf(report: ReconcileReport, path: Path | str) -> Path:
    register_fonts()
    path = Path(path)
    page = landscape(A4)
    title = ParagraphStyle("title", fontName=TEXT_FONT, fontSize=15, leading=20, spaceAfter=6)
    body = ParagraphStyle("body", fontName=TEXT_FONT, fontSize=9, leading=13, wordWrap="CJK")
    cell = ParagraphStyle("cell", fontName=TEXT_FONT, fontSize=7.5, leading=9.5, wordWrap="CJK")
    story = [Paragraph("发票对账报告", title)]
    story += [Paragraph(escape(line), body) for line in summary_lines(report)]
    story.append(Paragraph(escape(f"生成时间：{report.made_at[:19].replace('T', ' ')}"), body))
    story.append(Spacer(1, 4 * mm))
    rows = report_rows(report)
    if rows:
        usable = page[0] - 24 * mm
        widths = [w * mm for w in WIDTHS_MM]
        widths[-1] = usable - sum(widths[:-1])
        data = [[Paragraph(h, cell) for h in HEADERS]]
        for r in map(shown_row, rows):
            values = [r["kind_label"], r["number"], r["local_status"], r["local_total_with_tax"], r["local_buyer"],
                      r["platform_official_number"], r["platform_total_with_tax"], r["platform_buyer"], r["detail"]]
            data.append([Paragraph(escape(v), cell) for v in values])
        table = LongTable(data, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(table)
    else:
        story.append(Paragraph("两边一致，没有差异。", body))
    doc = SimpleDocTemplate(str(path), pagesize=page, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title="Reconciliation report", author="Fapiao Desk",
                            initialFontName=TEXT_FONT)  # no unembedded Helvetica in the file
    doc.build(story)
    return path

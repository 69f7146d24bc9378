"""The reconciliation report as CSV and as a PDF: the summary, then each difference with both sides
(A4 landscape). A platform record (protocol v2) carries its official number in `number`."""

from __future__ import annotations

import csv
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from app.core.catalog_rules import neutralised
from app.core.money import format_money
from app.printing.fonts import TEXT_FONT, register_fonts
from app.services.reconcile import KINDS, ReconcileReport, kind_label

HEADERS = ["类别", "号码", "本地状态", "本地价税合计", "本地购买方", "平台号码", "平台价税合计", "平台购买方",
           "说明"]
WIDTHS_MM = [26, 26, 22, 24, 36, 38, 24, 36, 30]  # the rest of the width goes to 说明


CSV_COLUMNS = ["kind", "kind_label", "number", "key", "channel", "local_status", "local_official_number",
               "local_total_with_tax", "local_buyer", "platform_official_number", "platform_total_with_tax",
               "platform_buyer", "platform_status", "detail"]


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
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in report_rows(report):
            # A buyer name or detail starting = + - @ must not run as a formula in Excel; money stays a number.
            writer.writerow({key: value if key in MONEY_COLUMNS else neutralised(value) for key, value in row.items()})
    return path


def summary_lines(report: ReconcileReport) -> list[str]:
    counts = report.counts()
    lines = [f"对账期间 Period：{report.date_from} 至 {report.date_to}   纳税人 {report.seller_tax_id}",
             f"本地 {report.local_count} 张，平台 {report.platform_count} 张，一致 {report.matched} 张，"
             f"本地已作废或未被接受（平台无记录，正常）{report.not_sent} 张 "
             f"/ here {report.local_count}, platform {report.platform_count}, matching {report.matched}, "
             f"cancelled or never taken here (rightly not on the platform) {report.not_sent}"]
    lines += [f"{kind_label(kind)} / {kind_label(kind, 'en')}：{counts[kind]}" for kind in KINDS]
    return lines


def write_reconcile_pdf(report: ReconcileReport, path: Path | str) -> Path:
    register_fonts()
    path = Path(path)
    page = landscape(A4)
    title = ParagraphStyle("title", fontName=TEXT_FONT, fontSize=15, leading=20, spaceAfter=6)
    body = ParagraphStyle("body", fontName=TEXT_FONT, fontSize=9, leading=13, wordWrap="CJK")
    cell = ParagraphStyle("cell", fontName=TEXT_FONT, fontSize=7.5, leading=9.5, wordWrap="CJK")
    story = [Paragraph("发票对账报告 / Reconciliation report", title)]
    story += [Paragraph(escape(line), body) for line in summary_lines(report)]
    story.append(Paragraph(escape(f"生成时间 Made：{report.made_at[:19].replace('T', ' ')}"), body))
    story.append(Spacer(1, 4 * mm))
    rows = report_rows(report)
    if rows:
        usable = page[0] - 24 * mm
        widths = [w * mm for w in WIDTHS_MM]
        widths[-1] = usable - sum(widths[:-1])
        data = [[Paragraph(h, cell) for h in HEADERS]]
        for r in rows:
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
        story.append(Paragraph("两边一致，没有差异。 / No differences.", body))
    doc = SimpleDocTemplate(str(path), pagesize=page, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title="Reconciliation report", author="Fapiao Desk",
                            initialFontName=TEXT_FONT)  # no unembedded Helvetica in the file
    doc.build(story)
    return path

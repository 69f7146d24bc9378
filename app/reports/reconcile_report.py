"""The reconciliation report as a PDF: the summary, then each difference with both sides (A4 landscape)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from app.printing.fonts import TEXT_FONT, register_fonts

HEADERS = ["类别", "临时号码", "本地状态", "本地价税合计", "本地购买方", "平台正式号码", "平台价税合计", "平台购买方", "说明"]
WIDTHS_MM = [26, 26, 22, 24, 36, 38, 24, 36, 30]  # the rest of the width goes to 说明


def write_reconcile_pdf(report, path: Path | str) -> Path:
    from app.services.reconcile import report_rows, summary_lines

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
                            bottomMargin=12 * mm, title="Reconciliation report", author="Fapiao Desk")
    doc.build(story)
    return path

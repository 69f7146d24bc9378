"""The fault report of one outage as a PDF (A4, the embedded CJK font), for support or the tax office.

The content comes from app.services.outages.fault_report_lines, so the PDF and the text say the same.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from app.printing.fonts import TEXT_FONT, register_fonts


def write_fault_report_pdf(report, path: Path | str) -> Path:
    from app.services.outages import fault_report_lines

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
                            bottomMargin=16 * mm, title="Fault report", author="Fapiao Desk")
    doc.build(story)
    return path

"""The statistics (app/reports/statistics.py) printed as a PDF: A4 landscape, the period and the net figures,
the table (blue, red, cancelled and net; with tax for the net), what is shown apart, the monthly summary's
check, and the bars of the net with tax per day (or month). Every glyph from the shipped font, embedded
(app/printing/fonts.py): Chinese prints the same on every PC."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from app.printing.fonts import FIGURE_FONT, TEXT_FONT, register_fonts
from app.reports.statistics import (
    APART,
    BY_DAY,
    CATEGORY_LABELS,
    FIELDS,
    GROUPING_LABELS,
    SHORT_COLUMNS,
    TABLE_GROUPS,
    Statistics,
    figure_of,
    key_cells,
    key_headers,
    label_of,
    summary_lines,
    total_label,
)

MARGIN = 12 * mm
FIGURE_WIDTH = 18.2 * mm
COUNT_WIDTH = 11 * mm


def _cell(value: int | Decimal) -> str:
    return f"{value:,.2f}" if isinstance(value, Decimal) else str(value)


def _chart(stats: Statistics, width: float) -> Drawing:
    height = 52 * mm
    drawing = Drawing(width, height)
    drawing.initialFontName = FIGURE_FONT  # not reportlab's Helvetica, which is never embedded
    chart = VerticalBarChart()
    chart.x, chart.y = 16 * mm, 10 * mm
    chart.width, chart.height = width - 22 * mm, height - 18 * mm
    values = [float(p.net.with_tax) for p in stats.series]  # ok-float: bar heights on paper, not money
    chart.data = [values or [0.0]]
    chart.categoryAxis.categoryNames = [p.label for p in stats.series] or [""]
    chart.categoryAxis.labels.fontName = FIGURE_FONT
    chart.categoryAxis.labels.fontSize = 5.5 if len(stats.series) > 16 else 7
    chart.categoryAxis.labels.angle = 90 if len(stats.series) > 16 else 0
    chart.categoryAxis.labels.boxAnchor = "e" if len(stats.series) > 16 else "n"
    chart.valueAxis.labels.fontName = FIGURE_FONT
    chart.valueAxis.labels.fontSize = 6
    chart.valueAxis.forceZero = True
    chart.bars[0].fillColor = colors.HexColor("#4472c4")
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    unit = "日" if stats.series_unit == BY_DAY else "月"
    drawing.add(String(0, height - 5 * mm, f"每{unit}价税合计（蓝字+红字） / net with tax per "
                       f"{'day' if stats.series_unit == BY_DAY else 'month'}", fontName=TEXT_FONT, fontSize=8))
    return drawing


def write_statistics_pdf(stats: Statistics, path: Path | str) -> Path:
    register_fonts()
    target = Path(path)
    page = landscape(A4)
    usable = page[0] - 2 * MARGIN
    title = ParagraphStyle("title", fontName=TEXT_FONT, fontSize=15, leading=20, spaceAfter=4)
    body = ParagraphStyle("body", fontName=TEXT_FONT, fontSize=8.5, leading=12, wordWrap="CJK")
    head = ParagraphStyle("head", fontName=TEXT_FONT, fontSize=7, leading=8.5, alignment=1, wordWrap="CJK")
    text = ParagraphStyle("text", fontName=TEXT_FONT, fontSize=7, leading=8.5, wordWrap="CJK")
    grouping = GROUPING_LABELS[stats.by]
    story: list[object] = [
        Paragraph(escape(f"发票统计 / Invoice statistics：{stats.period_label()}"), title),
        Paragraph(escape(f"期间 Period：{stats.start.isoformat()} 至 {stats.end.isoformat()}（北京时间 Beijing）   "
                         f"分组：{label_of(grouping)} / {label_of(grouping, 'en')}   "
                         f"生成时间 Made：{stats.made_at.strftime('%Y-%m-%d %H:%M:%S')}"), body),
    ]
    story += [Paragraph(escape(line), body) for line in summary_lines(stats)]
    story.append(Spacer(1, 3 * mm))

    keys = key_headers(stats.by)
    figure_widths = [COUNT_WIDTH if name == "count" else FIGURE_WIDTH for _, name in SHORT_COLUMNS]
    key_width = (usable - sum(figure_widths)) / len(keys)
    widths = [key_width] * len(keys) + figure_widths
    groups_row: list[object] = [Paragraph(escape(h), head) for h in keys]
    fields_row: list[object] = [""] * len(keys)
    spans = [("SPAN", (c, 0), (c, 1)) for c in range(len(keys))]
    column = len(keys)
    for group in TABLE_GROUPS:
        names = [name for g, name in SHORT_COLUMNS if g == group]
        groups_row += [Paragraph(escape(label_of(TABLE_GROUPS[group])), head)] + [""] * (len(names) - 1)
        fields_row += [Paragraph(escape(label_of(FIELDS[name])), head) for name in names]
        spans.append(("SPAN", (column, 0), (column + len(names) - 1, 0)))
        column += len(names)
    data: list[list[object]] = [groups_row, fields_row]
    for row in stats.rows:
        data.append([Paragraph(escape(c), text) for c in key_cells(row, stats.by)]
                    + [_cell(figure_of(row.figures, g, f)) for g, f in SHORT_COLUMNS])
    data.append([Paragraph(escape(total_label()), text)] + [""] * (len(keys) - 1)
                + [_cell(figure_of(stats.totals, g, f)) for g, f in SHORT_COLUMNS])
    table = LongTable(data, colWidths=widths, repeatRows=2)
    table.setStyle(TableStyle([
        *spans,
        ("FONTNAME", (0, 0), (-1, -1), TEXT_FONT),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#eeeeee")),
        ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f4f4f4")),
        ("FONTNAME", (len(keys), 2), (-1, -1), FIGURE_FONT),
        ("FONTSIZE", (len(keys), 2), (-1, -1), 7),
        ("ALIGN", (len(keys), 2), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]))
    story.append(table)
    story.append(Spacer(1, 4 * mm))

    apart: list[list[object]] = [[Paragraph(escape(h), head) for h in
                                  ("另列（不计入合计） / shown apart", "张数", "金额", "税额", "价税合计")]]
    for category in APART:
        figures = stats.of(category)
        apart.append([Paragraph(escape(f"{label_of(CATEGORY_LABELS[category])} / "
                                       f"{label_of(CATEGORY_LABELS[category], 'en')}"), text),
                      str(figures.count), _cell(figures.amount), _cell(figures.tax), _cell(figures.with_tax)])
    side = LongTable(apart, colWidths=[110 * mm, 16 * mm, 26 * mm, 26 * mm, 26 * mm])
    side.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), TEXT_FONT),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("FONTNAME", (1, 1), (-1, -1), FIGURE_FONT),
        ("FONTSIZE", (1, 1), (-1, -1), 7),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    story.append(KeepTogether([side]))
    story.append(Spacer(1, 4 * mm))
    story.append(KeepTogether([_chart(stats, usable)]))
    doc = SimpleDocTemplate(str(target), pagesize=page, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, title=f"发票统计 {stats.period_label()}", author="Fapiao Desk",
                            # The initial font is ours: reportlab's default (Helvetica) would be listed unembedded.
                            initialFontName=TEXT_FONT, initialFontSize=8)
    doc.build(story)
    return target

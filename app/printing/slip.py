"""The slip of a pre-issue record (预开单): a record of a sale the platform has not issued an invoice for yet.

It must not be taken for an invoice: its title is 预开单（不作为发票使用）, it has no invoice title, no form
frame, no invoice number field and no QR code; it gives its provisional number, the sale's figures and a line
saying the invoice follows once the platform issues it, and carries the not-an-invoice mark across the page.
A plain page 210 wide: 140 high for up to 8 lines, 5 taller per further line, pages of 30 lines beyond 30.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib.colors import Color, black

from app.core.money import format_money
from app.printing.face import capitals, date_text, draw_fitted, line_cells
from app.printing.fonts import FIGURE_FONT, TEXT_FONT
from app.printing.geometry import MM
from app.printing.marks import COPY_MARK, MARK_RED, draw_cancelled_stamp, draw_pre_issue_watermark
from app.printing.pen import Pen
from app.printing.view import PrintView

SLIP_TITLE = "预开单（不作为发票使用）"
SLIP_ENGLISH = "Pre-issue record — NOT AN INVOICE"
FOLLOWS = "本单不是发票。税务平台开具发票后，发票另行交付（凭预开单号查询）。"
FOLLOWS_EN = "The invoice follows once the tax platform issues it."
NUMBER_LABEL = "预开单号："
PAGE_W = 210.0
LEFT, RIGHT = 10.0, 200.0
ROWS_TOP = 52.0
ROW_H = 5.0
BASE_ROWS = 8
PAGE_ROWS = 30
FOOT_H = 48.0  # below the rows: totals, capitals, remarks, the follows line, the drawer
GREY = Color(0.35, 0.35, 0.35)


@dataclass(frozen=True)
class _Col:
    key: str
    label: str
    x0: float
    x1: float
    align: str


COLUMNS = (
    _Col("name", "项目", LEFT, 70.0, "left"), _Col("spec", "规格型号", 70.0, 92.0, "left"),
    _Col("unit", "单位", 92.0, 102.0, "centre"), _Col("quantity", "数量", 102.0, 122.0, "right"),
    _Col("unit_price", "单价", 122.0, 142.0, "right"), _Col("amount", "金额", 142.0, 164.0, "right"),
    _Col("tax_rate", "税率", 164.0, 178.0, "centre"), _Col("tax", "税额", 178.0, RIGHT, "right"),
)
FIGURES = ("quantity", "unit_price", "amount", "tax")


@dataclass(frozen=True)
class SlipPage:
    number: int
    count: int
    first: int
    lines: int
    rows: int

    @property
    def height(self) -> float:
        return ROWS_TOP + self.rows * ROW_H + FOOT_H

    @property
    def last(self) -> bool:
        return self.number == self.count


def plan_slip(lines: int) -> list[SlipPage]:
    if lines <= PAGE_ROWS:
        return [SlipPage(1, 1, 0, lines, max(BASE_ROWS, lines))]
    count = -(-lines // PAGE_ROWS)
    return [SlipPage(n + 1, count, n * PAGE_ROWS, min(PAGE_ROWS, lines - n * PAGE_ROWS), PAGE_ROWS)
            for n in range(count)]


def draw_slip(pen: Pen, view: PrintView, page: SlipPage) -> None:
    invoice = view.invoice
    draw_pre_issue_watermark(pen, PAGE_W, page.height)
    canvas = pen.canvas
    canvas.saveState()
    canvas.setStrokeColor(GREY)
    canvas.setLineWidth(0.2 * MM)
    pen.hline(LEFT, RIGHT, ROWS_TOP)
    rows_end = ROWS_TOP + page.rows * ROW_H
    pen.hline(LEFT, RIGHT, rows_end)
    canvas.restoreState()

    pen.begin_text()
    pen.text(PAGE_W / 2, 16.0, SLIP_TITLE, TEXT_FONT, 18.0, "centre", MARK_RED)
    pen.text(PAGE_W / 2, 22.0, SLIP_ENGLISH, TEXT_FONT, 8.5, "centre", MARK_RED)
    if view.copy:
        pen.text(RIGHT, 16.0, COPY_MARK, TEXT_FONT, 14.0, "right", MARK_RED)
    pen.text(LEFT, 31.0, NUMBER_LABEL, TEXT_FONT, 9.0)
    pen.text(LEFT + 17.0, 31.0, invoice.number, FIGURE_FONT, 10.0)
    pen.text(120.0, 31.0, f"日期：{date_text(view.issued_at)}", TEXT_FONT, 9.0)
    if page.count > 1:
        pen.text(RIGHT, 31.0, f"共{page.count}页 第{page.number}页", TEXT_FONT, 9.0, "right")
    for y, label, party in ((37.5, "购买方：", invoice.buyer), (43.0, "销售方：", invoice.seller)):
        pen.text(LEFT, y, label, TEXT_FONT, 9.0)
        draw_fitted(pen, party.printed_name, LEFT + 14.0, 130.0, y - 3.5, 4.5, TEXT_FONT, 9.0)
        pen.text(132.0, y, party.tax_id, FIGURE_FONT, 9.0)
    for column in COLUMNS:
        pen.text((column.x0 + column.x1) / 2, ROWS_TOP - 1.5, column.label, TEXT_FONT, 8.0, "centre", GREY)
    lines = invoice.lines[page.first:page.first + page.lines]
    for index, line in enumerate(lines):
        cells = line_cells(line)
        top = ROWS_TOP + index * ROW_H
        for column in COLUMNS:
            font = FIGURE_FONT if column.key in FIGURES else TEXT_FONT
            draw_fitted(pen, cells[column.key], column.x0 + 0.8, column.x1 - 0.8, top, ROW_H, font, 8.5,
                        column.align, 3.0)
    y = rows_end + 5.0
    if page.count > 1:
        subtotal = (sum((ln.amount for ln in lines), Decimal("0.00")), sum((ln.tax for ln in lines), Decimal("0.00")))
        _sum_row(pen, "本页小计", subtotal, y)
        y += 5.0
    _sum_row(pen, "合计", (invoice.total_amount, invoice.total_tax), y)
    if page.last:
        pen.text(LEFT, y + 7.0, f"价税合计：{capitals(invoice.total_with_tax)}", TEXT_FONT, 9.5)
        pen.text(RIGHT, y + 7.0, "¥" + format_money(invoice.total_with_tax), FIGURE_FONT, 10.0, "right")
        if invoice.remarks:
            draw_fitted(pen, f"备注：{invoice.remarks}", LEFT, RIGHT, y + 9.0, 6.0, TEXT_FONT, 8.5)
    foot = page.height - 10.0
    pen.text(LEFT, foot - 6.0, FOLLOWS, TEXT_FONT, 9.0, "left", MARK_RED)
    pen.text(LEFT, foot - 2.0, FOLLOWS_EN, TEXT_FONT, 7.5, "left", MARK_RED)
    pen.text(LEFT, foot + 4.0, f"开票人：{invoice.drawer}", TEXT_FONT, 9.0, "left", black)
    pen.text(RIGHT, foot + 4.0, f"内容校验 {view.short_hash}", FIGURE_FONT, 7.5, "right", GREY)
    pen.end_text()
    if view.cancelled:
        draw_cancelled_stamp(pen, PAGE_W / 2, ROWS_TOP + 15.0)


def _sum_row(pen: Pen, label: str, figures: tuple[Decimal, Decimal], y: float) -> None:
    pen.text(LEFT, y, label, TEXT_FONT, 9.0)
    for key, value in zip(("amount", "tax"), figures, strict=True):
        column = next(c for c in COLUMNS if c.key == key)
        pen.text(column.x1 - 0.8, y, "¥" + format_money(value), FIGURE_FONT, 8.5, "right")

"""The 销货清单 (list of goods and services) pages of an invoice with more lines than the face holds.

Printed on plain paper with its own frame in both layouts (the pre-printed stock has no list
pages), with subtotals per page and the total on the last.
"""

from __future__ import annotations

from decimal import Decimal

from reportlab.lib.colors import black

from app.core.money import format_money
from app.printing import layout as L
from app.printing.face import draw_cell, line_cells
from app.printing.fonts import FIGURE_FONT, TEXT_FONT
from app.printing.layout import Column
from app.printing.marks import (
    COPY_MARK,
    MARK_RED,
    OFFLINE_MARK,
    PRE_ISSUE_ENGLISH,
    PRE_ISSUE_TITLE,
    draw_cancelled_stamp,
)
from app.printing.pen import Pen
from app.printing.view import PrintView

LIST_TITLE = "销售货物或者提供应税劳务、服务清单"
ROWS_PER_PAGE = 16
TABLE_TOP = 32.0
HEADER_H = 5.0
ROW_H = 5.0
ROWS_TOP = TABLE_TOP + HEADER_H
SUBTOTAL_TOP = ROWS_TOP + ROWS_PER_PAGE * ROW_H  # 117
TOTAL_TOP = SUBTOTAL_TOP + ROW_H
TABLE_BOTTOM = TOTAL_TOP + ROW_H  # 127
FOOT_Y = 133.0

COLUMNS = (
    Column("index", "序号", 10.0, 18.0, "centre"),
    Column("name", "货物(劳务)名称", 18.0, 80.0, "left"),
    Column("spec", "规格型号", 80.0, 102.0, "left"),
    Column("unit", "单位", 102.0, 114.0, "centre"),
    Column("quantity", "数量", 114.0, 134.0, "right"),
    Column("unit_price", "单价", 134.0, 160.0, "right"),
    Column("amount", "金额", 160.0, 188.0, "right"),
    Column("tax_rate", "税率", 188.0, 202.0, "centre"),
    Column("tax", "税额", 202.0, 230.0, "right"),
)
_BY_KEY = {c.key: c for c in COLUMNS}


def page_count(line_count: int) -> int:
    return -(-line_count // ROWS_PER_PAGE)


def draw_list_frame(pen: Pen) -> None:
    """Rules and labels common to every list page (drawn once per document as a form)."""
    canvas = pen.canvas
    canvas.saveState()
    canvas.setStrokeColor(black)
    canvas.setLineWidth(0.8)
    pen.rect(L.LEFT, TABLE_TOP, L.RIGHT - L.LEFT, TABLE_BOTTOM - TABLE_TOP)
    canvas.setLineWidth(0.4)
    for y in (ROWS_TOP, SUBTOTAL_TOP, TOTAL_TOP):
        pen.hline(L.LEFT, L.RIGHT, y)
    for column in COLUMNS[1:]:
        pen.vline(column.x0, TABLE_TOP, TABLE_BOTTOM)
    pen.begin_text()
    pen.text(L.TITLE_X, 12.0, LIST_TITLE, TEXT_FONT, 13.0, "centre")
    pen.text(L.LEFT, 19.0, "购买方名称：", TEXT_FONT, L.SIZE_LABEL)
    pen.text(L.LEFT, 24.0, "销售方名称：", TEXT_FONT, L.SIZE_LABEL)
    for column in COLUMNS:
        pen.text((column.x0 + column.x1) / 2, TABLE_TOP + 3.6, column.label, TEXT_FONT, L.SIZE_LABEL, "centre")
    pen.text(L.LEFT + 2, SUBTOTAL_TOP + 3.6, "小计", TEXT_FONT, L.SIZE_LABEL)
    pen.text(L.LEFT + 2, TOTAL_TOP + 3.6, "总计", TEXT_FONT, L.SIZE_LABEL)
    pen.text(L.LEFT, FOOT_Y, "销售方（章）：", TEXT_FONT, L.SIZE_LABEL)
    pen.text(150.0, FOOT_Y, "填开日期：", TEXT_FONT, L.SIZE_LABEL)
    pen.end_text()
    canvas.restoreState()


def draw_list_page(pen: Pen, view: PrintView, page: int, pages: int) -> None:
    """The data of list page `page` (1-based) of `pages`."""
    invoice = view.invoice
    first = (page - 1) * ROWS_PER_PAGE
    lines = invoice.lines[first:first + ROWS_PER_PAGE]
    pen.begin_text()
    pen.text(32.0, 19.0, invoice.buyer.name, TEXT_FONT, L.SIZE_VALUE)
    pen.text(32.0, 24.0, invoice.seller.name, TEXT_FONT, L.SIZE_VALUE)
    number = view.official_number or invoice.number
    owner = "预开单（非发票）号：" if view.pre_issue else f"所属{invoice.kind.label('zh')}号码："
    pen.text(L.LEFT, 29.0, owner, TEXT_FONT, L.SIZE_LABEL)
    pen.text(L.LEFT + 38, 29.0, number, FIGURE_FONT, L.SIZE_VALUE)
    pen.text(L.RIGHT, 29.0, f"共 {pages} 页  第 {page} 页", TEXT_FONT, L.SIZE_VALUE, "right")
    for offset, line in enumerate(lines):
        top = ROWS_TOP + offset * ROW_H
        cells = line_cells(line)
        cells["index"] = str(first + offset + 1)
        for column in COLUMNS:
            draw_cell(pen, column, cells[column.key], top, ROW_H, L.SIZE_LINE)
    subtotal_amount = sum((line.amount for line in lines), Decimal("0.00"))
    subtotal_tax = sum((line.tax for line in lines), Decimal("0.00"))
    rows = [(SUBTOTAL_TOP, subtotal_amount, subtotal_tax)]
    if page == pages:
        rows.append((TOTAL_TOP, invoice.total_amount, invoice.total_tax))
    for top, amount, tax in rows:
        for key, value in (("amount", amount), ("tax", tax)):
            column = _BY_KEY[key]
            pen.text(column.x1 - L.CELL_PAD, top + 3.6, "¥" + format_money(value), FIGURE_FONT, L.SIZE_LINE, "right")
    issued = view.issued_at
    pen.text(165.0, FOOT_Y, f"{issued.year}年{issued.month:02d}月{issued.day:02d}日", TEXT_FONT, L.SIZE_VALUE)
    marks = []
    if view.pre_issue:  # a line of its own above the list's title
        pen.text(L.TITLE_X, 5.5, f"{PRE_ISSUE_TITLE} · {PRE_ISSUE_ENGLISH}", TEXT_FONT, 9.0, "centre", MARK_RED)
    elif not view.accepted:
        marks.append(OFFLINE_MARK)
    if view.copy:
        marks.append(COPY_MARK)
    if marks:
        pen.text(L.RIGHT, 12.0, "  ".join(marks), TEXT_FONT, 10.0, "right", MARK_RED)
    pen.end_text()
    if view.cancelled:
        draw_cancelled_stamp(pen, 120.0, 75.0)

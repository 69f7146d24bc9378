"""The 数电 face (basic version) in millimetres, as shudian-rules.md section 6 gives it: x from the page's left
edge, y down from its top edge, as a ruler measures.

The page is 210 wide and 140 high for up to 8 lines; every further 4 lines (up to 40) add 17.5 (four rows of
4.375), 41–42 lines add 8.75 more; from 43 lines the invoice breaks into pages of 47 lines, each with its
header, parties, lines (a 小计 row above 合计) and footer, the capitals and the remarks on the last page only.

Where section 6 gives no figure this table chooses, and the choice is written beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE_W = 210.0
BASE_H = 140.0
FRAME_W = 201.0  # the inner frame (parties, lines, remarks), centred across the page
LEFT = (PAGE_W - FRAME_W) / 2  # 4.5
RIGHT = LEFT + FRAME_W  # 205.5
CENTRE_X = PAGE_W / 2

# Header.
TITLE_TOP = 8.0
DOUBLE_LINE_Y = 18.0  # the upper line; the lower one 1 below
DOUBLE_LINE_GAP = 1.0
DOUBLE_LINE_W = 73.0
SEAL_CENTRE = (100.5, 18.0)  # the tax bureau's seal goes here (30 × 20 oval): never drawn by the desk
HEADER_LABEL_X = 155.0
HEADER_VALUE_X = 171.0  # chosen: after the widest label (开票日期：) and a gap
NUMBER_BASE = 13.0  # chosen: the two rows' baselines, level with the title and the double line
DATE_BASE = 19.0
PAGES_BASE = 25.0  # `共X页 第X页` under the date (paged invoices)
QR_X, QR_Y, QR_SIZE = 7.0, 6.0, 20.0
TAX_MARK_SIZE = 5.36
LABEL_BOX = (29.0, 6.0, 28.0, 20.0)  # x, y, w, h: marks such as 差额征税 (and the desk's 副本)

# Parties.
PARTIES_TOP = 30.0
PARTIES_H = 22.0
SIDE_W = 6.0  # the narrow columns with the vertical words
PARTY_W = 94.5
BUYER_SIDE_X = LEFT
BUYER_X = LEFT + SIDE_W  # 10.5
SELLER_SIDE_X = BUYER_X + PARTY_W  # 105
SELLER_X = SELLER_SIDE_X + SIDE_W  # 111
PARTY_NAME_BASE = PARTIES_TOP + 8.0  # chosen: the two rows sit in the band's upper and lower halves
PARTY_ID_BASE = PARTIES_TOP + 16.5
PARTY_PAD = 1.0

# Lines.
LINES_TOP = PARTIES_TOP + PARTIES_H  # 52
HEAD_H = 4.5
ROW_H = 4.375
TOTAL_H = 4.5  # the 合计 row
SUBTOTAL_H = ROW_H  # chosen: 小计 takes a line's row, so a page of 47 lines is 8 + 40 rows high (315)
BASE_ROWS = 8
CAPITALS_H = 8.0
CELL_PAD = 1.0


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    x0: float
    x1: float
    align: str  # left, right or centre

    @property
    def width(self) -> float:
        return self.x1 - self.x0


def _columns() -> tuple[Column, ...]:
    spec = (("name", "项目名称", 37.0, "left"), ("spec", "规格型号", 24.0, "left"), ("unit", "单位", 12.0, "centre"),
            ("quantity", "数量", 25.0, "right"), ("unit_price", "单价", 25.0, "right"),
            ("amount", "金额", 26.0, "right"), ("tax_rate", "税率/征收率", 25.0, "centre"),
            ("tax", "税额", 27.0, "right"))
    out = []
    x = LEFT
    for key, label, width, align in spec:
        out.append(Column(key, label, x, x + width, align))
        x += width
    return tuple(out)


COLUMNS = _columns()
COLUMN = {c.key: c for c in COLUMNS}
CAPITALS_LABEL_W = 37.0  # chosen: 价税合计（大写） under 项目名称, then the two boxes of section 6
CAPITALS_X0 = LEFT + CAPITALS_LABEL_W  # 41.5
CAPITALS_W = 86.0
FIGURES_X0 = CAPITALS_X0 + CAPITALS_W  # 127.5: （小写） and the figures
FIGURES_W = 49.0

# Remarks and footer, from the page's bottom edge.
REMARKS_H = 20.0
REMARKS_BOTTOM_GAP = 16.0
REMARKS_TEXT_X = LEFT + SIDE_W
REMARKS_TEXT_W = 195.0
FOOTER_BOTTOM_GAP = 7.5
FOOTER_X = BUYER_X  # chosen: under the remarks' text column

# Type sizes (points). Section 6: labels 楷体 9, data 宋体 9, tax ids 12 and ¥ 11 in Courier New; the desk
# ships one CJK family (WenQuanYi Micro Hei and its Mono face for figures) and embeds it.
SIZE_TITLE = 20.0
SIZE_LABEL = 9.0
SIZE_DATA = 9.0
SIZE_TAX_ID = 12.0
SIZE_YUAN = 11.0
SIZE_MIN = 5.0

FRAME_RGB = (128, 0, 0)
LINE_WIDTH_MM = 0.25

# Line capacity.
SINGLE_PAGE_LINES = 42
PAGE_LINES = 47


@dataclass(frozen=True)
class PagePlan:
    """One printed page of a face: which lines, how many rows it is ruled for, whether it carries 小计."""

    number: int  # 1-based
    count: int  # pages of the invoice
    first: int  # index of its first line
    lines: int  # lines on it
    rows: int  # line rows the page is ruled for
    subtotal: bool

    @property
    def last(self) -> bool:
        return self.number == self.count

    @property
    def height(self) -> float:
        return page_height(self.rows, self.subtotal)

    @property
    def rows_top(self) -> float:
        return LINES_TOP + HEAD_H

    @property
    def subtotal_top(self) -> float:
        return self.rows_top + self.rows * ROW_H

    @property
    def total_top(self) -> float:
        return self.subtotal_top + (SUBTOTAL_H if self.subtotal else 0.0)

    @property
    def capitals_top(self) -> float:
        return self.total_top + TOTAL_H

    @property
    def remarks_top(self) -> float:
        return self.capitals_top + CAPITALS_H

    @property
    def remarks_bottom(self) -> float:
        return self.remarks_top + REMARKS_H

    @property
    def footer_bottom(self) -> float:
        return self.height - FOOTER_BOTTOM_GAP


def rows_for(lines: int) -> int:
    """Rows a one-page face is ruled for: 8, then by fours up to 40, then 42."""
    if lines <= BASE_ROWS:
        return BASE_ROWS
    if lines <= 40:
        return -(-lines // 4) * 4
    if lines <= SINGLE_PAGE_LINES:
        return SINGLE_PAGE_LINES
    return PAGE_LINES


def page_height(rows: int, subtotal: bool = False) -> float:
    return BASE_H + (rows - BASE_ROWS) * ROW_H + (SUBTOTAL_H if subtotal else 0.0)


def plan_pages(lines: int) -> list[PagePlan]:
    if lines <= SINGLE_PAGE_LINES:
        return [PagePlan(1, 1, 0, lines, rows_for(lines), False)]
    count = -(-lines // PAGE_LINES)
    return [PagePlan(n + 1, count, n * PAGE_LINES, min(PAGE_LINES, lines - n * PAGE_LINES), PAGE_LINES, True)
            for n in range(count)]

"""The layout table: where each piece of the invoice goes, in millimetres from the top-left
corner of the 240 × 140 mm invoice (y downwards).

The full form draws the frame (frame.py) and the data at these places; the overlay (套打)
draws only the data at the same places, moved by the printer's calibrated offset. So the
table serves both, and a change of pre-printed paper is a change here only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


# The ruled area of the face.
LEFT, RIGHT = 10.0, 230.0
TOP, BOTTOM = 24.0, 120.0
TITLE_Y = 13.0  # baseline of 北京增值税普通发票
TITLE_X = 120.0
# A pre-issue record has no title and no QR code: its banner (three lines) takes the top left instead.
PRE_ISSUE_BANNER_X = 80.0
PRE_ISSUE_BANNER_Y = 9.0

# Header on the right: labels at HEADER_LABEL_X, values at HEADER_VALUE_X.
HEADER_LABEL_X = 152.0
HEADER_VALUE_X = 169.0
NUMBER_Y, DATE_Y, CHECK_Y = 8.0, 13.5, 19.0
QR_BOX = Box(10.0, 2.0, 20.0, 20.0)
COPY_MARK_AT = (52.0, 12.0)  # centre of the 副本 box, left of the title

# Party blocks: four rows of 4.5 mm; a vertical label strip of 6 mm on the left.
PARTY_ROW_H = 4.5
PARTY_LABEL_X = 17.0
PARTY_VALUE = (40.5, 134.0)  # value column from … to (mm)
BUYER_TOP = TOP
SELLER_TOP = 102.0
PARTY_ROWS = ("name", "tax_id", "address_phone", "bank_account")
PARTY_LABELS = ("名　　　　称：", "纳税人识别号：", "地 址、电 话：", "开户行及账号：")
SIDE_STRIP = 6.0
# Right of each party block: 密码区 (upper) and 备注 (lower).
RIGHT_BLOCK_X = 135.0
CODE_AREA = Box(RIGHT_BLOCK_X + SIDE_STRIP + 1, BUYER_TOP + 0.5, RIGHT - RIGHT_BLOCK_X - SIDE_STRIP - 2, 17.0)
REMARKS_AREA = Box(RIGHT_BLOCK_X + SIDE_STRIP + 1, SELLER_TOP + 0.8, RIGHT - RIGHT_BLOCK_X - SIDE_STRIP - 2, 16.6)

# The line table.
TABLE_TOP = 42.0
HEADER_H = 5.0
ROW_H = 5.5
FACE_ROWS = 8
ROWS_TOP = TABLE_TOP + HEADER_H  # 47
TOTAL_ROW_TOP = ROWS_TOP + FACE_ROWS * ROW_H  # 91
TOTAL_ROW_H = 5.0
CAPITALS_TOP = TOTAL_ROW_TOP + TOTAL_ROW_H  # 96
CAPITALS_H = SELLER_TOP - CAPITALS_TOP  # 6


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


COLUMNS = (
    Column("name", "货物或应税劳务、服务名称", 10.0, 76.0, "left"),
    Column("spec", "规格型号", 76.0, 100.0, "left"),
    Column("unit", "单位", 100.0, 112.0, "centre"),
    Column("quantity", "数量", 112.0, 132.0, "right"),
    Column("unit_price", "单价", 132.0, 158.0, "right"),
    Column("amount", "金额", 158.0, 186.0, "right"),
    Column("tax_rate", "税率", 186.0, 200.0, "centre"),
    Column("tax", "税额", 200.0, 230.0, "right"),
)
COLUMN = {c.key: c for c in COLUMNS}
CELL_PAD = 1.0

# 价税合计 row: capitals after ⊗, figures after （小写）.
CAPITALS_LABEL_END = 76.0
CAPITALS_X = 84.0
FIGURES_LABEL_X = 160.0
FIGURES_X = 174.0

# Below the frame: the clerks.
CLERKS_Y = 127.0
CLERK_LABELS = (("收款人：", 14.0, "payee"), ("复核：", 68.0, "reviewer"), ("开票人：", 116.0, "drawer"))
CLERK_VALUE_GAP = 13.0
SELLER_STAMP_LABEL = ("销售方：（章）", 172.0)

# Type sizes (points).
SIZE_TITLE = 17.0
SIZE_LABEL = 7.5
SIZE_VALUE = 8.5
SIZE_MIN = 5.0
SIZE_LINE = 7.5
SIZE_HEADER_VALUE = 9.0

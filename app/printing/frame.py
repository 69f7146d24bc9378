"""The printed frame of the full form: rules, labels and title. It is the same on every
invoice of a kind, so a document draws it once as a PDF form XObject and each page only
refers to it (fast to make, small to store).

A pre-issue record (预开单) is not an invoice, so its frame has no invoice title, no 发票号码 field and no
发票联 strip: the banner 预开单（非发票） stands where the title would, the number field is 预开单号."""

from __future__ import annotations

from reportlab.lib.colors import Color

from app.core.invoice import InvoiceKind
from app.printing import layout as L
from app.printing.fonts import TEXT_FONT
from app.printing.marks import PRE_ISSUE_COPY_LABEL, PRE_ISSUE_NUMBER_LABEL, draw_pre_issue_banner
from app.printing.pen import Pen

# The frame prints in the colour of the pre-printed forms, the data in black.
FRAME_COLORS = {
    InvoiceKind.NORMAL: Color(0.09, 0.29, 0.55),
    InvoiceKind.SPECIAL: Color(0.55, 0.27, 0.07),
}
COPY_LABEL = "第二联：发票联　购买方记账凭证"


def title(kind: InvoiceKind) -> str:
    return "北京" + kind.label("zh")


def vertical_text(pen: Pen, text: str, x0: float, x1: float, y0: float, y1: float, size: float, color: Color) -> None:
    """One character under the other, centred in the strip (the side labels of the form)."""
    step = (y1 - y0) / len(text)
    for index, char in enumerate(text):
        baseline = y0 + step * index + step / 2 + size * 0.35 / 2.835
        pen.text((x0 + x1) / 2, baseline, char, TEXT_FONT, size, "centre", color)


def draw_frame(pen: Pen, kind: InvoiceKind, pre_issue: bool = False) -> None:
    color = FRAME_COLORS[kind]
    canvas = pen.canvas
    canvas.saveState()
    canvas.setStrokeColor(color)
    canvas.setLineWidth(0.9)
    pen.rect(L.LEFT, L.TOP, L.RIGHT - L.LEFT, L.BOTTOM - L.TOP)
    canvas.setLineWidth(0.5)
    for y in (L.TABLE_TOP, L.CAPITALS_TOP, L.SELLER_TOP):
        pen.hline(L.LEFT, L.RIGHT, y)
    pen.hline(L.LEFT, L.RIGHT, L.ROWS_TOP)
    for top, bottom in ((L.TOP, L.TABLE_TOP), (L.SELLER_TOP, L.BOTTOM)):
        for x in (L.LEFT + L.SIDE_STRIP, L.RIGHT_BLOCK_X, L.RIGHT_BLOCK_X + L.SIDE_STRIP):
            pen.vline(x, top, bottom)
    for column in L.COLUMNS[1:]:
        pen.vline(column.x0, L.TABLE_TOP, L.CAPITALS_TOP)
    pen.vline(L.CAPITALS_LABEL_END, L.CAPITALS_TOP, L.SELLER_TOP)
    if not pre_issue:
        # The double rule under the title, as on the printed forms.
        pen.hline(L.TITLE_X - 34, L.TITLE_X + 34, L.TITLE_Y + 2.6)
        pen.hline(L.TITLE_X - 34, L.TITLE_X + 34, L.TITLE_Y + 3.3)

    pen.begin_text()
    if pre_issue:
        draw_pre_issue_banner(pen, L.PRE_ISSUE_BANNER_X, L.PRE_ISSUE_BANNER_Y)
    else:
        pen.text(L.TITLE_X, L.TITLE_Y, title(kind), TEXT_FONT, L.SIZE_TITLE, "centre", color)
    number_label = PRE_ISSUE_NUMBER_LABEL if pre_issue else "发票号码："
    for label, y in ((number_label, L.NUMBER_Y), ("开票日期：", L.DATE_Y), ("校 验 码：", L.CHECK_Y)):
        pen.text(L.HEADER_LABEL_X, y, label, TEXT_FONT, L.SIZE_LABEL, "left", color)
    for strip_label, x0, top, bottom in (("购买方", L.LEFT, L.TOP, L.TABLE_TOP),
                                         ("密码区", L.RIGHT_BLOCK_X, L.TOP, L.TABLE_TOP),
                                         ("销售方", L.LEFT, L.SELLER_TOP, L.BOTTOM),
                                         ("备注", L.RIGHT_BLOCK_X, L.SELLER_TOP, L.BOTTOM)):
        vertical_text(pen, strip_label, x0, x0 + L.SIDE_STRIP, top + 1, bottom - 1, L.SIZE_LABEL, color)
    for top in (L.BUYER_TOP, L.SELLER_TOP):
        for index, label in enumerate(L.PARTY_LABELS):
            pen.text(L.PARTY_LABEL_X, top + (index + 1) * L.PARTY_ROW_H - 1.2, label, TEXT_FONT, L.SIZE_LABEL,
                     "left", color)
    for column in L.COLUMNS:
        pen.text((column.x0 + column.x1) / 2, L.TABLE_TOP + 3.6, column.label, TEXT_FONT, L.SIZE_LABEL, "centre",
                 color)
    total_base = L.TOTAL_ROW_TOP + 3.6
    name = L.COLUMN["name"]
    pen.text((name.x0 + name.x1) / 2, total_base, "合　　　计", TEXT_FONT, L.SIZE_LABEL, "centre", color)
    capitals_base = L.CAPITALS_TOP + 4.2
    pen.text((L.LEFT + L.CAPITALS_LABEL_END) / 2, capitals_base, "价税合计（大写）", TEXT_FONT, L.SIZE_LABEL,
             "centre", color)
    pen.text(L.CAPITALS_LABEL_END + 2.5, capitals_base, "⊗", TEXT_FONT, L.SIZE_VALUE, "left", color)
    pen.text(L.FIGURES_LABEL_X, capitals_base, "（小写）", TEXT_FONT, L.SIZE_LABEL, "left", color)
    for label, x, _ in L.CLERK_LABELS:
        pen.text(x, L.CLERKS_Y, label, TEXT_FONT, L.SIZE_LABEL, "left", color)
    pen.text(L.SELLER_STAMP_LABEL[1], L.CLERKS_Y, L.SELLER_STAMP_LABEL[0], TEXT_FONT, L.SIZE_LABEL, "left", color)
    pen.end_text()
    pen.begin_text()
    vertical_text(pen, PRE_ISSUE_COPY_LABEL if pre_issue else COPY_LABEL, L.RIGHT + 2, L.RIGHT + 7, L.TOP + 4,
                  L.BOTTOM - 4, 6.0, color)
    pen.end_text()
    canvas.restoreState()

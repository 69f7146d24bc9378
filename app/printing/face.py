"""The face of an electronic 数电 invoice (shudian-rules.md section 6), drawn at the places of app.printing.layout.

The rules and labels of a page (its frame) are the same for every invoice of a kind and a height, so a document
draws each once as a PDF form XObject and pages refer to it; the data is one text object per page. Labels and
rules print in RGB 128,0,0, the data in black. The place of the tax bureau's seal stays empty: the desk never
draws a seal.

Text goes out through app.printing.drawtext (one text object of raw operators, strings encoded once per
document) and the QR code as one small image mask (app.printing.qr): a page costs less than a plain reportlab
page with the same text drawn string by string.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import cache

from reportlab.lib.colors import Color

from app.core.capitals import amount_in_capitals
from app.core.invoice import InvoiceKind, Line
from app.core.money import format_money, format_plain
from app.core.qr_content import electronic_qr
from app.printing import layout as L
from app.printing.drawtext import TextWriter
from app.printing.einvoice_xml import rate_text, remark_text, tax_text
from app.printing.fonts import FIGURE_FONT, TEXT_FONT, descent_ratio
from app.printing.geometry import MM
from app.printing.marks import COPY_MARK, draw_cancelled_stamp, draw_red_watermark
from app.printing.pen import Pen, width_mm
from app.printing.qr import draw_qr
from app.printing.textfit import fit
from app.printing.view import PrintView

FRAME_COLOR = Color(L.FRAME_RGB[0] / 255, L.FRAME_RGB[1] / 255, L.FRAME_RGB[2] / 255)
TAX_MARK_COLOR = Color(250 / 255, 239 / 255, 173 / 255)
TITLES = {InvoiceKind.NORMAL: "电子发票（普通发票）", InvoiceKind.SPECIAL: "电子发票（增值税专用发票）"}
NEGATIVE = "（负数）"  # full-width brackets on the face (app.core.capitals writes the ASCII form)
CAPITALS_MARK = "⊗"
NAME_LABEL = "名称："
ID_LABEL = "统一社会信用代码/纳税人识别号："
FIGURE_KEYS = ("quantity", "unit_price", "amount", "tax")
CELL_MIN = 3.0  # points: a long name shrinks this far before it wraps onto a second line in its row


def title(kind: InvoiceKind) -> str:
    return TITLES[kind]


def date_text(moment: datetime) -> str:
    return f"{moment.year}年{moment.month:02d}月{moment.day:02d}日"


def capitals(amount: Decimal) -> str:
    """价税合计 in capitals with 圆; a negative amount (red invoice) gets （负数） before it."""
    if amount < 0:
        return NEGATIVE + amount_in_capitals(-amount)
    return amount_in_capitals(amount)


def pages_label(page: int, pages: int) -> str:
    return f"共{pages}页 第{page}页"


def qr_text(view: PrintView) -> str:
    """Section 7's content (with its CRC) for the invoice's official number."""
    assert view.official_number, "only an invoice (official number) has a face"
    invoice = view.invoice
    return electronic_qr(invoice.kind, view.official_number, invoice.total_with_tax, view.issued_at.date())


def line_cells(line: Line) -> dict[str, str]:
    """What each column shows: the assembled *简称*项目名称, rates as 6%, 免税 with ***, 不征税 with no tax."""
    return {"name": line.name, "spec": line.spec, "unit": line.unit, "quantity": format_plain(line.quantity),
            "unit_price": format_plain(line.unit_price), "amount": format_money(line.amount),
            "tax_rate": rate_text(line), "tax": tax_text(line)}


# --- placing text by its em box (what pdf readers report as the glyphs' top and bottom) -----------------------
def size_mm(size: float) -> float:
    return size / MM


def base_from_top(top: float, size: float) -> float:
    return top + size_mm(size) * (1 + descent_ratio())


def base_from_bottom(bottom: float, size: float) -> float:
    return bottom - size_mm(size) * -descent_ratio()


def base_centred(top: float, height: float, size: float) -> float:
    return base_from_top(top + (height - size_mm(size)) / 2, size)


def draw_fitted(pen: Pen | TextWriter, text: str, x0: float, x1: float, top: float, height: float, font: str,
                size: float, align: str = "left", min_size: float = L.SIZE_MIN, color: Color | None = None) -> None:
    """Text in the box x0..x1 × top..top+height, centred up and down: shrunk, then wrapped, to fit."""
    if not text:
        return
    fitted = fit(text, x1 - x0, height, font, size, min_size)
    leading = fitted.leading_mm
    block = (len(fitted.lines) - 1) * leading + size_mm(fitted.size)
    first = base_from_top(top + (height - block) / 2, fitted.size)
    x = {"left": x0, "right": x1, "centre": (x0 + x1) / 2}[align]
    for index, piece in enumerate(fitted.lines):
        pen.text(x, first + index * leading, piece, font, fitted.size, align, color)


def vertical_word(pen: Pen | TextWriter, word: str, x0: float, top: float, height: float) -> None:
    """One character under the other, centred in a narrow column."""
    size = L.SIZE_LABEL
    step = min(size_mm(size) * 1.25, height / len(word))
    start = top + (height - step * len(word)) / 2
    for index, char in enumerate(word):
        pen.text(x0 + L.SIDE_W / 2, base_centred(start + index * step, step, size), char, TEXT_FONT, size, "centre",
                 FRAME_COLOR)


# --- the frame: rules and labels of one page -------------------------------------------------------------------
def draw_frame(pen: Pen, kind: InvoiceKind, plan: L.PagePlan) -> None:
    canvas = pen.canvas
    canvas.saveState()
    canvas.setStrokeColor(FRAME_COLOR)
    canvas.setLineWidth(L.LINE_WIDTH_MM * MM)
    half = L.DOUBLE_LINE_W / 2
    for y in (L.DOUBLE_LINE_Y, L.DOUBLE_LINE_Y + L.DOUBLE_LINE_GAP):
        pen.hline(L.CENTRE_X - half, L.CENTRE_X + half, y)
    bottom = plan.remarks_bottom
    pen.rect(L.LEFT, L.PARTIES_TOP, L.FRAME_W, bottom - L.PARTIES_TOP)
    for y in (L.LINES_TOP, plan.capitals_top, plan.remarks_top):
        pen.hline(L.LEFT, L.RIGHT, y)
    for x in (L.BUYER_X, L.SELLER_SIDE_X, L.SELLER_X):
        pen.vline(x, L.PARTIES_TOP, L.LINES_TOP)
    pen.vline(L.REMARKS_TEXT_X, plan.remarks_top, bottom)
    canvas.restoreState()

    text = TextWriter(pen)
    text.text(L.CENTRE_X, base_from_top(L.TITLE_TOP, L.SIZE_TITLE), title(kind), TEXT_FONT, L.SIZE_TITLE, "centre",
             FRAME_COLOR)
    for label, base in (("发票号码：", L.NUMBER_BASE), ("开票日期：", L.DATE_BASE)):
        text.text(L.HEADER_LABEL_X, base, label, TEXT_FONT, L.SIZE_LABEL, "left", FRAME_COLOR)
    vertical_word(text, "购买方信息", L.BUYER_SIDE_X, L.PARTIES_TOP, L.PARTIES_H)
    vertical_word(text, "销售方信息", L.SELLER_SIDE_X, L.PARTIES_TOP, L.PARTIES_H)
    for x in (L.BUYER_X, L.SELLER_X):
        text.text(x + L.PARTY_PAD, L.PARTY_NAME_BASE, NAME_LABEL, TEXT_FONT, L.SIZE_LABEL, "left", FRAME_COLOR)
        text.text(x + L.PARTY_PAD, L.PARTY_ID_BASE, ID_LABEL, TEXT_FONT, L.SIZE_LABEL, "left", FRAME_COLOR)
    head_base = base_centred(L.LINES_TOP, L.HEAD_H, L.SIZE_LABEL)
    for column in L.COLUMNS:
        text.text((column.x0 + column.x1) / 2, head_base, column.label, TEXT_FONT, L.SIZE_LABEL, "centre",
                 FRAME_COLOR)
    name = L.COLUMN["name"]
    label_x = (name.x0 + name.x1) / 2
    if plan.subtotal:
        text.text(label_x, base_centred(plan.subtotal_top, L.SUBTOTAL_H, L.SIZE_LABEL), "小　　计", TEXT_FONT,
                 L.SIZE_LABEL, "centre", FRAME_COLOR)
    text.text(label_x, base_centred(plan.total_top, L.TOTAL_H, L.SIZE_LABEL), "合　　计", TEXT_FONT, L.SIZE_LABEL,
             "centre", FRAME_COLOR)
    capitals_base = base_centred(plan.capitals_top, L.CAPITALS_H, L.SIZE_LABEL)
    text.text(L.LEFT + L.CELL_PAD, capitals_base, "价税合计（大写）", TEXT_FONT, L.SIZE_LABEL, "left", FRAME_COLOR)
    text.text(L.FIGURES_X0, capitals_base, "（小写）", TEXT_FONT, L.SIZE_LABEL, "left", FRAME_COLOR)
    vertical_word(text, "备注", L.LEFT, plan.remarks_top, L.REMARKS_H)
    text.text(L.FOOTER_X, base_from_bottom(plan.footer_bottom, L.SIZE_LABEL), "开票人：", TEXT_FONT, L.SIZE_LABEL,
             "left", FRAME_COLOR)
    text.finish()


def frame_key(kind: InvoiceKind, plan: L.PagePlan) -> str:
    return f"face_{kind.value}_{plan.rows}_{int(plan.subtotal)}"


# --- the data of one page ---------------------------------------------------------------------------------------
@cache
def _label_width(label: str) -> float:
    return width_mm(label, TEXT_FONT, L.SIZE_LABEL)


def _party(pen: TextWriter, name: str, tax_id: str, x: float) -> None:
    right = x + L.PARTY_W - L.PARTY_PAD
    name_x = x + L.PARTY_PAD + _label_width(NAME_LABEL)
    id_x = x + L.PARTY_PAD + _label_width(ID_LABEL)
    row = 7.0  # each value centred on its label's row, in a box this high (two lines of a long name fit)
    draw_fitted(pen, name, name_x, right, L.PARTY_NAME_BASE - row / 2 - 1.0, row, TEXT_FONT, L.SIZE_DATA)
    draw_fitted(pen, tax_id, id_x, right, L.PARTY_ID_BASE - row / 2 - 1.0, row, FIGURE_FONT, L.SIZE_TAX_ID)


def _yuan(amount: Decimal) -> str:
    return "¥" + format_money(amount)


def _row(pen: TextWriter, cells: dict[str, str], top: float, height: float) -> None:
    for column in L.COLUMNS:
        text = cells.get(column.key, "")
        if not text:
            continue
        font = FIGURE_FONT if column.key in FIGURE_KEYS else TEXT_FONT
        draw_fitted(pen, text, column.x0 + L.CELL_PAD, column.x1 - L.CELL_PAD, top, height, font, L.SIZE_DATA,
                    column.align, CELL_MIN)


def draw_page_data(pen: Pen, view: PrintView, plan: L.PagePlan) -> None:
    invoice = view.invoice
    assert view.official_number
    text = TextWriter(pen)
    text.text(L.HEADER_VALUE_X, L.NUMBER_BASE, view.official_number, FIGURE_FONT, L.SIZE_DATA)
    text.text(L.HEADER_VALUE_X, L.DATE_BASE, date_text(view.issued_at), TEXT_FONT, L.SIZE_DATA)
    if plan.count > 1 or plan.subtotal:
        text.text(L.HEADER_LABEL_X, L.PAGES_BASE, pages_label(plan.number, plan.count), TEXT_FONT, L.SIZE_DATA)
    if view.copy:
        x, y, w, h = L.LABEL_BOX
        draw_fitted(text, COPY_MARK, x, x + w, y, h, TEXT_FONT, 14.0, "centre", color=FRAME_COLOR)
    _party(text, invoice.buyer.printed_name, invoice.buyer.tax_id, L.BUYER_X)
    _party(text, invoice.seller.printed_name, invoice.seller.tax_id, L.SELLER_X)
    lines = invoice.lines[plan.first:plan.first + plan.lines]
    for index, line in enumerate(lines):
        _row(text, line_cells(line), plan.rows_top + index * L.ROW_H, L.ROW_H)
    if plan.subtotal:
        _row(text, {"amount": _yuan(sum((ln.amount for ln in lines), Decimal("0.00"))),
                   "tax": _yuan(sum((ln.tax for ln in lines), Decimal("0.00")))}, plan.subtotal_top, L.SUBTOTAL_H)
    _row(text, {"amount": _yuan(invoice.total_amount), "tax": _yuan(invoice.total_tax)}, plan.total_top, L.TOTAL_H)
    if plan.last:
        capitals_x = L.CAPITALS_X0 + L.CELL_PAD
        mark_w = width_mm(CAPITALS_MARK + " ", TEXT_FONT, L.SIZE_DATA)
        base = base_centred(plan.capitals_top, L.CAPITALS_H, L.SIZE_DATA)
        text.text(capitals_x, base, CAPITALS_MARK, TEXT_FONT, L.SIZE_DATA)
        draw_fitted(text, capitals(invoice.total_with_tax), capitals_x + mark_w, L.FIGURES_X0 - L.CELL_PAD,
                    plan.capitals_top, L.CAPITALS_H, TEXT_FONT, L.SIZE_DATA)
        figures_x = L.FIGURES_X0 + _label_width("（小写）")
        draw_fitted(text, _yuan(invoice.total_with_tax), figures_x, L.FIGURES_X0 + L.FIGURES_W, plan.capitals_top,
                    L.CAPITALS_H, FIGURE_FONT, L.SIZE_YUAN)
        remarks = remark_text(invoice)
        if remarks:
            draw_fitted(text, remarks, L.REMARKS_TEXT_X + L.CELL_PAD, L.REMARKS_TEXT_X + L.REMARKS_TEXT_W - L.CELL_PAD,
                        plan.remarks_top + 0.5, L.REMARKS_H - 1.0, TEXT_FONT, L.SIZE_DATA)
    text.text(L.FOOTER_X + _label_width("开票人："), base_from_bottom(plan.footer_bottom, L.SIZE_DATA), invoice.drawer,
             TEXT_FONT, L.SIZE_DATA)
    text.finish()
    draw_qr_with_mark(pen, qr_text(view))
    if view.copy:
        x, y, w, h = L.LABEL_BOX
        mark_w = width_mm(COPY_MARK, TEXT_FONT, 14.0) + 4.0
        canvas = pen.canvas
        canvas.saveState()
        canvas.setStrokeColor(FRAME_COLOR)
        canvas.setLineWidth(L.LINE_WIDTH_MM * MM * 2)
        pen.rect(x + (w - mark_w) / 2, y + h / 2 - 4.0, mark_w, 8.0)
        canvas.restoreState()
    if view.cancelled:
        draw_cancelled_stamp(pen, L.CENTRE_X, plan.rows_top + 20.0)


def draw_qr_with_mark(pen: Pen, content: str) -> None:
    """The code, 20 × 20 at (7, 6), and a pale yellow square with 税 in its centre."""
    # The code is 20 × 20 (the page around it is blank); its mask is chosen for the mark drawn over it.
    draw_qr(pen, content, L.QR_X, L.QR_Y, L.QR_SIZE, quiet=0, mark_mm=L.TAX_MARK_SIZE)
    side = L.TAX_MARK_SIZE
    x = L.QR_X + (L.QR_SIZE - side) / 2
    y = L.QR_Y + (L.QR_SIZE - side) / 2
    canvas = pen.canvas
    canvas.saveState()
    canvas.setFillColor(TAX_MARK_COLOR)
    pen.rect(x, y, side, side, fill=True, stroke=False)
    canvas.restoreState()
    text = TextWriter(pen)
    text.text(x + side / 2, base_centred(y, side, L.SIZE_DATA), "税", TEXT_FONT, L.SIZE_DATA, "centre", FRAME_COLOR)
    text.finish()


def draw_face(pen: Pen, view: PrintView, plan: L.PagePlan, form: Callable[[str, float, Callable[[Pen], None]], None],
              ) -> None:
    """One page: the frame (through form(name, height, draw), drawn once per document), the red watermark under
    the data, the data."""
    kind = view.invoice.kind
    form(frame_key(kind, plan), plan.height, lambda frame_pen: draw_frame(frame_pen, kind, plan))
    if view.invoice.is_red_letter:
        draw_red_watermark(pen, L.PAGE_W, plan.height)
    draw_page_data(pen, view, plan)


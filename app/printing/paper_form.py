"""A paper 数电 invoice (medium paper, platform channel): its data only, printed onto the tax bureau's
pre-printed form, with the printer's calibration (offset and x/y scale: app.printing.calibration).

What this module assumes about the form, since the bureau's paper 数电 form is not drawn in the spec:
- The form carries, printed in advance, the face of shudian-rules.md section 6 for up to 8 lines: 210 × 140 mm
  with its top-left corner at the sheet's top-left corner; title, frame, labels, the double line, the seal,
  and the form's own code and 8-digit number (发票代码/发票号码 of the form) are on the paper already.
  The desk draws no frame, no label, no title and never the form's code or number as text.
- The data goes where section 6 puts it: the QR code 20 × 20 at (7, 6) with its pale yellow 税 mark; the 20-digit
  number and the date on the two rows whose labels start 155 from the left; the parties' band from 30 (22 high,
  columns 6 / 94.5 / 6 / 94.5 of the 201-wide inner frame, which is centred: it starts at 4.5); the lines' band
  from 52 (heading 4.5, 8 lines of 4.375, 合计 4.5, then 价税合计 8 high), the remarks' band from 104 to 124 and
  the drawer 7.5 above the bottom edge.
- A value follows its pre-printed label: it starts where the label ends, the label set in 9 pt (one CJK
  character is 9 pt wide in any CJK face, 楷体 as ours), plus a 1 mm gap. The rows' baselines are ours (below).
- The QR code holds the paper content of section 7 (app.core.qr_content.paper_qr): the form's code, its
  8-digit number, the amount without tax, the date and the check code (the last 6 digits of the 20-digit
  number), then the CRC.
- More than 8 lines do not fit the form (it does not grow): refused (NotOnPaperForm), nothing drawn.
- A reprint onto the record of the sheet the invoice holds (view.copy) is marked 副本, as the face marks copies:
  in the free box right of the QR code (29, 6, 28 × 20, where the face puts it), framed; a first print onto a
  new sheet (also one after its first sheet was spoiled) is the invoice and carries no mark.

draw_paper_invoice() draws one page; write_paper_invoices()/render_paper_invoices() make a PDF of pages of the
form's size. The caller takes the sheet (app.services.paper_stock.sheet_for_print) in the print's transaction.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from app.core.capitals import amount_in_capitals
from app.core.clock import in_beijing
from app.core.errors import EXIT_BAD_INPUT, DeskError
from app.core.invoice import Line, Medium
from app.core.money import format_money, format_plain
from app.core.qr_content import PaperForm, paper_qr
from app.printing.calibration import Calibration, apply_calibration
from app.printing.einvoice_xml import rate_text, remark_text, tax_text
from app.printing.face import FRAME_COLOR
from app.printing.fonts import FIGURE_FONT, TEXT_FONT, register_fonts
from app.printing.geometry import MM
from app.printing.marks import COPY_MARK
from app.printing.pen import Pen, width_mm
from app.printing.qr import draw_qr
from app.printing.textfit import fit
from app.printing.view import PrintView

PAGE_WIDTH_MM = 210.0
PAGE_HEIGHT_MM = 140.0
FORM_LINES = 8  # line rows the pre-printed form holds
SIZE = 9.0  # pt: filled data
TAX_ID_SIZE = 12.0  # pt: tax ids (Courier New on the spec's face; our figure face)
YEN_SIZE = 11.0
MIN_SIZE = 5.5
LABEL_SIZE = 9.0  # pt: the pre-printed labels the values follow
GAP = 1.0  # mm between a label's end and its value, and inside a cell

# Section 6, in mm from the form's top-left corner.
QR_X, QR_Y, QR_SIZE = 7.0, 6.0, 20.0
TAX_MARK_MM = 5.36
TAX_MARK_COLOUR = Color(250 / 255, 239 / 255, 173 / 255)
HEAD_LABEL_X = 155.0
NUMBER_BASELINE = 13.0  # our choice: the two rows between the title's top (8) and the parties' band (30)
DATE_BASELINE = 19.0
FRAME_LEFT = (PAGE_WIDTH_MM - 201.0) / 2  # 4.5: the 201-wide inner frame, centred
PARTY_TOP, PARTY_HEIGHT = 30.0, 22.0
BUYER_X0, BUYER_X1 = FRAME_LEFT + 6.0, FRAME_LEFT + 6.0 + 94.5
SELLER_X0, SELLER_X1 = BUYER_X1 + 6.0, BUYER_X1 + 6.0 + 94.5
NAME_BASELINE = PARTY_TOP + 8.0  # our choice: the band's two rows
TAX_ID_BASELINE = PARTY_TOP + 16.0
NAME_LABEL = "名称："
TAX_ID_LABEL = "统一社会信用代码/纳税人识别号："
LINES_TOP = 52.0
HEADING_H = 4.5
LINE_H = 4.375
TOTAL_H = 4.5
CAPITALS_TOP = LINES_TOP + 44.0  # 96: the 价税合计 row, 8 high
CAPITALS_H = 8.0
CAPITALS_LABEL = "价税合计（大写）"
CAPITALS_WIDTH = 86.0
FIGURE_LABEL = "（小写）"
REMARKS_TOP, REMARKS_BOTTOM = 104.0, PAGE_HEIGHT_MM - 16.0
REMARKS_X0, REMARKS_X1 = FRAME_LEFT + 6.0, FRAME_LEFT + 201.0
DRAWER_LABEL = "开票人："
DRAWER_BASELINE = PAGE_HEIGHT_MM - 7.5 - 1.0  # its bottom 7.5 above the edge: the baseline a descender higher
NEGATIVE = "（负数）"
COPY_BOX = (29.0, 6.0, 28.0, 20.0)  # x, y, w, h: right of the QR code, as on the face
COPY_SIZE = 14.0
AS_DRAWN = Calibration()  # no offset, scale 1


@dataclass(frozen=True)
class Column:
    key: str
    x0: float
    x1: float
    align: str  # left / centre / right


def _columns() -> tuple[Column, ...]:
    spec = (("name", 37, "left"), ("spec", 24, "left"), ("unit", 12, "centre"), ("quantity", 25, "right"),
            ("unit_price", 25, "right"), ("amount", 26, "right"), ("tax_rate", 25, "centre"), ("tax", 27, "right"))
    out, x = [], FRAME_LEFT
    for key, width, align in spec:
        out.append(Column(key, x, x + width, align))
        x += width
    return tuple(out)


COLUMNS = _columns()
FIGURES = ("quantity", "unit_price", "amount", "tax")


class NotOnPaperForm(DeskError):
    """What may not go onto a pre-printed invoice form: a pre-issue record, an electronic invoice, too many lines."""

    exit_code = EXIT_BAD_INPUT
    numbers: list[str] = []  # the provisional numbers refused


def after_label(x0: float, label: str) -> float:
    """Where a value starts: after its pre-printed label (9 pt) and a gap."""
    return x0 + GAP + width_mm(label, TEXT_FONT, LABEL_SIZE) + GAP


def paper_qr_content(view: PrintView, form: PaperForm) -> str:
    """The section 7 content of a paper invoice printed on the sheet `form`."""
    assert view.official_number is not None
    return paper_qr(view.invoice.kind, form, view.official_number, view.invoice.total_amount,
                    in_beijing(view.issued_at).date())


def _named(view: PrintView) -> str:
    """The invoice as the clerk knows it: its official number, with the pre-issue record's LX-… beside it."""
    if view.official_number and view.earlier_number:
        return f"{view.official_number}（{view.earlier_number}）"
    return view.official_number or view.invoice.number


def refusal(view: PrintView) -> tuple[str, str] | None:
    """Why this never goes onto a pre-printed form (Chinese, English), each naming the field; None if it may."""
    number = _named(view)
    if view.pre_issue:
        return (f"number（发票号码）：{number} 是预开单（非发票），尚无发票号码，不能打印在纸质发票上",
                f"number: {number} is a pre-issue record, not an invoice (no official number yet), never printed onto "
                "a paper form")
    if view.invoice.medium is not Medium.PAPER:
        return (f"medium（发票介质）：{number} 是电子发票，用普通纸打印其版式文件（不加 --overlay），"
                "不套打在纸质发票上",
                f"medium: {number} is an electronic invoice: it prints on plain paper, its face (without --overlay), "
                "never onto a pre-printed paper form")
    if len(view.invoice.lines) > FORM_LINES:
        count = len(view.invoice.lines)
        return (f"lines（项目明细）：{number} 有 {count} 行，纸质发票只有 {FORM_LINES} 行",
                f"lines: {number} has {count} lines; the paper form holds {FORM_LINES}")
    return None


def check_printable(view: PrintView) -> None:
    """Raises NotOnPaperForm for what never goes onto a pre-printed form."""
    check_all([view])


def check_all(views: Iterable[PrintView]) -> None:
    """Raises one NotOnPaperForm naming every view that may not go onto a form (its .numbers: their provisional
    numbers), before anything is drawn or any sheet taken."""
    refused = [(view, reason) for view in views if (reason := refusal(view)) is not None]
    if refused:
        error = NotOnPaperForm("；".join(zh for _, (zh, _en) in refused), "; ".join(en for _, (_zh, en) in refused))
        error.numbers = [view.invoice.number for view, _ in refused]
        raise error


def line_cells(line: Line) -> dict[str, str]:
    return {"name": line.name, "spec": line.spec, "unit": line.unit, "quantity": format_plain(line.quantity),
            "unit_price": format_plain(line.unit_price), "amount": format_money(line.amount),
            "tax_rate": rate_text(line), "tax": tax_text(line)}


def _cell(pen: Pen, column: Column, text: str, top: float, height: float) -> None:
    if not text:
        return
    font = FIGURE_FONT if column.key in FIGURES else TEXT_FONT
    fitted = fit(text, column.x1 - column.x0 - 2 * GAP, height - 0.4, font, SIZE, MIN_SIZE)
    leading = fitted.leading_mm
    baseline = top + (height - len(fitted.lines) * leading) / 2 + leading * 0.82
    if column.align == "right":
        x = column.x1 - GAP
    elif column.align == "centre":
        x = (column.x0 + column.x1) / 2
    else:
        x = column.x0 + GAP
    for index, text_line in enumerate(fitted.lines):
        pen.text(x, baseline + index * leading, text_line, font, fitted.size, column.align)


def _fitted_line(pen: Pen, x0: float, x1: float, baseline: float, text: str, font: str, size: float) -> None:
    """One line of text from x0, shrunk (never wrapped) to end before x1."""
    if not text:
        return
    fitted = fit(text, x1 - x0, size * 1.2 / MM, font, size, MIN_SIZE)
    pen.text(x0, baseline, text, font, fitted.size if len(fitted.lines) == 1 else MIN_SIZE)


def _party(pen: Pen, x0: float, x1: float, name: str, tax_id: str) -> None:
    _fitted_line(pen, after_label(x0, NAME_LABEL), x1 - GAP, NAME_BASELINE, name, TEXT_FONT, SIZE)
    _fitted_line(pen, after_label(x0, TAX_ID_LABEL), x1 - GAP, TAX_ID_BASELINE, tax_id, FIGURE_FONT, TAX_ID_SIZE)


def _capitals(value: Decimal) -> str:
    text = amount_in_capitals(abs(value))
    return NEGATIVE + text if value < 0 else text


def _tax_mark(pen: Pen) -> None:
    canvas = pen.canvas
    x = QR_X + (QR_SIZE - TAX_MARK_MM) / 2
    y = QR_Y + (QR_SIZE - TAX_MARK_MM) / 2
    canvas.saveState()
    canvas.setFillColor(TAX_MARK_COLOUR)
    pen.rect(x, y, TAX_MARK_MM, TAX_MARK_MM, fill=True, stroke=False)
    canvas.restoreState()


def _copy_frame(pen: Pen) -> None:
    x, y, w, h = COPY_BOX
    mark_w = width_mm(COPY_MARK, TEXT_FONT, COPY_SIZE) + 4.0
    canvas = pen.canvas
    canvas.saveState()
    canvas.setLineWidth(0.5)
    pen.rect(x + (w - mark_w) / 2, y + h / 2 - 4.0, mark_w, 8.0)
    canvas.restoreState()


def draw_paper_invoice(canvas: Canvas, view: PrintView, sheet: PaperForm, calibration: Calibration,
                       page_height_mm: float = PAGE_HEIGHT_MM) -> str:
    """Draw the invoice's data onto the current page (the form's size: 210 × 140 mm), moved and stretched by the
    printer's calibration; returns the QR content drawn (to record with the print). Does not end the page.

    Raises NotOnPaperForm (nothing drawn) for a pre-issue record, an electronic invoice or more than 8 lines."""
    check_printable(view)
    content = paper_qr_content(view, sheet)
    invoice = view.invoice
    canvas.saveState()
    apply_calibration(canvas, page_height_mm, calibration)
    pen = Pen(canvas, page_height_mm, 0.0, 0.0)
    # 20 × 20 as on the face (the form is blank around it); the mask chosen for the 税 mark drawn over it.
    draw_qr(pen, content, QR_X, QR_Y, QR_SIZE, quiet=0, mark_mm=TAX_MARK_MM)
    _tax_mark(pen)
    if view.copy:
        _copy_frame(pen)
    pen.begin_text()
    if view.copy:
        x, y, w, h = COPY_BOX
        pen.text(x + w / 2, y + h / 2 + COPY_SIZE * 0.35 / MM, COPY_MARK, TEXT_FONT, COPY_SIZE, "centre")
    pen.text(QR_X + QR_SIZE / 2, QR_Y + QR_SIZE / 2 + 1.1, "税", TEXT_FONT, SIZE, "centre", FRAME_COLOR)
    assert view.official_number is not None
    label_end = after_label(HEAD_LABEL_X, "开票日期：")
    _fitted_line(pen, label_end, PAGE_WIDTH_MM - 2.0, NUMBER_BASELINE, view.official_number, FIGURE_FONT, SIZE)
    pen.text(label_end, DATE_BASELINE, in_beijing(view.issued_at).strftime("%Y年%m月%d日"), TEXT_FONT, SIZE)
    _party(pen, BUYER_X0, BUYER_X1, invoice.buyer.printed_name, invoice.buyer.tax_id)
    _party(pen, SELLER_X0, SELLER_X1, invoice.seller.name, invoice.seller.tax_id)
    top = LINES_TOP + HEADING_H
    for line in invoice.lines:
        cells = line_cells(line)
        for column in COLUMNS:
            _cell(pen, column, cells[column.key], top, LINE_H)
        top += LINE_H
    total_top = LINES_TOP + HEADING_H + FORM_LINES * LINE_H
    by_key = {c.key: c for c in COLUMNS}
    _cell(pen, by_key["amount"], f"¥{format_money(invoice.total_amount)}", total_top, TOTAL_H)
    _cell(pen, by_key["tax"], f"¥{format_money(invoice.total_tax)}", total_top, TOTAL_H)
    capitals_baseline = CAPITALS_TOP + CAPITALS_H / 2 + 1.2
    capitals_x = after_label(FRAME_LEFT, CAPITALS_LABEL)
    _fitted_line(pen, capitals_x, FRAME_LEFT + CAPITALS_WIDTH - GAP, capitals_baseline,
                 _capitals(invoice.total_with_tax), TEXT_FONT, SIZE)
    figure_x = after_label(FRAME_LEFT + CAPITALS_WIDTH, FIGURE_LABEL)
    pen.text(figure_x, capitals_baseline, f"¥{format_money(invoice.total_with_tax)}", FIGURE_FONT, YEN_SIZE)
    remarks = remark_text(invoice)
    if remarks:
        fitted = fit(remarks, REMARKS_X1 - REMARKS_X0 - 2 * GAP, REMARKS_BOTTOM - REMARKS_TOP - 1.0, TEXT_FONT, SIZE,
                     MIN_SIZE)
        leading = fitted.leading_mm
        for index, text_line in enumerate(fitted.lines):
            pen.text(REMARKS_X0 + GAP, REMARKS_TOP + 0.5 + leading * (index + 0.82), text_line, TEXT_FONT,
                     fitted.size)
    pen.text(after_label(FRAME_LEFT, DRAWER_LABEL), DRAWER_BASELINE, invoice.drawer, TEXT_FONT, SIZE)
    pen.end_text()
    canvas.restoreState()
    return content


def new_paper_canvas(out: BinaryIO) -> Canvas:
    """A canvas of the form's size, our fonts registered (the initial font ours: nothing unembedded)."""
    register_fonts()
    canvas = Canvas(out, pagesize=(PAGE_WIDTH_MM * MM, PAGE_HEIGHT_MM * MM), pageCompression=1,
                    initialFontName=TEXT_FONT, initialFontSize=10)
    canvas.setTitle("纸质发票（套打数据）")
    canvas.setCreator("Fapiao Desk 发票离线开票台")
    return canvas


def write_paper_invoices(out: BinaryIO, prints: Iterable[tuple[PrintView, PaperForm]],
                         calibration: Calibration = AS_DRAWN) -> list[str]:
    """One page per (invoice, sheet); returns the QR contents drawn, in order. Every view is checked before
    anything is drawn (NotOnPaperForm)."""
    items = list(prints)
    for view, _sheet in items:
        check_printable(view)
    canvas = new_paper_canvas(out)
    contents = []
    for view, sheet in items:
        contents.append(draw_paper_invoice(canvas, view, sheet, calibration))
        canvas.showPage()
    canvas.save()
    return contents


def render_paper_invoices(prints: Iterable[tuple[PrintView, PaperForm]],
                          calibration: Calibration = AS_DRAWN) -> bytes:
    buffer = io.BytesIO()
    write_paper_invoices(buffer, prints, calibration)
    return buffer.getvalue()

"""The data of the invoice face at the places the layout table gives: the same code serves
the full form (over the frame) and the overlay (alone, moved by the printer offset)."""

from __future__ import annotations

from decimal import Decimal

from app.core.capitals import amount_in_capitals
from app.core.invoice import FACE_LINES, Line
from app.core.money import format_money, format_plain
from app.core.tax import find_rate
from app.printing import layout as L
from app.printing.fonts import FIGURE_FONT, TEXT_FONT
from app.printing.marks import draw_face_marks_graphics, draw_face_marks_text
from app.printing.pen import Pen, width_mm
from app.printing.textfit import fit
from app.printing.view import PrintView

SEE_LIST = "(详见销货清单)"
NO_TAX = "***"  # 免税 and 不征税 lines print stars in the tax column
FIGURE_KEYS = ("quantity", "unit_price", "amount", "tax")


def rate_label(code: str) -> str:
    rate = find_rate(code)
    return rate.label_zh if rate else code


def line_cells(line: Line) -> dict[str, str]:
    """What each column shows for one line: amounts to two places, quantity and price as typed."""
    no_tax = line.tax_rate in ("exempt", "not_taxed")
    return {
        "name": line.name,
        "spec": line.spec,
        "unit": line.unit,
        "quantity": format_plain(line.quantity),
        "unit_price": format_plain(line.unit_price),
        "amount": format_money(line.amount),
        "tax_rate": rate_label(line.tax_rate),
        "tax": NO_TAX if no_tax else format_money(line.tax),
    }


def summary_cells(lines: tuple[Line, ...], amount: Decimal, tax: Decimal) -> dict[str, str]:
    """The one face line of an invoice whose lines go on the 销货清单."""
    rates = {line.tax_rate for line in lines}
    return {"name": SEE_LIST, "spec": "", "unit": "", "quantity": "", "unit_price": "",
            "amount": format_money(amount), "tax_rate": rate_label(rates.pop()) if len(rates) == 1 else "",
            "tax": format_money(tax)}


def draw_cell(pen: Pen, column, text: str, row_top: float, row_h: float, size: float) -> None:
    """One table cell: figures in the mono face, right-aligned; names shrink and wrap to fit."""
    if not text:
        return
    font = FIGURE_FONT if column.key in FIGURE_KEYS else TEXT_FONT
    width = column.width - 2 * L.CELL_PAD
    fitted = fit(text, width, row_h - 0.4, font, size, L.SIZE_MIN - 0.5)
    leading = fitted.leading_mm
    baseline = row_top + (row_h - len(fitted.lines) * leading) / 2 + leading * 0.82
    if column.align == "right":
        x = column.x1 - L.CELL_PAD
    elif column.align == "centre":
        x = (column.x0 + column.x1) / 2
    else:
        x = column.x0 + L.CELL_PAD
    for index, text_line in enumerate(fitted.lines):
        pen.text(x, baseline + index * leading, text_line, font, fitted.size, column.align)


def draw_in_box(pen: Pen, text: str, x0: float, x1: float, top: float, height: float, font: str, size: float) -> None:
    fitted = fit(text, x1 - x0, height, font, size, L.SIZE_MIN)
    leading = fitted.leading_mm
    baseline = top + (height - len(fitted.lines) * leading) / 2 + leading * 0.82
    for index, text_line in enumerate(fitted.lines):
        pen.text(x0, baseline + index * leading, text_line, font, fitted.size)


def _joined(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def draw_party(pen: Pen, party, top: float) -> None:
    values = (party.name, party.tax_id, _joined(party.address, party.phone), _joined(party.bank, party.account))
    x0, x1 = L.PARTY_VALUE
    for index, value in enumerate(values):
        if value:
            font = FIGURE_FONT if index == 1 else TEXT_FONT
            draw_in_box(pen, value, x0, x1, top + index * L.PARTY_ROW_H, L.PARTY_ROW_H, font, L.SIZE_VALUE)


def remarks_text(view: PrintView) -> str:
    invoice = view.invoice
    parts = []
    if invoice.is_red_letter:
        parts.append(f"对应正数发票号码：{invoice.original_number}")
    if invoice.remarks:
        parts.append(invoice.remarks)
    return "  ".join(parts)


def draw_remarks(pen: Pen, text: str) -> None:
    area = L.REMARKS_AREA
    fitted = fit(text, area.w, area.h, TEXT_FONT, L.SIZE_VALUE, L.SIZE_MIN)
    leading = fitted.leading_mm
    for index, text_line in enumerate(fitted.lines):
        pen.text(area.x, area.y + leading * (index + 0.85), text_line, TEXT_FONT, fitted.size)


def draw_face_data(pen: Pen, view: PrintView) -> None:
    invoice = view.invoice
    pen.begin_text()
    # Header: an invoice's official number, with the pre-issue record's number (LX-…) it came from beside it;
    # a pre-issue record's own number stands under the frame's 预开单号 label (never an invoice number field).
    if view.official_number:
        pen.text(L.HEADER_VALUE_X, L.NUMBER_Y, view.official_number, FIGURE_FONT, L.SIZE_HEADER_VALUE)
        earlier = view.earlier_number
        if earlier:
            after = L.HEADER_VALUE_X + width_mm(view.official_number, FIGURE_FONT, L.SIZE_HEADER_VALUE) + 1.5
            pen.text(after, L.NUMBER_Y, f"(预开单 {earlier})", FIGURE_FONT, 6.5)
    else:
        pen.text(L.HEADER_VALUE_X, L.NUMBER_Y, invoice.number, FIGURE_FONT, L.SIZE_HEADER_VALUE)
    issued = view.issued_at
    pen.text(L.HEADER_VALUE_X, L.DATE_Y, f"{issued.year}年{issued.month:02d}月{issued.day:02d}日", TEXT_FONT,
             L.SIZE_HEADER_VALUE)
    pen.text(L.HEADER_VALUE_X, L.CHECK_Y, view.short_hash, FIGURE_FONT, L.SIZE_HEADER_VALUE)

    draw_party(pen, invoice.buyer, L.BUYER_TOP)
    draw_party(pen, invoice.seller, L.SELLER_TOP)

    if len(invoice.lines) > FACE_LINES:
        rows = [summary_cells(invoice.lines, invoice.total_amount, invoice.total_tax)]
    else:
        rows = [line_cells(line) for line in invoice.lines]
    for index, cells in enumerate(rows):
        top = L.ROWS_TOP + index * L.ROW_H
        for column in L.COLUMNS:
            draw_cell(pen, column, cells[column.key], top, L.ROW_H, L.SIZE_LINE)

    total_base = L.TOTAL_ROW_TOP + 3.6
    for key, value in (("amount", invoice.total_amount), ("tax", invoice.total_tax)):
        column = L.COLUMN[key]
        pen.text(column.x1 - L.CELL_PAD, total_base, "¥" + format_money(value), FIGURE_FONT, L.SIZE_LINE, "right")
    capitals_base = L.CAPITALS_TOP + 4.2
    pen.text(L.CAPITALS_X, capitals_base, amount_in_capitals(invoice.total_with_tax), TEXT_FONT, L.SIZE_VALUE + 0.5)
    pen.text(L.FIGURES_X, capitals_base, "¥" + format_money(invoice.total_with_tax), FIGURE_FONT, L.SIZE_VALUE + 0.5)

    remarks = remarks_text(view)
    if remarks:
        draw_remarks(pen, remarks)
    for _, x, key in L.CLERK_LABELS:
        pen.text(x + L.CLERK_VALUE_GAP, L.CLERKS_Y, getattr(invoice, key), TEXT_FONT, L.SIZE_VALUE)
    draw_face_marks_text(pen, view)
    pen.end_text()
    draw_face_marks_graphics(pen, view)

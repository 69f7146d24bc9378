"""Data only, onto the pre-printed 240 × 140 mm invoice forms the desk knew before 数电 (套打), moved by the
printer's calibrated offset. Nothing of the form itself is drawn: no rule, no label, no title.

This is the interim data-only rendering of an invoice onto paper forms; app.printing.paper_form (the paper
数电 invoice on the tax bureau's forms, section 7's paper QR content) replaces it behind
app.printing.document.draw_paper_invoice. It holds the form's 8 lines; a longer invoice is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import EXIT_BAD_INPUT, DeskError
from app.core.invoice import Party
from app.core.money import format_money, format_plain
from app.printing.einvoice_xml import rate_text, remark_text, tax_text
from app.printing.face import capitals
from app.printing.fonts import FIGURE_FONT, TEXT_FONT
from app.printing.pen import Pen
from app.printing.textfit import fit
from app.printing.view import PrintView

FORM_LINES = 8


@dataclass(frozen=True)
class _Column:
    key: str
    x0: float
    x1: float
    align: str


# The data places of the old pre-printed form, in mm from its top-left corner.
COLUMNS = (
    _Column("name", 10.0, 76.0, "left"), _Column("spec", 76.0, 100.0, "left"),
    _Column("unit", 100.0, 112.0, "centre"), _Column("quantity", 112.0, 132.0, "right"),
    _Column("unit_price", 132.0, 158.0, "right"), _Column("amount", 158.0, 186.0, "right"),
    _Column("tax_rate", 186.0, 200.0, "centre"), _Column("tax", 200.0, 230.0, "right"),
)
_BY_KEY = {c.key: c for c in COLUMNS}
FIGURES = ("quantity", "unit_price", "amount", "tax")
HEADER_VALUE_X = 169.0
NUMBER_Y, DATE_Y = 8.0, 13.5
PARTY_VALUE = (40.5, 134.0)
PARTY_ROW_H = 4.5
BUYER_TOP, SELLER_TOP = 24.0, 102.0
ROWS_TOP, ROW_H = 47.0, 5.5
TOTAL_BASE = 91.0 + 3.6
CAPITALS_BASE = 96.0 + 4.2
CAPITALS_X, FIGURES_X = 84.0, 174.0
REMARKS = (142.0, 102.8, 87.0, 16.6)
CLERKS_Y = 127.0
CLERKS = ((27.0, "payee"), (81.0, "reviewer"), (129.0, "drawer"))
SIZE_VALUE, SIZE_LINE, SIZE_MIN = 8.5, 7.5, 5.0
CELL_PAD = 1.0


class TooManyLinesForForm(DeskError):
    """The pre-printed form holds 8 lines: a longer invoice does not go onto it (print its face instead)."""

    def __init__(self, numbers: list[str]):
        listed = ", ".join(numbers)
        super().__init__(f"lines（明细）：{listed} 超过 {FORM_LINES} 行，不能套打在发票纸上；"
                         "请打印版式文件（不加 --overlay）",
                         f"lines: {listed} has more than {FORM_LINES} lines and does not fit the pre-printed form; "
                         "print its face (without --overlay)", exit_code=EXIT_BAD_INPUT)
        self.numbers = numbers


def _box(pen: Pen, text: str, x0: float, x1: float, top: float, height: float, font: str, size: float,
         align: str = "left") -> None:
    if not text:
        return
    fitted = fit(text, x1 - x0 - 2 * CELL_PAD, height, font, size, SIZE_MIN)
    leading = fitted.leading_mm
    baseline = top + (height - len(fitted.lines) * leading) / 2 + leading * 0.82
    x = {"left": x0 + CELL_PAD, "right": x1 - CELL_PAD, "centre": (x0 + x1) / 2}[align]
    for index, piece in enumerate(fitted.lines):
        pen.text(x, baseline + index * leading, piece, font, fitted.size, align)


def _party(pen: Pen, party: Party, top: float) -> None:
    values = (party.printed_name, party.tax_id, " ".join(p for p in (party.address, party.phone) if p),
              " ".join(p for p in (party.bank, party.account) if p))
    for index, value in enumerate(values):
        _box(pen, value, PARTY_VALUE[0] - CELL_PAD, PARTY_VALUE[1], top + index * PARTY_ROW_H, PARTY_ROW_H,
             FIGURE_FONT if index == 1 else TEXT_FONT, SIZE_VALUE)


def draw_overlay(pen: Pen, view: PrintView) -> None:
    """The invoice's data at the form's places (pen: the form's corner, moved by the printer offset)."""
    invoice = view.invoice
    issued = view.issued_at
    pen.begin_text()
    pen.text(HEADER_VALUE_X, NUMBER_Y, view.official_number or invoice.number, FIGURE_FONT, 9.0)
    pen.text(HEADER_VALUE_X, DATE_Y, f"{issued.year}年{issued.month:02d}月{issued.day:02d}日", TEXT_FONT, 9.0)
    _party(pen, invoice.buyer, BUYER_TOP)
    _party(pen, invoice.seller, SELLER_TOP)
    for index, line in enumerate(invoice.lines):
        cells = {"name": line.name, "spec": line.spec, "unit": line.unit, "quantity": format_plain(line.quantity),
                 "unit_price": format_plain(line.unit_price), "amount": format_money(line.amount),
                 "tax_rate": rate_text(line), "tax": tax_text(line)}
        for column in COLUMNS:
            _box(pen, cells[column.key], column.x0, column.x1, ROWS_TOP + index * ROW_H, ROW_H,
                 FIGURE_FONT if column.key in FIGURES else TEXT_FONT, SIZE_LINE, column.align)
    for key, value in (("amount", invoice.total_amount), ("tax", invoice.total_tax)):
        pen.text(_BY_KEY[key].x1 - CELL_PAD, TOTAL_BASE, "¥" + format_money(value), FIGURE_FONT, SIZE_LINE, "right")
    pen.text(CAPITALS_X, CAPITALS_BASE, capitals(invoice.total_with_tax), TEXT_FONT, SIZE_VALUE + 0.5)
    pen.text(FIGURES_X, CAPITALS_BASE, "¥" + format_money(invoice.total_with_tax), FIGURE_FONT, SIZE_VALUE + 0.5)
    remarks = remark_text(invoice)
    if remarks:
        x, y, w, h = REMARKS
        fitted = fit(remarks, w, h, TEXT_FONT, SIZE_VALUE, SIZE_MIN)
        for index, piece in enumerate(fitted.lines):
            pen.text(x, y + fitted.leading_mm * (index + 0.85), piece, TEXT_FONT, fitted.size)
    for x, key in CLERKS:
        pen.text(x, CLERKS_Y, getattr(invoice, key), TEXT_FONT, SIZE_VALUE)
    pen.end_text()

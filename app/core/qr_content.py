"""The text of a 数电 invoice's QR code (shudian-rules.md section 7), with its CRC.

Comma-separated: version `01`, type (`31` 专票, `32` 普票), the invoice code (empty for an
electronic 数电 invoice; a paper one gives its form's 10- or 12-digit code), the number (20 digits;
a paper one its form's 8-digit number), the amount (价税合计 for electronic, the amount without tax
for paper), the date `YYYYMMDD`, the check code (empty for electronic; for paper the last 6 digits
of the 20-digit number), then four upper-case hex digits of a CRC-16 (polynomial 0x8005, initial 0,
no reflection, no final XOR) over the first seven fields and the comma after the seventh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.core.invoice import InvoiceKind
from app.core.money import format_money

VERSION = "01"
QR_TYPES = {InvoiceKind.SPECIAL: "31", InvoiceKind.NORMAL: "32"}
POLYNOMIAL = 0x8005


def crc16(data: bytes) -> int:
    """CRC-16 with polynomial 0x8005, initial value 0, no reflection, no final XOR (CRC-16/UMTS)."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ POLYNOMIAL) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def with_crc(fields: list[str]) -> str:
    """The seven fields joined by commas, the comma after the seventh, and the CRC of all that."""
    if len(fields) != 7:
        raise ValueError(f"seven fields before the CRC, not {len(fields)}")
    text = ",".join(fields) + ","
    return f"{text}{crc16(text.encode('ascii')):04X}"


@dataclass(frozen=True)
class PaperForm:
    """The pre-printed form a paper 数电 invoice is printed on: its own code and 8-digit number."""

    code: str  # 10 or 12 digits
    number: str  # 8 digits


def electronic_qr(kind: InvoiceKind, number: str, total_with_tax: Decimal, issued: date) -> str:
    return with_crc([VERSION, QR_TYPES[kind], "", number, format_money(total_with_tax), issued.strftime("%Y%m%d"),
                     ""])


def paper_qr(kind: InvoiceKind, form: PaperForm, official_number: str, total_amount: Decimal, issued: date) -> str:
    if not (form.code.isdigit() and len(form.code) in (10, 12) and form.number.isdigit() and len(form.number) == 8):
        raise ValueError(f"paper form code {form.code!r} / number {form.number!r}")
    return with_crc([VERSION, QR_TYPES[kind], form.code, form.number, format_money(total_amount),
                     issued.strftime("%Y%m%d"), official_number[-6:]])

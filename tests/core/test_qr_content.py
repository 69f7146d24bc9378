"""The QR text of section 7 and its CRC, with the specification's own example."""

from datetime import date
from decimal import Decimal

import pytest

from app.core.invoice import InvoiceKind
from app.core.qr_content import PaperForm, crc16, electronic_qr, paper_qr, with_crc


def test_the_specifications_example():
    assert with_crc(["01", "32", "", "24312000000136634917", "0.01", "20240514", ""]) == (
        "01,32,,24312000000136634917,0.01,20240514,,1DD6")
    assert electronic_qr(InvoiceKind.NORMAL, "24312000000136634917", Decimal("0.01"), date(2024, 5, 14)).endswith(
        ",1DD6")


def test_the_crc_is_crc16_umts():
    assert crc16(b"123456789") == 0xFEE8  # the catalogue check value of CRC-16/UMTS (poly 0x8005, init 0)
    assert crc16(b"") == 0


def test_electronic_and_paper_content():
    text = electronic_qr(InvoiceKind.SPECIAL, "26112000000000000123", Decimal("1060"), date(2026, 12, 1))
    assert text.startswith("01,31,,26112000000000000123,1060.00,20261201,,") and len(text.split(",")[-1]) == 4
    paper = paper_qr(InvoiceKind.NORMAL, PaperForm("011002600111", "12345678"), "26110000000000000456",
                     Decimal("1000.00"), date(2026, 12, 1))
    assert paper.startswith("01,32,011002600111,12345678,1000.00,20261201,000456,")
    with pytest.raises(ValueError):
        paper_qr(InvoiceKind.NORMAL, PaperForm("123", "1"), "26110000000000000456", Decimal(1), date(2026, 12, 1))

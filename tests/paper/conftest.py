"""Paper 数电 invoices: issued through the real issue service (medium paper, platform channel) and given their
official number as the upload worker records it."""

from __future__ import annotations

import pytest

from app.services.issuing import IssuedInvoice, issue_invoice
from app.services.seller import SellerSettings
from tests.helpers.bodies import full_body
from tests.helpers.platform import accept

OFFICIAL = "24312000000136634917"
CODE = "144031900110"


@pytest.fixture
def paper_invoice(seller: SellerSettings) -> IssuedInvoice:
    issued = issue_invoice(full_body(medium="paper", payee="李四", reviewer="王五"))
    accept(issued.number, OFFICIAL)
    return issued

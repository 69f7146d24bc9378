"""Invoices to print: issued through the real issue service into the real store."""

from __future__ import annotations

import pytest

from app.services.issuing import IssuedInvoice, issue_invoice
from app.services.seller import SellerSettings
from tests.helpers.bodies import full_body, invoice_body, long_lines


@pytest.fixture
def issued(seller: SellerSettings) -> IssuedInvoice:
    return issue_invoice(full_body())


@pytest.fixture
def long_invoice(seller: SellerSettings) -> IssuedInvoice:
    return issue_invoice(invoice_body(lines=long_lines(20)))

"""Invoices to print: issued through the real issue service into the real store.

On the default (platform) channel an issue records a pre-issue record (预开单), not an invoice; `accepted` is
one the platform has issued (official number), `direct_invoice` one issued on the direct channel from the
desk's own numbers (the reference platform on loopback gave the block and the quota)."""

from __future__ import annotations

import pytest

from app.platform.server import PlatformServer
from app.services.issuing import IssuedInvoice, issue_invoice
from app.services.seller import SellerSettings
from tests.helpers.bodies import full_body, invoice_body, long_lines
from tests.helpers.platform import accept


@pytest.fixture
def issued(seller: SellerSettings) -> IssuedInvoice:
    return issue_invoice(full_body())


@pytest.fixture
def accepted(issued: IssuedInvoice) -> IssuedInvoice:
    """The pre-issue record once the platform issued it (what the upload worker records)."""
    accept(issued.number)
    return issued


@pytest.fixture
def long_invoice(seller: SellerSettings) -> IssuedInvoice:
    return issue_invoice(invoice_body(lines=long_lines(20)))


@pytest.fixture
def direct_invoice(direct: PlatformServer) -> IssuedInvoice:
    return issue_invoice(full_body())

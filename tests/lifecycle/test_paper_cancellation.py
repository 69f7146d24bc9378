"""Only a paper 数电 invoice can be cancelled, and only in the month it was issued (shudian-rules.md section 4):
issued by the reference platform over real HTTP (platform channel, medium paper), cancelled in its month; in the
next month refused; an electronic one refused, pointing to a red-letter form; a paper one with a red-letter
form raised against it refused too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import status
from app.core.clock import now
from app.core.errors import ValidationFailed
from app.platform.server import PlatformServer
from app.services import red_forms
from app.services.lifecycle import cancel_invoice
from app.services.seller import SellerSettings
from app.services.settings import make_client, set_platform
from app.store.database import Store
from app.store.models import AuditEntry, Invoice
from tests.helpers.platform import SYNC_TOKEN
from tests.platform_v2.support import set_clock
from tests.red_forms.support import accepted_blue, two_lines


@pytest.fixture
def online(store: Store, seller: SellerSettings, v2: PlatformServer) -> PlatformServer:
    set_clock(v2, reset=True)
    set_platform(v2.url, SYNC_TOKEN)
    return v2


def _next_month():
    today = now()
    return (today.replace(day=1) + timedelta(days=32)).replace(day=1, hour=9)


def test_a_paper_invoice_is_cancelled_in_its_month_and_refused_in_the_next(online):
    paper = accepted_blue(online, two_lines(medium="paper"))
    later = accepted_blue(online, two_lines(medium="paper"))
    with pytest.raises(ValidationFailed) as caught:
        cancel_invoice(later, "跨月", at=_next_month())
    assert caught.value.errors[0].field == "cancel" and "本月" in caught.value.errors[0].message_zh
    assert Invoice.get(Invoice.official_number == later).status == status.ACCEPTED

    outcome = cancel_invoice(paper, "打印错位，作废", clerk="李四")
    assert outcome.cancelled and paper in outcome.message_zh
    row = Invoice.get(Invoice.official_number == paper)
    assert row.status == status.CANCELLED and row.cancel_reason == "打印错位，作废"
    entry = AuditEntry.select().where((AuditEntry.invoice == row) & (AuditEntry.action == "cancelled")).get()
    assert entry.clerk == "李四"


def test_an_electronic_invoice_is_never_cancelled(online):
    electronic = accepted_blue(online)
    for moment in (None, _next_month()):
        with pytest.raises(ValidationFailed) as caught:
            cancel_invoice(electronic, "想作废", at=moment)
        error = caught.value.errors[0]
        assert error.field == "cancel" and "红字确认单" in error.message_zh and "red-form raise" in error.message_en
    assert Invoice.get(Invoice.official_number == electronic).status == status.ACCEPTED


def test_a_paper_invoice_with_a_red_letter_form_is_not_cancelled(online):
    paper = accepted_blue(online, two_lines(medium="paper"))
    client = make_client()
    try:
        red_forms.raise_form(paper, "04", [{"original_line_no": 1, "amount": "10"}], client=client)
    finally:
        client.close()
    with pytest.raises(ValidationFailed) as caught:
        cancel_invoice(paper, "作废")
    assert "红字" in caught.value.errors[0].message_zh

"""A red invoice reversing a stored, accepted blue invoice in full, on a red-letter form, for tests and the store
builder that need one without a platform: the form is recorded by the real service and then marked as the
platform answers a seller's form the buyer has not yet confirmed (status 01), as tests.helpers.platform.accept
marks an upload accepted; the red invoice is then issued by the real service on that form."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from app.core.clock import now_iso
from app.platform.client import RedForm, RedFormLine
from app.services import red_forms
from app.services.issuing import IssuedInvoice
from app.store.models import RedLetterForm, database

REASON_CODES = {"开票有误": "01", "销货退回": "02", "服务中止": "03", "销售折让": "04"}
_serial = 0


def answered_form(number: str, reason: str = "开票有误", lines: list[dict[str, Any]] | None = None) -> str:
    """A form against `number` (in full, or `lines` as red_forms.record_request takes them), recorded and answered
    01 (no confirmation needed); its uuid."""
    global _serial
    _serial += 1
    row = red_forms.record_request(number, REASON_CODES.get(reason, reason), lines)
    stamp = now_iso()
    sent = tuple(RedFormLine(int(line["original_line_no"]), line["quantity"], Decimal(line["amount"]),
                             Decimal(line["tax"])) for line in json.loads(row.lines))
    answer = RedForm(uuid=str(uuid.uuid4()), form_number=f"{stamp[:10].replace('-', '')}{_serial:012d}",
                     status="01", raised_by="seller", original_number=row.original_number, reason=row.reason,
                     lines=sent, total_amount=row.total_amount, total_tax=row.total_tax, created_at=stamp,
                     updated_at=stamp, expires_at=None, red_number=None, request_id=row.request_id)
    with database.atomic("IMMEDIATE"):
        red_forms._apply(RedLetterForm.get_by_id(row.id), answer, clerk="sync", tell=False)  # as send_requests
    return answer.uuid


def red_on_form(number: str, reason: str = "开票有误", *, clerk: str = "",
                lines: list[dict[str, Any]] | None = None) -> IssuedInvoice:
    """The red invoice reversing `number` (in full, or `lines`), issued by the real service on an answered form."""
    return red_forms.issue_red_invoice(answered_form(number, reason, lines), clerk=clerk)

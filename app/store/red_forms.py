"""The desk's red-letter confirmation forms (红字确认单, table red_letter_form): what they hold of a blue invoice,
and reading them for the views. The services (app/services/red_forms.py) write them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import peewee

from app.core import status as statuses
from app.core.money import ZERO
from app.store.models import Invoice, RedLetterForm

REQUESTED, KNOWN, REFUSED = "requested", "known", "refused"  # RedLetterForm.state
OPEN_STATUSES = ("01", "02", "03", "04")  # still holding a part of the blue invoice, until a red invoice uses it
USABLE_STATUSES = ("01", "04")  # a red invoice may be issued on these
WAITING_STATUSES = ("02", "03")  # void (07) when not answered within 72 hours
END_STATUSES = ("05", "06", "07", "08", "09", "10")


def _numbers(blue: Invoice) -> list[str]:
    return [n for n in (blue.provisional_number, blue.official_number) if n]


def unused() -> peewee.Expression:
    """No red invoice on the form yet: none issued, or the one issued was rejected by the platform or withdrawn
    before it was issued (the form is usable again)."""
    dropped = Invoice.select(Invoice.id).where(Invoice.status.in_((statuses.CANCELLED, statuses.REJECTED)))
    return (RedLetterForm.red_invoice.is_null() | RedLetterForm.red_invoice.in_(dropped)) \
        & RedLetterForm.red_number.is_null()


def holding(blue: Invoice, *, except_id: int | None = None) -> peewee.ModelSelect[RedLetterForm]:
    """The forms that hold a part of the blue invoice: requests not yet answered, and open forms not used."""
    query = RedLetterForm.select().where(
        RedLetterForm.original_number.in_(_numbers(blue)) & unused()
        & ((RedLetterForm.state == REQUESTED)
           | ((RedLetterForm.state == KNOWN) & RedLetterForm.status.in_(OPEN_STATUSES))))
    if except_id is not None:
        query = query.where(RedLetterForm.id != except_id)
    return query


def held_by_forms(blue: Invoice, *, except_id: int | None = None) -> Decimal:
    """What those forms hold, with tax, as a positive figure."""
    held = ZERO
    for form in holding(blue, except_id=except_id):
        held += -(form.total_amount + form.total_tax)
    return held


@dataclass(frozen=True)
class FormView:
    """A form as the views and the command line show it."""

    id: int
    uuid: str | None
    form_number: str
    state: str
    status: str
    raised_by: str
    original_number: str
    reason: str
    lines: list[dict[str, Any]]
    total_amount: Decimal
    total_tax: Decimal
    red_number: str | None
    red_invoice: str | None  # the desk's number of the red invoice issued on it
    decision: str | None
    message: str
    told: bool
    requested_at: str
    created_at: str | None
    expires_at: str | None
    updated_at: str
    last_error: str

    @property
    def usable(self) -> bool:
        return self.state == KNOWN and self.status in USABLE_STATUSES and self.red_number is None \
            and RedLetterForm.select().where((RedLetterForm.id == self.id) & unused()).exists()

    @classmethod
    def of(cls, row: RedLetterForm) -> FormView:
        red = Invoice.get_or_none(Invoice.id == row.red_invoice_id) if row.red_invoice_id else None
        return cls(id=row.id, uuid=row.uuid, form_number=row.form_number, state=row.state, status=row.status,
                   raised_by=row.raised_by, original_number=row.original_number, reason=row.reason,
                   lines=json.loads(row.lines), total_amount=row.total_amount, total_tax=row.total_tax,
                   red_number=row.red_number,
                   red_invoice=(red.official_number or red.provisional_number) if red is not None else None,
                   decision=row.decision, message=row.message, told=row.told, requested_at=row.requested_at,
                   created_at=row.created_at, expires_at=row.expires_at, updated_at=row.updated_at,
                   last_error=row.last_error)


def find_form(key: str) -> RedLetterForm | None:
    """By uuid, form number, request id or the desk's row id."""
    query = (RedLetterForm.uuid == key) | (RedLetterForm.form_number == key) | (RedLetterForm.request_id == key)
    if key.isdigit() and len(key) < 12:
        query = query | (RedLetterForm.id == int(key))
    return RedLetterForm.select().where(query).order_by(RedLetterForm.id).first()


def list_forms(*, status: str | None = None, original_number: str | None = None) -> list[FormView]:
    query = RedLetterForm.select().order_by(RedLetterForm.id)
    if status is not None:
        query = query.where(RedLetterForm.status == status)
    if original_number is not None:
        query = query.where(RedLetterForm.original_number == original_number)
    return [FormView.of(row) for row in query]

"""Correcting issued invoices: cancellation (作废) and red-letter invoices (红字). The form, the
command line (`cancel`, `red`) and the tests all come through these functions.

Cancellation
    Only an invoice the platform has not accepted, within the calendar month it was issued in
    (Beijing time), with a reason. The record stays: status `cancelled`, the reason and time on
    the row, an audit entry "cancelled" with clerk and reason; the paper prints 作废.
    What happens to its upload depends on where its queue entry is (app/store/status.py):

    - known not to be on the platform: `pending` (never sent, or looked up and not found) or
      `retry_wait` (the last send failed before the platform acted: 429/5xx, refused connection);
      the entry becomes `withdrawn` and is never sent (the worker claims entries inside an
      IMMEDIATE transaction, so it cannot be halfway through claiming this one). Rejected by
      the platform: cancelled at once too.
    - possibly on the platform already (`sending`, `unknown_outcome`): the request is queued
      (CancellationRequest, audit "cancel_requested") and carried out in the order requested
      once the outcome is known (resolve_cancellations, run by app/sync/outage_feed.py when the
      platform answers, and after each upload pass): if the platform has it, the cancellation is
      refused ("cancel_refused", the clerk is told to issue a red-letter invoice); if it does not,
      the entry is withdrawn (only if the worker has not picked it up again meanwhile) and the
      invoice cancelled. A cancellation requested offline so waits until the platform answers;
      nothing is sent after its cancellation has been carried out.

Red-letter invoices
    Only against an accepted, positive original, with one of the four reasons (销货退回 /
    开票有误 / 服务中止 / 销售折让), in full (every line negated) or in part (the lines given, each
    naming an item and rate of the original). The red total never exceeds what remains of the
    original: its total less every earlier red-letter invoice against it that is not cancelled
    or rejected. Checked inside the issuing transaction (with the offline limits), so two
    instances cannot both reverse the last yuan. The reason is kept on the row (`red_reason`),
    outside the protocol body and its content hash; the original gets an audit entry "reversed".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.core import status
from app.core.clock import now, now_iso
from app.core.codec import legacy_line_to_body, line_to_body
from app.core.errors import FieldError, ValidationFailed
from app.core.lifecycle import (
    cancel_reason_error,
    cancellation_window_error,
    normalize_red_reason,
    red_reason_error,
    reversal_error,
)
from app.core.money import format_money
from app.core.tax import find_rate
from app.core.validation import RATE_CODE_OF_POLICY, RED_REASON_CODES
from app.services.issuing import IssuedInvoice, issue_invoice, prepare_invoice, write_issued
from app.services.limits import check_can_issue
from app.services.queue import Outcome, record_outcomes
from app.services.seller import get_seller
from app.store import audit
from app.store.models import CancellationRequest, UploadQueueEntry, database
from app.store.models import Invoice as InvoiceRow
from app.store.queries import find_row, get_invoice, reversal_room

# Queue states in which the platform may already hold the invoice.
IN_DOUBT_STATES = (status.Q_SENDING, status.Q_UNKNOWN)
# States in which it certainly does not (never sent, or the last send failed before the platform acted).
NOT_SENT_STATES = (status.Q_PENDING, status.Q_RETRY_WAIT)
REQUEST_WAITING, REQUEST_DONE, REQUEST_REFUSED = status.REQUEST_WAITING, status.REQUEST_DONE, status.REQUEST_REFUSED


def _fail(field: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, zh, en)])


# --- cancellation ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CancelOutcome:
    number: str
    cancelled: bool  # carried out now; False: queued until the upload's outcome is known
    message_zh: str
    message_en: str

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en


def _refuse_accepted(row: InvoiceRow) -> ValidationFailed:
    official = row.official_number or ""
    return _fail("cancel", f"发票 {row.provisional_number} 已被平台接受（{official}），不能作废；请开具红字发票冲销",
                 f"invoice {row.provisional_number} was accepted by the platform ({official}) and cannot be "
                 "cancelled; issue a red-letter invoice to reverse it")


def _mark_cancelled(row: InvoiceRow, reason: str, clerk: str, detail: audit.Detail) -> None:
    """Inside the caller's transaction."""
    InvoiceRow.update(status=status.CANCELLED, cancelled_at=now_iso(), cancel_reason=reason).where(
        InvoiceRow.id == row.id).execute()
    audit.append("cancelled", clerk=clerk, invoice=row, detail={"reason": reason, **detail})


def cancel_invoice(number: str, reason: str, *, clerk: str = "", at: datetime | None = None) -> CancelOutcome:
    """Cancel, or queue the cancellation of, an invoice not accepted by the platform. Raises ValidationFailed."""
    error = cancel_reason_error(reason)
    if error:
        raise ValidationFailed([error])
    reason = reason.strip()
    moment = at or now()
    with database.atomic("IMMEDIATE"):
        row = find_row(number)
        if row is None:
            raise _fail("number", f"没有号码为 {number} 的发票", f"no invoice numbered {number}")
        clerk = clerk or row.drawer
        if row.status == status.CANCELLED:
            raise _fail("cancel", f"发票 {row.provisional_number} 已作废",
                        f"invoice {row.provisional_number} is already cancelled")
        if row.status == status.ACCEPTED:
            raise _refuse_accepted(row)
        window = cancellation_window_error(datetime.fromisoformat(row.issued_at), moment)
        if window:
            raise ValidationFailed([window])
        waiting = CancellationRequest.get_or_none((CancellationRequest.invoice == row)
                                                  & (CancellationRequest.state == REQUEST_WAITING))
        if waiting is not None:
            raise _fail("cancel", f"发票 {row.provisional_number} 的作废申请已在等待上传结果",
                        f"a cancellation of {row.provisional_number} is already waiting for the upload's outcome")
        entry = UploadQueueEntry.get_or_none(UploadQueueEntry.invoice == row)
        if entry is None or entry.state == status.Q_REJECTED or row.status == status.REJECTED:
            _mark_cancelled(row, reason, clerk, {"queue": entry.state if entry else None})
            return CancelOutcome(row.provisional_number, True, f"发票 {row.provisional_number} 已作废",
                                 f"invoice {row.provisional_number} cancelled")
        if entry.state in NOT_SENT_STATES:
            UploadQueueEntry.update(state=status.Q_WITHDRAWN, updated_at=now_iso()).where(
                UploadQueueEntry.id == entry.id).execute()
            _mark_cancelled(row, reason, clerk, {"queue": "withdrawn"})
            return CancelOutcome(row.provisional_number, True,
                                 f"发票 {row.provisional_number} 已作废，未上传的记录已撤回",
                                 f"invoice {row.provisional_number} cancelled; its upload was withdrawn")
        if entry.state == status.Q_ACCEPTED:
            raise _refuse_accepted(row)
        CancellationRequest.create(invoice=row, reason=reason, clerk=clerk, requested_at=now_iso())
        audit.append("cancel_requested", clerk=clerk, invoice=row, detail={"reason": reason, "queue": entry.state})
        return CancelOutcome(
            row.provisional_number, False,
            f"发票 {row.provisional_number} 可能已送达平台，作废申请已排队，待上传结果确定后执行"
            "（若平台已接受，将不能作废，须开具红字发票）",
            f"invoice {row.provisional_number} may have reached the platform: the cancellation is queued until "
            "the upload's outcome is known (if the platform accepted it, a red-letter invoice is needed instead)")


# The platform's record of an invoice, as its JSON gives it (official_number, platform_id, ...).
PlatformRecord = dict[str, Any]
# lookup(idempotency_key) -> the platform's record or None when the platform does not hold it;
# raises on a transient failure (the request then keeps waiting).
Lookup = Callable[[UploadQueueEntry], PlatformRecord | None]  # the platform's record of an entry
# record_acceptance(entry, record): the sync side's way of storing an acceptance found by lookup.
RecordAcceptance = Callable[[UploadQueueEntry, PlatformRecord], None]


def record_acceptance_here(entry: UploadQueueEntry, record: PlatformRecord) -> None:
    """An acceptance found by look-up, recorded by the queue service as the worker records its own."""

    number = record.get("number")
    record_outcomes([Outcome(entry.id, True, official_number=number if isinstance(number, str) else None,
                             accepted_at=record.get("accepted_at"), found_by="lookup")])


def _close_request(request: CancellationRequest, state: str, message: str, action: str, row: InvoiceRow) -> None:
    CancellationRequest.update(state=state, resolved_at=now_iso(), message=message).where(
        CancellationRequest.id == request.id).execute()
    if action:
        audit.append(action, clerk=request.clerk, invoice=row, detail={"reason": request.reason, "message": message})


def resolve_cancellations(lookup: Lookup | None = None,
                          record_acceptance: RecordAcceptance | None = None) -> list[CancelOutcome]:
    """Carry out waiting cancellations, oldest request first, where the upload's outcome is known.

    Without lookup only outcomes the queue worker has recorded count; with it, an entry in
    doubt is asked about (by number, or by key on the platform channel). Returns what was decided now.
    """
    decided: list[CancelOutcome] = []
    requests = list(CancellationRequest.select().where(CancellationRequest.state == REQUEST_WAITING)
                    .order_by(CancellationRequest.id))
    for request in requests:
        row = InvoiceRow.get_by_id(request.invoice_id)
        entry = UploadQueueEntry.get_or_none(UploadQueueEntry.invoice == row)
        state = entry.state if entry else None
        known = state in (status.Q_ACCEPTED, status.Q_REJECTED, status.Q_TOO_LATE) or row.status in (
            status.ACCEPTED, status.REJECTED, status.UPLOAD_TOO_LATE)
        # Not known but not sent (looked up by the worker, or failed before the platform acted): not there.
        record: PlatformRecord | None = None
        if not known and state not in NOT_SENT_STATES:
            if lookup is None or state == status.Q_SENDING or entry is None:
                continue  # the outcome is not known yet: wait
            try:
                record = lookup(entry)
            except Exception:
                continue
        if not known:
            assert entry is not None  # no entry: no state, so it was known or waited above
            if record is not None:
                (record_acceptance or record_acceptance_here)(entry, record)
                row = InvoiceRow.get_by_id(row.id)
            else:
                with database.atomic("IMMEDIATE"):
                    # Only if the worker has not picked the entry up since the lookup.
                    withdrawn = UploadQueueEntry.update(state=status.Q_WITHDRAWN, updated_at=now_iso()).where(
                        (UploadQueueEntry.id == entry.id)
                        & (UploadQueueEntry.state.in_((status.Q_PENDING, status.Q_RETRY_WAIT, status.Q_UNKNOWN)))
                    ).execute()
                    if withdrawn:
                        _mark_cancelled(row, request.reason, request.clerk,
                                        {"queue": "withdrawn", "requested_at": request.requested_at})
                        _close_request(request, REQUEST_DONE, "", "", row)
                        decided.append(CancelOutcome(
                            row.provisional_number, True,
                            f"发票 {row.provisional_number} 已作废（平台未收到，已撤回上传）",
                            f"invoice {row.provisional_number} cancelled (the platform never got it)"))
                continue
        with database.atomic("IMMEDIATE"):
            row = InvoiceRow.get_by_id(row.id)
            if row.status == status.ACCEPTED:
                message = (f"平台已接受发票 {row.provisional_number}（{row.official_number}），作废未执行；"
                           "请开具红字发票冲销")
                _close_request(request, REQUEST_REFUSED, message, "cancel_refused", row)
                decided.append(CancelOutcome(row.provisional_number, False, message,
                                             f"the platform accepted {row.provisional_number} ({row.official_number}): "
                                             "not cancelled; issue a red-letter invoice"))
            else:
                _mark_cancelled(row, request.reason, request.clerk,
                                {"queue": state, "requested_at": request.requested_at})
                _close_request(request, REQUEST_DONE, "", "", row)
                decided.append(CancelOutcome(row.provisional_number, True, f"发票 {row.provisional_number} 已作废",
                                             f"invoice {row.provisional_number} cancelled"))
    return decided


# --- red-letter --------------------------------------------------------------------------------

def _full_reversal_lines(original_number: str) -> list[dict[str, Any]]:
    """Every line negated; a discount line is folded into the line it discounts (a red line has no discount)."""
    invoice = get_invoice(original_number)
    assert invoice is not None
    folded: list[dict[str, Any]] = []
    for line_no, line in enumerate(invoice.lines, start=1):
        if line.discount and folded:
            previous = folded[-1]
            amount = Decimal(previous["amount"]) - line.amount
            tax = Decimal(previous["tax"]) - line.tax
            folded[-1] = {**previous, "quantity": "", "unit_price": "", "amount": format_money(amount),
                          "tax": format_money(tax)}
            continue
        if invoice.is_legacy:
            # A line issued before 数电 has no tax code: the red line carries the name and rate only,
            # and validation asks for the code (a partial reversal with codes given is the way).
            body = legacy_line_to_body(line)
        else:
            body = line_to_body(line, line_no)
            body.update(nature="normal", original_line_no=line_no, name="")
            body.pop("line_no")
            body.pop("amount_with_tax")
        body.update(amount=format_money(-line.amount), tax=format_money(-line.tax))
        if line.quantity is not None:
            body["quantity"] = f"{-line.quantity}"
        folded.append(body)
    return folded


def _check_lines_match_original(lines: Any, original: InvoiceRow) -> list[FieldError]:
    if not isinstance(lines, list) or not lines:
        return [FieldError("lines", "部分冲红须给出红字明细", "a partial reversal needs its lines")]
    items = {(line.item_name or line.name, line.tax_rate) for line in original.lines}
    names = {name for name, _ in items}
    errors: list[FieldError] = []
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            continue  # validation names it
        rate = find_rate(line.get("tax_rate"))
        if rate is not None and rate.rate == 0 and line.get("policy") in RATE_CODE_OF_POLICY:
            rate = find_rate(RATE_CODE_OF_POLICY[line["policy"]])
        name = str(line.get("item_name") or line.get("name", "")).strip()
        if name not in names:
            errors.append(FieldError(f"lines[{index}].item_name", f"原发票没有“{name}”这一项",
                                     f"the original has no item {name!r}"))
        elif rate is not None and (name, rate.code) not in items:
            errors.append(FieldError(f"lines[{index}].tax_rate", "税率与原发票该项不同",
                                     "differs from the rate of this item on the original"))
    return errors


def issue_red_letter(original_number: str, reason: str, *, lines: list[dict[str, Any]] | None = None,
                     clerk: str = "",
                     remarks: str = "") -> IssuedInvoice:
    """Issue a red-letter invoice against an accepted one: in full when lines is None. Raises ValidationFailed."""
    errors: list[FieldError] = []
    reason_error = red_reason_error(reason)
    if reason_error:
        errors.append(reason_error)
    original = find_row(original_number)
    if original is None:
        raise ValidationFailed([*errors, FieldError("original_number", f"没有号码为 {original_number} 的发票",
                                                    f"no invoice numbered {original_number}")])
    if original.original_number:
        errors.append(FieldError("original_number", f"{original_number} 本身是红字发票，不能再冲红",
                                 f"{original_number} is itself a red-letter invoice"))
    elif original.status != status.ACCEPTED:
        errors.append(FieldError("original_number",
                                 f"原发票 {original.provisional_number} 尚未被平台接受（{original.status}），"
                                 "不能开具红字发票；未上传的发票可作废",
                                 f"the original {original.provisional_number} is not accepted by the platform "
                                 f"({original.status}); an invoice not yet accepted can be cancelled instead"))
    if lines is not None:
        errors += _check_lines_match_original(lines, original)
    if errors:
        raise ValidationFailed(errors)
    red_reason = normalize_red_reason(reason)
    assert red_reason is not None  # red_reason_error let it through
    seller = get_seller()
    if seller is None:
        raise _fail("seller", "销售方信息未设置", "no seller profile yet")
    reference = original.official_number or original.provisional_number
    note = f"对应正数发票号码：{reference}；红字原因：{red_reason}"
    body = {
        "kind": original.kind,
        "buyer": {"name": original.buyer_name, "tax_id": original.buyer_tax_id, "address": original.buyer_address,
                  "phone": original.buyer_phone, "bank": original.buyer_bank, "account": original.buyer_account,
                  "natural_person": original.buyer_natural_person, "id_type": original.buyer_id_type,
                  "id_number": original.buyer_id_number},
        "lines": lines if lines is not None else _full_reversal_lines(original.provisional_number),
        "original_number": reference,
        "red_reason": RED_REASON_CODES[red_reason],
        "medium": original.medium if original.rules != "legacy" else "electronic",
        "remarks": (note + ("；" + remarks.strip() if remarks.strip() else ""))[:450],
        "drawer": clerk or seller.drawer,
    }
    # The buyer's id on the original was accepted already (its confirmed override included).
    confirmed = original.confirmed_tax_ids.split()
    invoice = prepare_invoice(body, seller, confirmed, confirmed_short_name=True)
    with database.atomic("IMMEDIATE"):
        fresh = InvoiceRow.get_by_id(original.id)
        if fresh.status != status.ACCEPTED:
            raise _fail("original_number", "原发票状态已改变，请重试", "the original changed meanwhile; try again")
        room = reversal_room(fresh)
        over = reversal_error(room, invoice.total_with_tax)
        if over:
            raise ValidationFailed([over])
        check_can_issue([invoice.total_amount])
        issued = write_issued(invoice, clerk)
        InvoiceRow.update(red_reason=red_reason).where(InvoiceRow.id == issued.id).execute()
        audit.append("reversed", clerk=clerk or invoice.drawer, invoice=fresh,
                     detail={"red_number": issued.number, "reason": red_reason,
                             "total_with_tax": format_money(invoice.total_with_tax),
                             "remaining": format_money(room.remaining + invoice.total_with_tax)})
    return issued


# --- a rejected invoice corrected ---------------------------------------------------------------

def cancel_and_reissue(number: str, corrected_body: Any, *, reason: str, clerk: str = "",
                       confirmed_tax_ids: Iterable[str] = ()) -> IssuedInvoice:
    """The proper route for a rejected invoice: cancel it and issue the corrected one, in one
    transaction (both or neither). The new invoice is queued by issuing, under a new key."""
    with database.atomic("IMMEDIATE"):
        outcome = cancel_invoice(number, reason, clerk=clerk)
        if not outcome.cancelled:
            raise ValidationFailed([FieldError("cancel", outcome.message_zh, outcome.message_en)])
        issued = issue_invoice(corrected_body, clerk=clerk, confirmed_tax_ids=confirmed_tax_ids)
        new_row = InvoiceRow.get_by_id(issued.id)
        audit.append("reissued", clerk=clerk, invoice=new_row, detail={"replaces": number, "reason": reason})
        return issued

"""Correcting issued invoices under 数电 rules (shudian-rules.md section 4): cancellation (作废) where the law
allows it, and the withdrawal of a pre-issue record never issued. Red-letter invoices go through a
confirmation form: app/services/red_forms.py.

Cancellation
    An electronic 数电 invoice can never be cancelled: refused, pointing to a red-letter form (red-form raise).
    A paper 数电 invoice (medium paper, platform channel) can, within the calendar month it was issued in
    (Beijing time), with a reason, while no red invoice or open form reverses it. An invoice the platform
    rejected was never an invoice: it may be marked cancelled (the way to correct and reissue it). The record
    stays: status `cancelled`, the reason and time on the row, an audit entry "cancelled" with clerk and reason.

Withdrawal of a pre-issue record (预开单, platform channel, status pre_issue)
    Not an invoice until the platform issues it: it can be withdrawn whatever its month, and the desk keeps it,
    marked (status `cancelled`, audit "cancelled" with pre_issue_withdrawn). What happens to its queue entry
    depends on where it is (app/core/status.py):

    - known not to be on the platform: `pending` (never sent, or looked up and not found) or `retry_wait`
      (the last send failed before the platform acted): the entry becomes `withdrawn` and is never sent (the
      worker claims entries inside an IMMEDIATE transaction, so it cannot be halfway through claiming it).
    - possibly issued already (`sending`, `unknown_outcome`): the request is queued (CancellationRequest, audit
      "cancel_requested") and carried out in the order requested once the outcome is known
      (resolve_cancellations, run by app/sync/outage_feed.py when the platform answers, and after each upload
      pass): if the platform issued it, an electronic invoice is refused ("cancel_refused", the clerk is
      pointed to a red-letter form) and a paper one is cancelled within its month; if it did not, the entry is
      withdrawn (only if the worker has not picked it up again meanwhile) and the record marked.

Records cancelled, or reversed by a red invoice without a form, before these rules stay as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core import status
from app.core.clock import now, now_iso
from app.core.errors import FieldError, ValidationFailed
from app.core.lifecycle import cancel_reason_error, cancellation_window_error
from app.services.issuing import IssuedInvoice, issue_invoice
from app.services.queue import Outcome, record_outcomes
from app.store import audit
from app.store.models import CancellationRequest, UploadQueueEntry, database
from app.store.models import Invoice as InvoiceRow
from app.store.queries import find_row, reversal_room
from app.store.red_forms import holding

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


def refuse_electronic(row: InvoiceRow) -> ValidationFailed:
    number = row.official_number or row.provisional_number
    return _fail("cancel", f"发票 {number} 是电子发票，数电电子发票不能作废；"
                           f"请提出红字确认单（red-form raise {number}）并据此开具红字发票",
                 f"invoice {number} is electronic: an electronic 数电 invoice can never be cancelled; raise a "
                 f"red-letter form (red-form raise {number}) and issue the red invoice on it")


def _paper_refusal(row: InvoiceRow, moment: datetime) -> ValidationFailed | None:
    """Why a paper invoice the platform issued cannot be cancelled now (None: it can)."""
    window = cancellation_window_error(datetime.fromisoformat(row.issued_at), moment)
    if window:
        return ValidationFailed([window])
    if reversal_room(row).reversed_so_far > 0 or holding(row).exists():
        return _fail("cancel", f"发票 {row.official_number} 已有红字发票或红字确认单，不能作废",
                     f"invoice {row.official_number} has a red invoice or a red-letter form: it cannot be cancelled")
    return None


def _mark_cancelled(row: InvoiceRow, reason: str, clerk: str, detail: audit.Detail) -> None:
    """Inside the caller's transaction."""
    InvoiceRow.update(status=status.CANCELLED, cancelled_at=now_iso(), cancel_reason=reason).where(
        InvoiceRow.id == row.id).execute()
    audit.append("cancelled", clerk=clerk, invoice=row, detail={"reason": reason, **detail})


def _withdrawn(row: InvoiceRow) -> CancelOutcome:
    return CancelOutcome(row.provisional_number, True,
                         f"预开单 {row.provisional_number} 已撤回：未提交平台，记录保留并标记作废",
                         f"pre-issue record {row.provisional_number} withdrawn: never sent to the platform, kept and "
                         "marked cancelled")


def cancel_invoice(number: str, reason: str, *, clerk: str = "", at: datetime | None = None) -> CancelOutcome:
    """Cancel a paper invoice in its month, withdraw a pre-issue record never issued (or queue the withdrawal
    while its outcome is in doubt), or mark a rejected one. Electronic invoices are refused (red-letter
    instead). Raises ValidationFailed."""
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
        entry = UploadQueueEntry.get_or_none(UploadQueueEntry.invoice == row)
        if row.status == status.REJECTED or (entry is not None and entry.state == status.Q_REJECTED):
            # The platform refused it: it never was an invoice.
            _mark_cancelled(row, reason, clerk, {"queue": entry.state if entry else None, "rejected": True})
            return CancelOutcome(row.provisional_number, True, f"发票 {row.provisional_number} 已作废",
                                 f"invoice {row.provisional_number} cancelled")
        if row.status != status.PRE_ISSUE:
            if row.medium != "paper":
                raise refuse_electronic(row)
            if row.status != status.ACCEPTED:
                raise _fail("cancel", f"纸质发票 {row.provisional_number} 尚未由平台开具（{row.status}）",
                            f"paper invoice {row.provisional_number} was not issued by the platform ({row.status})")
            refusal = _paper_refusal(row, moment)
            if refusal is not None:
                raise refusal
            _mark_cancelled(row, reason, clerk, {"medium": "paper", "official_number": row.official_number})
            return CancelOutcome(row.provisional_number, True, f"纸质发票 {row.official_number} 已作废",
                                 f"paper invoice {row.official_number} cancelled")
        waiting = CancellationRequest.get_or_none((CancellationRequest.invoice == row)
                                                  & (CancellationRequest.state == REQUEST_WAITING))
        if waiting is not None:
            raise _fail("cancel", f"预开单 {row.provisional_number} 的撤回申请已在等待平台结果",
                        f"a withdrawal of {row.provisional_number} is already waiting for the platform's outcome")
        if entry is None or entry.state in NOT_SENT_STATES:
            if entry is not None:
                UploadQueueEntry.update(state=status.Q_WITHDRAWN, updated_at=now_iso()).where(
                    UploadQueueEntry.id == entry.id).execute()
            _mark_cancelled(row, reason, clerk, {"queue": "withdrawn", "pre_issue_withdrawn": True})
            return _withdrawn(row)
        if entry.state == status.Q_ACCEPTED:
            raise refuse_electronic(row)
        CancellationRequest.create(invoice=row, reason=reason, clerk=clerk, requested_at=now_iso())
        audit.append("cancel_requested", clerk=clerk, invoice=row, detail={"reason": reason, "queue": entry.state})
        return CancelOutcome(
            row.provisional_number, False,
            f"预开单 {row.provisional_number} 可能已由平台开具，撤回申请已排队，待平台结果确定后执行"
            "（若平台已开具电子发票，将不能作废，须提出红字确认单）",
            f"pre-issue record {row.provisional_number} may have been issued by the platform: the withdrawal is "
            "queued until the outcome is known (if the platform issued an electronic invoice, a red-letter form is "
            "needed instead)")


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
            refusal = _paper_refusal(row, now()) if row.medium == "paper" else refuse_electronic(row)
            if row.status == status.ACCEPTED and refusal is not None:
                message = (f"平台已开具发票 {row.provisional_number}（{row.official_number}），作废未执行："
                           f"{refusal.errors[0].message_zh}")
                _close_request(request, REQUEST_REFUSED, message, "cancel_refused", row)
                decided.append(CancelOutcome(row.provisional_number, False, message,
                                             f"the platform issued {row.provisional_number} ({row.official_number}): "
                                             f"not cancelled: {refusal.errors[0].message_en}"))
            else:
                _mark_cancelled(row, request.reason, request.clerk,
                                {"queue": state, "requested_at": request.requested_at,
                                 "medium": row.medium})
                _close_request(request, REQUEST_DONE, "", "", row)
                decided.append(CancelOutcome(row.provisional_number, True, f"发票 {row.provisional_number} 已作废",
                                             f"invoice {row.provisional_number} cancelled"))
    return decided


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

"""Corrections the 数电 way: red-letter confirmation forms (红字确认单) and the red invoices issued on them
(shudian-rules.md section 4; the platform's side: docs/platform-api-v2-reference.md "Red-letter forms").

Raising a form
    Against an accepted blue invoice of this desk (not red, not legacy), in full or by lines: each red line
    quotes the blue line it reverses (`original_line_no`); a discount line is never quoted, it is spread onto
    the line it discounts. The reason's rules are checked here, before anything is recorded: 02 销货退回
    gives a negative quantity and keeps the unit price, never on a service code (3…); 03 服务中止 never on a
    goods code (1…, 2…), keeps the unit price; 04 销售折让 has no quantity or unit price; 01 开票有误 any.
    The form never takes more than what is left of the blue invoice after every red invoice against it and
    every form still holding a part of it (requests not yet sent included), checked inside an IMMEDIATE
    transaction, so two forms racing for the same remainder cannot both be recorded.

    The request is committed with its request id before it is sent (POST /v2/red-forms), so a send cut short
    (a lost answer, a SIGKILL) is sent again under the same id and the platform answers the same form. When
    the platform cannot be reached the request stays recorded (state `requested`: the platform decides
    whether the buyer must confirm, so no form exists yet) and is sent, in the order recorded, by the daily
    round (app/sync/housekeeping.py) once the platform answers; the outcome is kept for the clerk
    (`message`, `told`).

Forms over time
    refresh() reads every form of this seller (GET /v2/red-forms): the buyer's (03, waiting for the seller)
    appear, the desk's own move on (02 → 04 / 05, 07 after 72 hours); each change is an audit entry and an end
    state (05 to 10) a message for the clerk. decide() agrees or disagrees a 03 form, or revokes the desk's
    own (01, 02 → 08; 04 → 09), its request id committed before it is sent.

The red invoice
    Only on a form in 01 or 04 with no red invoice yet, through the channel in use (app/services/issuing:
    direct, a number from the block; platform, a pre-issue record the worker sends to POST /v2/issue): the
    blue invoice's kind (special by special, normal by normal), buyer and lines, with `red_form_uuid`,
    `original_number`, the reason's code, the reversed lines (`original_line_no`) and the remarks of the face
    (被红冲蓝字数电发票号码 / 红字发票信息确认单编号). Its totals are the form's, exactly.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.core import status as statuses
from app.core.clock import now_iso
from app.core.codec import line_to_body
from app.core.errors import FieldError, ValidationFailed
from app.core.invoice import Invoice, Line, LineNature, Rules
from app.core.money import PRICE_PLACES, ZERO, format_money, format_plain, parse_decimal, to_money, to_places
from app.core.tax import find_rate
from app.platform.client import (
    KeyConflict,
    PlatformClient,
    PlatformError,
    RedForm,
    Rejected,
    TransientFailure,
    Unauthorized,
)
from app.services.issuing import IssuedInvoice, prepare_invoice, write_issued
from app.services.limits import check_can_issue
from app.services.seller import get_seller
from app.store import audit
from app.store.models import Invoice as InvoiceRow
from app.store.models import RedLetterForm, database
from app.store.queries import find_row, get_invoice, reversal_room
from app.store.red_forms import (
    END_STATUSES,
    KNOWN,
    OPEN_STATUSES,
    REFUSED,
    REQUESTED,
    USABLE_STATUSES,
    FormView,
    find_form,
    held_by_forms,
    unused,
)

REASONS: dict[str, tuple[str, str]] = {
    "01": ("开票有误", "issued in error"),
    "02": ("销货退回", "goods returned"),
    "03": ("服务中止", "service stopped"),
    "04": ("销售折让", "sales allowance"),
}
REASON_ALIASES = {"error": "01", "return": "02", "stopped": "03", "allowance": "04",
                  **{labels[0]: code for code, labels in REASONS.items()}}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "01": ("无需确认", "no confirmation needed"),
    "02": ("销方录入待购方确认", "waiting for the buyer"),
    "03": ("购方录入待销方确认", "waiting for the seller"),
    "04": ("购销双方已确认", "confirmed by both"),
    "05": ("作废（购方否认）", "refused by the buyer"),
    "06": ("作废（销方否认）", "refused by the seller"),
    "07": ("作废（超72小时未确认）", "void: not confirmed within 72 hours"),
    "08": ("作废（发起方已撤销）", "withdrawn by who raised it"),
    "09": ("作废（确认后撤销）", "withdrawn after confirmation"),
    "10": ("作废（异常凭证）", "void: abnormal voucher"),
}
DECISIONS = ("agree", "disagree", "revoke")
PRICE_SLACK = Decimal("0.01")


def _fail(field: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, zh, en)])


def status_label(code: str, lang: str = "zh") -> str:
    labels = STATUS_LABELS.get(code)
    if labels is None:
        return {"requested": ("待发送", "waiting to be sent"), "refused": ("平台拒绝", "refused")}.get(
            code, (code, code))[0 if lang == "zh" else 1]
    return labels[0] if lang == "zh" else labels[1]


def reason_code(reason: str | None) -> str:
    """01..04 from the code, the Chinese name or an ASCII alias; raises ValidationFailed naming `reason`."""
    text = (reason or "").strip()
    code = text if text in REASONS else REASON_ALIASES.get(text.lower(), REASON_ALIASES.get(text, ""))
    if code not in REASONS:
        raise _fail("reason", f"红字原因应为 01 开票有误、02 销货退回、03 服务中止 或 04 销售折让，不是“{text}”",
                    f"must be 01 (error), 02 (return), 03 (stopped) or 04 (allowance), not {text!r}")
    return code


@dataclass(frozen=True)
class FormOutcome:
    form: FormView
    sent: bool  # the platform answered (a form, or a refusal)
    message_zh: str
    message_en: str

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en


# --- the lines of a form ---------------------------------------------------------------------------

def _rate(line: Line) -> Decimal:
    rate = find_rate(line.tax_rate)
    return rate.rate if rate is not None else ZERO


def _net(lines: Sequence[Line], index: int) -> tuple[Decimal, Decimal]:
    """A blue line's amount and tax with the discount that follows it spread onto it."""
    line = lines[index]
    amount, tax = line.amount, line.tax
    following = lines[index + 1] if index + 1 < len(lines) else None
    if following is not None and following.discount:
        amount += following.amount
        tax += following.tax
    return amount, tax


def _goods(code: str) -> bool:
    return code[:1] in ("1", "2")


def _number(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    return parse_decimal(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _line_error(field: str, zh: str, en: str) -> FieldError:
    return FieldError(field, zh, en)


def form_lines(blue: Invoice, reason: str, wanted: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The lines of a form as sent (original_line_no, quantity, amount, tax: negative), checked against the
    blue invoice and the reason's rules. In full when wanted is None. Raises ValidationFailed naming each."""
    blue_lines = list(blue.lines)
    errors: list[FieldError] = []
    asked: list[dict[str, Any]]
    if wanted is None:
        asked = [{"original_line_no": i + 1, "full": True} for i, line in enumerate(blue_lines) if not line.discount]
    else:
        if not isinstance(wanted, list) or not wanted:
            raise _fail("lines", "按行红冲须列出要红冲的行（至少一行）",
                        "a reversal by lines lists the lines (one at least)")
        asked = list(wanted)
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for index, raw in enumerate(asked):
        field = f"lines[{index}]"
        if not isinstance(raw, dict):
            errors.append(_line_error(field, "应为对象", "must be an object"))
            continue
        number = raw.get("original_line_no")
        if isinstance(number, str) and number.isdigit():
            number = int(number)
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(blue_lines):
            errors.append(_line_error(f"{field}.original_line_no", f"应为蓝字发票的行号（1至{len(blue_lines)}）",
                                      f"must be a line number of the blue invoice (1 to {len(blue_lines)})"))
            continue
        line = blue_lines[number - 1]
        if line.discount:
            errors.append(_line_error(f"{field}.original_line_no", f"第{number}行是折扣行：折扣随被折扣行一并红冲",
                                      f"line {number} is a discount: it is reversed with the line it discounts"))
            continue
        if number in seen:
            errors.append(_line_error(f"{field}.original_line_no", "同一行不能红冲两次", "reverses a line twice"))
            continue
        seen.add(number)
        net_amount, net_tax = _net(blue_lines, number - 1)
        discounted = line.nature is LineNature.DISCOUNTED
        # The unit price a return or a stopped service keeps: with a discount spread onto its line, the net one.
        price = line.unit_price
        if discounted and line.quantity and line.unit_price is not None:
            price = to_places(net_amount / line.quantity, PRICE_PLACES)
        code = line.tax_code
        if reason == "03" and _goods(code):
            errors.append(_line_error(f"{field}.original_line_no", f"第{number}行是货物编码，不能以服务中止红冲",
                                      f"line {number} has a goods code: it cannot be reversed for 服务中止"))
            continue
        if reason == "02" and code[:1] == "3":
            errors.append(_line_error(f"{field}.original_line_no", f"第{number}行是服务编码，不能以销货退回红冲",
                                      f"line {number} has a service code: it cannot be reversed for 销货退回"))
            continue
        quantity = _number(raw.get("quantity"))
        amount = _number(raw.get("amount"))
        tax = _number(raw.get("tax"))
        if raw.get("quantity") not in (None, "") and quantity is None:
            errors.append(_line_error(f"{field}.quantity", "应为数字", "must be a number"))
            continue
        if raw.get("amount") not in (None, "") and amount is None:
            errors.append(_line_error(f"{field}.amount", "应为金额", "must be an amount"))
            continue
        if raw.get("unit_price") not in (None, ""):
            given_price = _number(raw.get("unit_price"))
            if reason in ("02", "03", "04") or given_price is None or price is None or abs(given_price) != price:
                errors.append(_line_error(f"{field}.unit_price", "红字确认单不改单价（销售折让不填单价）",
                                          "a form keeps the unit price (an allowance gives none)"))
                continue
        full = bool(raw.get("full")) or (quantity is None and amount is None)
        if reason == "04":
            if quantity is not None:
                errors.append(_line_error(f"{field}.quantity", "销售折让不填数量和单价",
                                          "a 销售折让 (allowance) has no quantity or unit price"))
                continue
            if amount is None and not full:
                errors.append(_line_error(f"{field}.amount", "销售折让须填折让金额", "an allowance gives its amount"))
                continue
        if quantity is not None:
            quantity = -abs(quantity)
            if line.quantity is None or line.unit_price is None:
                errors.append(_line_error(f"{field}.quantity", f"蓝字发票第{number}行没有数量，不能按数量红冲",
                                          f"blue line {number} has no quantity to reverse"))
                continue
            if -quantity > line.quantity:
                errors.append(_line_error(f"{field}.quantity", f"超过蓝字发票该行数量（{format_plain(line.quantity)}）",
                                          f"more than the blue line's quantity ({format_plain(line.quantity)})"))
                continue
        if full:
            red_amount, red_tax = -net_amount, -net_tax
            if reason != "04" and line.quantity is not None:
                quantity = -line.quantity
        elif amount is None:
            assert quantity is not None and price is not None
            red_amount = to_money(quantity * price)
            red_tax = -to_money(-red_amount * _rate(line)) if tax is None else -abs(to_money(tax))
            if -red_amount >= net_amount:
                red_amount, red_tax = -net_amount, -net_tax
        else:
            red_amount = -abs(to_money(amount))
            red_tax = -abs(to_money(tax)) if tax is not None else -to_money(-red_amount * _rate(line))
            if -red_amount == net_amount and tax is None:
                red_tax = -net_tax
        if reason == "02":
            if quantity is None:
                errors.append(_line_error(f"{field}.quantity", "销货退回须填退回数量",
                                          "a return gives the quantity returned"))
                continue
            assert price is not None
            if abs(red_amount / quantity - price) > PRICE_SLACK:
                price_text = format_plain(price)
                errors.append(_line_error(f"{field}.amount", f"销货退回不能改变单价（蓝字发票为 {price_text}）",
                                          f"a return keeps the unit price ({price_text})"))
                continue
        if reason == "03" and quantity is not None and price is not None and quantity != 0 \
                and abs(red_amount / quantity - price) > PRICE_SLACK:
            price_text = format_plain(price)
            errors.append(_line_error(f"{field}.amount", f"服务中止不能改变单价（蓝字发票为 {price_text}）",
                                      f"a stopped service keeps the unit price ({price_text})"))
            continue
        if red_amount >= 0:
            errors.append(_line_error(f"{field}.amount", "红冲金额应大于零", "the amount reversed must be above zero"))
            continue
        if -red_amount > net_amount:
            errors.append(_line_error(f"{field}.amount", f"超过蓝字发票第{number}行金额（{format_money(net_amount)}）",
                                      f"more than blue line {number}'s amount ({format_money(net_amount)})"))
            continue
        if red_tax > 0 or abs(-red_amount * _rate(line) + red_tax) > Decimal("0.06"):
            errors.append(_line_error(f"{field}.tax", "税额与金额和税率不符", "does not fit the amount and the rate"))
            continue
        out.append({"original_line_no": number, "quantity": format_plain(quantity) if quantity is not None else None,
                    "amount": format_money(red_amount), "tax": format_money(red_tax)})
    if errors:
        raise ValidationFailed(errors)
    return out


def _totals(lines: Sequence[dict[str, Any]]) -> tuple[Decimal, Decimal]:
    return (sum((Decimal(line["amount"]) for line in lines), ZERO),
            sum((Decimal(line["tax"]) for line in lines), ZERO))


def _blue_or_fail(number: str) -> tuple[InvoiceRow, Invoice]:
    row = find_row(number)
    if row is None:
        raise _fail("original_number", f"没有号码为 {number} 的发票", f"no invoice numbered {number}")
    if row.original_number:
        raise _fail("original_number", f"{number} 是红字发票，不能红冲", f"{number} is itself a red-letter invoice")
    if row.status != statuses.ACCEPTED or not row.official_number:
        raise _fail("original_number", f"发票 {number} 尚未被平台接受（{row.status}），不能红冲",
                    f"invoice {number} is not accepted by the platform ({row.status}): it cannot be reversed")
    if row.rules == Rules.LEGACY.value:
        raise _fail("original_number", f"发票 {number} 是数电之前开具的，请在电子发票服务平台处理",
                    f"invoice {number} was issued before 数电: correct it on the platform")
    invoice = get_invoice(row.provisional_number)
    assert invoice is not None
    return row, invoice


def _left(blue: InvoiceRow, except_form: int | None = None) -> Decimal:
    """What is left of the blue invoice (with tax): less every red invoice and every form holding a part."""
    return reversal_room(blue).remaining - held_by_forms(blue, except_id=except_form)


def _over(left: Decimal, taking: Decimal) -> ValidationFailed:
    return _fail("lines", f"红冲金额 {format_money(taking)} 超过蓝字发票尚可红冲的 {format_money(max(left, ZERO))}"
                          "（已扣除已开红字发票和未用的确认单）",
                 f"reverses {format_money(taking)}, more than the {format_money(max(left, ZERO))} left of the blue "
                 "invoice (after its red invoices and open forms)")


# --- raising and sending ---------------------------------------------------------------------------

def record_request(number: str, reason: str, lines: Sequence[dict[str, Any]] | None = None, *,
                   clerk: str = "") -> RedLetterForm:
    """Check the form and commit it as a request (with its request id), nothing sent. Raises ValidationFailed."""
    code = reason_code(reason)
    row, blue = _blue_or_fail(number)
    sent = form_lines(blue, code, lines)
    amount, tax = _totals(sent)
    with database.atomic("IMMEDIATE"):
        fresh = InvoiceRow.get_by_id(row.id)
        if fresh.status != statuses.ACCEPTED:
            raise _fail("original_number", "蓝字发票状态已改变，请重试",
                        "the blue invoice changed meanwhile; try again")
        left = _left(fresh)
        if -(amount + tax) > left:
            raise _over(left, -(amount + tax))
        stamp = now_iso()
        form = RedLetterForm.create(
            request_id=f"rf-{uuid.uuid4()}", state=REQUESTED, raised_by="seller", invoice=fresh,
            original_number=fresh.official_number, reason=code, lines=json.dumps(sent, ensure_ascii=False),
            total_amount=amount, total_tax=tax, clerk=clerk, requested_at=stamp, updated_at=stamp, told=True)
        audit.append("red_form_requested", clerk=clerk or fresh.drawer, invoice=fresh,
                     detail={"request_id": form.request_id, "reason": code, "lines": sent,
                             "total_amount": format_money(amount), "total_tax": format_money(tax),
                             "left": format_money(left + amount + tax)})
    return form


def raise_form(number: str, reason: str, lines: Sequence[dict[str, Any]] | None = None, *, clerk: str = "",
               client: PlatformClient | None = None) -> FormOutcome:
    """Record the request and, with a client, send it (after any earlier one still waiting, in order).
    Without a client, or when the platform cannot be reached, it stays recorded for the next round."""
    form = record_request(number, reason, lines, clerk=clerk)
    if client is not None:
        send_requests(client, own=form.id)
    row = RedLetterForm.get_by_id(form.id)
    view = FormView.of(row)
    if row.state == KNOWN:
        return FormOutcome(view, True, *_raised_message(row))
    if row.state == REFUSED:
        return FormOutcome(view, True, f"平台拒绝红字确认单：{row.message}", f"the platform refused the form: "
                                                                          f"{row.message}")
    return FormOutcome(view, False, "平台暂不可用：红字确认单申请已记录，联网后按顺序提交，结果另行通知",
                       "the platform cannot be reached: the request is recorded and will be sent, in order, once "
                       "it answers; you will be told the outcome")


def _raised_message(row: RedLetterForm) -> tuple[str, str]:
    if row.status == "01":
        return (f"红字确认单 {row.form_number} 已开具，无需购方确认，可开具红字发票（red {row.original_number} --form "
                f"{row.uuid}）",
                f"form {row.form_number} raised, no confirmation needed: issue the red invoice (red "
                f"{row.original_number} --form {row.uuid})")
    if row.status == "02":
        return (f"红字确认单 {row.form_number} 已提交，待购方确认（72小时内，至 {row.expires_at}）",
                f"form {row.form_number} raised, waiting for the buyer (72 hours, until {row.expires_at})")
    return (f"红字确认单 {row.form_number}：{status_label(row.status)}",
            f"form {row.form_number}: {status_label(row.status, 'en')}")


def _apply(row: RedLetterForm, form: RedForm, *, clerk: str, tell: bool) -> None:
    """The platform's form onto the desk's row, inside the caller's transaction; each change audited."""
    before = row.status if row.state == KNOWN else row.state
    blue = InvoiceRow.get_or_none(InvoiceRow.id == row.invoice_id) if row.invoice_id else None
    RedLetterForm.update(uuid=form.uuid, form_number=form.form_number, state=KNOWN, status=form.status,
                         raised_by=form.raised_by, reason=form.reason, total_amount=form.total_amount,
                         total_tax=form.total_tax, red_number=form.red_number, created_at=form.created_at,
                         expires_at=form.expires_at, updated_at=now_iso(), last_error="",
                         lines=json.dumps([{"original_line_no": line.original_line_no, "quantity": line.quantity,
                                            "amount": format_money(line.amount), "tax": format_money(line.tax)}
                                           for line in form.lines], ensure_ascii=False)).where(
        RedLetterForm.id == row.id).execute()
    if before == form.status:
        return
    action = "red_form_raised" if before == REQUESTED else "red_form_status"
    audit.append(action, clerk=clerk, invoice=blue,
                 detail={"uuid": form.uuid, "form_number": form.form_number, "from": before, "to": form.status,
                         "raised_by": form.raised_by, "total_amount": format_money(form.total_amount),
                         "total_tax": format_money(form.total_tax)})
    fresh = RedLetterForm.get_by_id(row.id)
    if tell and (before == REQUESTED or form.status in END_STATUSES or form.status in USABLE_STATUSES
                 or form.status == "03"):
        zh, en = _raised_message(fresh)
        RedLetterForm.update(message=f"{zh} ({en})", told=False).where(RedLetterForm.id == row.id).execute()


def send_requests(client: PlatformClient, *, own: int | None = None, clerk: str = "sync") -> list[FormView]:
    """Send the recorded requests, oldest first, each under its request id; stop at the first one the platform
    cannot be reached for (the rest keep their order). Then the decisions waiting to be sent. Returns the
    forms whose outcome was reached now. `own` is the clerk's own request (told at once, not later)."""
    done: list[FormView] = []
    for row in RedLetterForm.select().where(RedLetterForm.state == REQUESTED).order_by(RedLetterForm.id):
        lines = json.loads(row.lines)
        try:
            form = client.raise_red_form(str(row.request_id), row.original_number, row.reason, lines)
        except (TransientFailure, Unauthorized) as error:
            RedLetterForm.update(attempts=RedLetterForm.attempts + 1, last_error=str(error)[:500],
                                 updated_at=now_iso()).where(RedLetterForm.id == row.id).execute()
            return done
        except (Rejected, KeyConflict) as error:
            message = error.describe("zh") if isinstance(error, PlatformError) else str(error)
            with database.atomic("IMMEDIATE"):
                RedLetterForm.update(state=REFUSED, message=message[:1000], told=row.id == own,
                                     attempts=RedLetterForm.attempts + 1, updated_at=now_iso()).where(
                    RedLetterForm.id == row.id).execute()
                blue = InvoiceRow.get_or_none(InvoiceRow.id == row.invoice_id) if row.invoice_id else None
                audit.append("red_form_refused", clerk=row.clerk or clerk, invoice=blue,
                             detail={"request_id": row.request_id, "message": message[:1000]})
            done.append(FormView.of(RedLetterForm.get_by_id(row.id)))
            continue
        with database.atomic("IMMEDIATE"):
            _apply(RedLetterForm.get_by_id(row.id), form, clerk=row.clerk or clerk, tell=row.id != own)
            RedLetterForm.update(attempts=RedLetterForm.attempts + 1).where(RedLetterForm.id == row.id).execute()
        done.append(FormView.of(RedLetterForm.get_by_id(row.id)))
    for row in RedLetterForm.select().where(RedLetterForm.decision.is_null(False)).order_by(RedLetterForm.id):
        try:
            _send_decision(client, row)
        except (TransientFailure, Unauthorized):
            return done
        except (Rejected, KeyConflict):
            continue
        done.append(FormView.of(RedLetterForm.get_by_id(row.id)))
    return done


def refresh(client: PlatformClient, *, clerk: str = "sync") -> list[FormView]:
    """Every form of this seller as the platform has it now: the buyer's appear, the desk's move on. Returns the
    forms that changed."""
    changed: list[FormView] = []
    for form in client.red_forms():
        with database.atomic("IMMEDIATE"):
            row = RedLetterForm.get_or_none(RedLetterForm.uuid == form.uuid)
            if row is None and form.request_id:
                row = RedLetterForm.get_or_none(RedLetterForm.request_id == form.request_id)
            if row is None:
                blue = find_row(form.original_number)
                row = RedLetterForm.create(
                    uuid=form.uuid, form_number=form.form_number, state="", raised_by=form.raised_by,
                    invoice=blue, original_number=form.original_number, reason=form.reason,
                    total_amount=form.total_amount, total_tax=form.total_tax, requested_at=now_iso(),
                    updated_at=now_iso(), told=True)
                before = ""
            else:
                before = row.status
            if before == form.status and row.red_number == form.red_number and row.state == KNOWN:
                continue
            _apply(row, form, clerk=clerk, tell=True)
        changed.append(FormView.of(RedLetterForm.get_by_id(row.id)))
    return changed


def refresh_one(client: PlatformClient, form_uuid: str, *, clerk: str = "sync") -> FormView | None:
    form = client.red_form(form_uuid)
    row = RedLetterForm.get_or_none(RedLetterForm.uuid == form_uuid)
    if form is None or row is None:
        return FormView.of(row) if row is not None else None
    with database.atomic("IMMEDIATE"):
        _apply(RedLetterForm.get_by_id(row.id), form, clerk=clerk, tell=False)
    return FormView.of(RedLetterForm.get_by_id(row.id))


def pending_messages(*, mark_told: bool = True) -> list[FormView]:
    """Outcomes reached in the background that the clerk has not been told yet (told once read)."""
    rows = list(RedLetterForm.select().where(RedLetterForm.told == False).order_by(RedLetterForm.id))  # noqa: E712
    if mark_told and rows:
        RedLetterForm.update(told=True).where(RedLetterForm.id.in_([r.id for r in rows])).execute()
    return [FormView.of(row) for row in rows]


# --- answering and withdrawing ---------------------------------------------------------------------

def _form_or_fail(key: str) -> RedLetterForm:
    row = find_form(key)
    if row is None:
        raise _fail("uuid", f"没有红字确认单 {key}", f"no red-letter form {key}")
    return row


def _send_decision(client: PlatformClient, row: RedLetterForm) -> None:
    assert row.uuid is not None and row.decision is not None and row.decision_request_id is not None
    decision = row.decision
    try:
        form = client.decide_red_form(row.uuid, row.decision_request_id, decision)
    except (Rejected, KeyConflict) as error:
        with database.atomic("IMMEDIATE"):
            RedLetterForm.update(decision=None, decision_request_id=None, last_error=error.describe("zh")[:500],
                                 updated_at=now_iso()).where(RedLetterForm.id == row.id).execute()
            blue = InvoiceRow.get_or_none(InvoiceRow.id == row.invoice_id) if row.invoice_id else None
            audit.append("red_form_decision_refused", clerk=row.clerk or "sync", invoice=blue,
                         detail={"uuid": row.uuid, "decision": decision, "message": error.describe("zh")[:500]})
        raise
    with database.atomic("IMMEDIATE"):
        fresh = RedLetterForm.get_by_id(row.id)
        RedLetterForm.update(decision=None, decision_request_id=None).where(RedLetterForm.id == row.id).execute()
        blue = InvoiceRow.get_or_none(InvoiceRow.id == row.invoice_id) if row.invoice_id else None
        audit.append({"agree": "red_form_agreed", "disagree": "red_form_disagreed", "revoke": "red_form_revoked"}[
            decision], clerk=row.clerk or "sync", invoice=blue,
            detail={"uuid": row.uuid, "form_number": row.form_number, "from": fresh.status, "to": form.status})
        _apply(RedLetterForm.get_by_id(row.id), form, clerk=row.clerk or "sync", tell=False)


def decide(key: str, decision: str, *, clerk: str = "", client: PlatformClient | None = None) -> FormOutcome:
    """agree / disagree a form the buyer raised (03), or revoke the desk's own (01, 02, 04 with no red invoice).
    The decision is committed with its request id before it is sent; offline it waits for the next round."""
    if decision not in DECISIONS:
        raise _fail("decision", "应为 agree（同意）、disagree（不同意）或 revoke（撤销）",
                    "must be agree, disagree or revoke")
    with database.atomic("IMMEDIATE"):
        row = _form_or_fail(key)
        if row.state != KNOWN or row.uuid is None:
            raise _fail("uuid", "该确认单尚未提交到平台，不能确认或撤销", "the form has not reached the platform yet")
        if row.decision is not None:
            raise _fail("decision", f"已有待发送的决定（{row.decision}）",
                        f"a decision ({row.decision}) waits to be sent")
        if decision in ("agree", "disagree") and row.status != "03":
            raise _fail("decision", f"确认单状态为 {row.status}（{status_label(row.status)}），不是待销方确认（03）",
                        f"the form is in state {row.status} ({status_label(row.status, 'en')}), not waiting for the "
                        "seller (03)")
        if decision == "revoke":
            if row.raised_by != "seller":
                raise _fail("decision", "只能撤销本方提出的确认单；购方提出的请选择不同意",
                            "only the desk's own form can be revoked; disagree with the buyer's")
            used = not RedLetterForm.select().where((RedLetterForm.id == row.id) & unused()).exists()
            if row.status not in ("01", "02", "04") or used:
                raise _fail("decision", f"确认单状态为 {row.status}（{status_label(row.status)}），不能撤销",
                            f"a form in state {row.status} ({status_label(row.status, 'en')}) cannot be revoked")
        request_id = f"rd-{uuid.uuid4()}"
        RedLetterForm.update(decision=decision, decision_request_id=request_id, clerk=clerk or row.clerk,
                             updated_at=now_iso()).where(RedLetterForm.id == row.id).execute()
        blue = InvoiceRow.get_or_none(InvoiceRow.id == row.invoice_id) if row.invoice_id else None
        audit.append("red_form_decision_requested", clerk=clerk or "desk", invoice=blue,
                     detail={"uuid": row.uuid, "decision": decision, "request_id": request_id})
    row = RedLetterForm.get_by_id(row.id)
    if client is None:
        return FormOutcome(FormView.of(row), False, "平台暂不可用：决定已记录，联网后提交",
                           "the platform cannot be reached: the decision is recorded and will be sent")
    try:
        _send_decision(client, row)
    except (TransientFailure, Unauthorized):
        return FormOutcome(FormView.of(RedLetterForm.get_by_id(row.id)), False, "平台暂不可用：决定已记录，联网后提交",
                           "the platform cannot be reached: the decision is recorded and will be sent")
    except (Rejected, KeyConflict) as error:
        raise _fail("decision", f"平台拒绝：{error.describe('zh')}",
                    f"the platform refused: {error.describe('en')}") from None
    fresh = RedLetterForm.get_by_id(row.id)
    return FormOutcome(FormView.of(fresh), True, f"红字确认单 {fresh.form_number}：{status_label(fresh.status)}",
                       f"form {fresh.form_number}: {status_label(fresh.status, 'en')}")


# --- the red invoice on a form -----------------------------------------------------------------------

def _red_body(blue_row: InvoiceRow, blue: Invoice, form: RedLetterForm, clerk: str, remarks: str,
              channel_medium: str) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    for sent in json.loads(form.lines):
        number = int(sent["original_line_no"])
        line = blue.lines[number - 1]
        body = line_to_body(line, number)
        body.update(nature="normal", original_line_no=number, name="", amount=sent["amount"], tax=sent["tax"])
        body.pop("line_no")
        body.pop("amount_with_tax")
        if sent.get("quantity") not in (None, ""):
            body["quantity"] = sent["quantity"]
            price = line.unit_price
            if line.nature is LineNature.DISCOUNTED:  # its discount is spread onto it: the net price
                price = to_places(abs(Decimal(sent["amount"])) / abs(Decimal(sent["quantity"])),
                                  PRICE_PLACES)
            body["unit_price"] = format_plain(price)
        else:
            body["quantity"] = ""
            body["unit_price"] = ""
        lines.append(body)
    return {
        "kind": blue_row.kind,
        "buyer": {"name": blue_row.buyer_name, "tax_id": blue_row.buyer_tax_id, "address": blue_row.buyer_address,
                  "phone": blue_row.buyer_phone, "bank": blue_row.buyer_bank, "account": blue_row.buyer_account,
                  "natural_person": blue_row.buyer_natural_person, "id_type": blue_row.buyer_id_type,
                  "id_number": blue_row.buyer_id_number},
        "lines": lines,
        "red": True,
        "original_number": blue_row.official_number,
        "red_form_uuid": form.uuid,
        "red_reason": form.reason,
        "medium": channel_medium,
        # The face and the XML lead the remarks with the reversal reference (app/printing/einvoice_xml).
        "remarks": remarks.strip(),
        "drawer": clerk,
    }


def issue_red_invoice(key: str, *, clerk: str = "", remarks: str = "", number: str | None = None,
                      client: PlatformClient | None = None) -> IssuedInvoice:
    """The red invoice on a form in 01 or 04 (refreshed from the platform first when a client is given), through
    the channel in use. `number`, when given, must be the form's blue invoice. Raises ValidationFailed."""
    from app.services.channel import DIRECT, get_channel

    row = _form_or_fail(key)
    if client is not None and row.uuid is not None:
        # Unreachable: the desk's last word on the form decides; the platform checks it again.
        with contextlib.suppress(TransientFailure, Unauthorized):
            refresh_one(client, row.uuid, clerk=clerk or "desk")
        row = RedLetterForm.get_by_id(row.id)
    if number is not None:
        blue_of_number = find_row(number)
        if blue_of_number is None or blue_of_number.official_number != row.original_number:
            raise _fail("form", f"确认单 {row.form_number or key} 不是发票 {number} 的红字确认单",
                        f"form {row.form_number or key} is not a form of invoice {number}")
    if row.state != KNOWN or row.status not in USABLE_STATUSES:
        shown = row.status if row.state == KNOWN else row.state
        raise _fail("form", f"确认单状态为 {shown}（{status_label(shown)}），只有 01 或 04 可开具红字发票",
                    f"the form is in state {shown} ({status_label(shown, 'en')}): a red invoice needs 01 or 04")
    if not RedLetterForm.select().where((RedLetterForm.id == row.id) & unused()).exists():
        raise _fail("form", f"已据此确认单开具红字发票 {row.red_number or row.red_invoice_id}",
                    "a red invoice was issued on this form already")
    blue_row, blue = _blue_or_fail(row.original_number)
    seller = get_seller()
    if seller is None:
        raise _fail("seller", "销售方信息未设置", "no seller profile yet")
    medium = "electronic" if get_channel() == DIRECT else blue_row.medium
    body = _red_body(blue_row, blue, row, clerk or seller.drawer, remarks, medium)
    confirmed = blue_row.confirmed_tax_ids.split()
    invoice = prepare_invoice(body, seller, confirmed, confirmed_short_name=True)
    if (invoice.total_amount, invoice.total_tax) != (row.total_amount, row.total_tax):
        raise _fail("total_amount", "红字发票金额与确认单不符", "the red invoice's figures differ from the form's")
    if invoice.kind.value != blue_row.kind:
        raise _fail("kind", "红字发票应与蓝字发票同类（专票冲专票，普票冲普票）",
                    "a special invoice is reversed by a special one, a normal by a normal")
    with database.atomic("IMMEDIATE"):
        fresh_form = RedLetterForm.get_by_id(row.id)
        used = not RedLetterForm.select().where((RedLetterForm.id == row.id) & unused()).exists()
        if used or fresh_form.status not in USABLE_STATUSES:
            raise _fail("form", "确认单已被使用或状态已改变，请刷新", "the form was used or changed meanwhile; refresh")
        fresh = InvoiceRow.get_by_id(blue_row.id)
        left = reversal_room(fresh).remaining - held_by_forms(fresh, except_id=row.id)
        if -invoice.total_with_tax > left:
            raise _over(left, -invoice.total_with_tax)
        check_can_issue([invoice.total_amount])
        issued = write_issued(invoice, clerk)
        InvoiceRow.update(red_reason=REASONS[row.reason][0]).where(InvoiceRow.id == issued.id).execute()
        RedLetterForm.update(red_invoice=issued.id, updated_at=now_iso()).where(RedLetterForm.id == row.id).execute()
        audit.append("reversed", clerk=clerk or invoice.drawer, invoice=fresh,
                     detail={"red_number": issued.number, "reason": REASONS[row.reason][0], "form": row.uuid,
                             "form_number": row.form_number, "total_with_tax": format_money(invoice.total_with_tax),
                             "remaining": format_money(left + invoice.total_with_tax)})
    return issued


def forms_open_for(number: str) -> list[FormView]:
    """The forms of a blue invoice on which a red invoice may be issued now."""
    row = find_row(number)
    if row is None or not row.official_number:
        return []
    return [FormView.of(f) for f in RedLetterForm.select().where(
        (RedLetterForm.original_number == row.official_number) & (RedLetterForm.state == KNOWN)
        & RedLetterForm.status.in_(USABLE_STATUSES) & unused()).order_by(RedLetterForm.id)]


__all__ = ["DECISIONS", "END_STATUSES", "OPEN_STATUSES", "REASONS", "STATUS_LABELS", "FormOutcome", "decide",
           "form_lines", "forms_open_for", "issue_red_invoice", "pending_messages", "raise_form", "reason_code",
           "record_request", "refresh", "refresh_one", "send_requests", "status_label"]

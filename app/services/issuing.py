"""The issue service: validate, take the next number, and write the invoice with its lines,
audit entry and upload-queue entry in one transaction.

Every path that issues (the form, the command line, the tests) comes through here. What is written
depends on the channel (app.services.channel):

- direct: a real invoice from the start. Its number is the next of the current year's blocks and its
  total excluding tax is drawn from the month's local quota, both in the issuing transaction (IMMEDIATE:
  two desks on one store take numbers one after the other, gap-free, never twice). Refused, naming what
  is missing, when no number of the year or not enough quota is left; nothing is written then.
- platform: a pre-issue record (预开单) under a provisional number LX-0000001, not an invoice until the
  platform issues it (POST /v2/issue, by the sync worker) under the queue entry's key.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeGuard

from app.base.pinyin import initials
from app.core import status
from app.core.clock import in_beijing, now, now_iso
from app.core.deadlines import period_of
from app.core.errors import EXIT_BAD_INPUT, DeskError, FieldError, ValidationFailed
from app.core.fields import UNPRINTABLE
from app.core.invoice import Invoice
from app.core.money import ZERO, format_money_grouped
from app.core.taxid import normalize_tax_id
from app.core.validation import parse_invoice
from app.services.catalog_lines import expand_catalog_lines
from app.services.channel import DIRECT, get_channel
from app.services.drafts import take_for_issue
from app.services.limits import check_can_issue
from app.services.seller import SellerSettings, get_seller
from app.services.taxpayer import check_may_issue
from app.store import audit, invoice_search
from app.store import stock as stock_store
from app.store.models import Buyer, InvoiceLine, Item, UploadQueueEntry, database
from app.store.models import Invoice as InvoiceRow
from app.store.numbering import next_provisional_number
from app.store.records import insert_row, insert_rows, invoice_row_fields, line_rows
from app.store.taxcodes import StoredTaxCodes

PROVISIONAL_PREFIX = "LX-"
# The customer book's confirmations of a buyer, by name and tax id (the unique index).
_CONFIRMATIONS_SQL = (f'SELECT "tax_id", "tax_id_confirmed", "short_name_confirmed" FROM "{Buyer._meta.table_name}" '
                      'WHERE "name" = ? AND "tax_id" = ?')
# A known buyer refreshed (remember_buyer_id): a blank detail keeps the one known, a confirmation stays.
_REFRESH_BUYER_SQL = (
    f'UPDATE "{Buyer._meta.table_name}" SET "address" = coalesce(nullif(?, \'\'), "address"), '
    '"phone" = coalesce(nullif(?, \'\'), "phone"), "bank" = coalesce(nullif(?, \'\'), "bank"), '
    '"account" = coalesce(nullif(?, \'\'), "account"), "id_type" = coalesce(nullif(?, \'\'), "id_type"), '
    '"id_number" = coalesce(nullif(?, \'\'), "id_number"), "natural_person" = ?, '
    '"tax_id_confirmed" = ("tax_id_confirmed" OR ?), "short_name_confirmed" = ("short_name_confirmed" OR ?), '
    '"use_count" = "use_count" + 1, "last_used_at" = ? WHERE "name" = ? AND "tax_id" = ? RETURNING "id"')
# An invoice is dated by the desk's clock; a body may carry the moment it was prepared (a form kept open, a
# file written a little earlier, another PC's clock a little off), never another day.
ISSUED_AT_SLACK = timedelta(minutes=5)


class NoSellerProfile(DeskError):
    """Issuing needs the seller profile (set on first start, or with `seller set`)."""

    exit_code = EXIT_BAD_INPUT


class StockExhausted(ValidationFailed):
    """Direct channel: no number of this year, or not enough valid quota, is left. Nothing was written."""


@dataclass(frozen=True)
class IssuedInvoice:
    id: int
    number: str
    idempotency_key: str
    invoice: Invoice


def _with_seller_defaults(body: Any, seller: SellerSettings) -> Any:
    """Fill what the profile knows: the seller block and the usual clerks."""
    if not isinstance(body, dict):
        return body
    filled = dict(body)
    party = seller.party
    profile_block = {"name": party.name, "tax_id": party.tax_id, "address": party.address, "phone": party.phone,
                     "bank": party.bank, "account": party.account}
    given = filled.get("seller")
    if given in (None, {}):
        filled["seller"] = profile_block
    for key, default in (("drawer", seller.drawer), ("payee", seller.payee), ("reviewer", seller.reviewer)):
        if filled.get(key) in (None, ""):
            filled[key] = default
    return filled


def _customer_confirmations(body: dict[str, Any]) -> tuple[set[str], bool]:
    """What the customer book remembers the clerk confirmed for this buyer: (tax ids, short name)."""
    buyer = body.get("buyer")
    if not isinstance(buyer, dict) or not _storable(buyer.get("name")):
        return set(), False
    tax_id = buyer.get("tax_id") or ""
    if not _storable(tax_id):
        return set(), False  # the validation names it
    row = database.execute_sql(_CONFIRMATIONS_SQL, (buyer["name"].strip(), normalize_tax_id(tax_id))).fetchone()
    if row is None:
        return set(), False
    stored_tax_id, tax_id_confirmed, short_name_confirmed = row
    return ({stored_tax_id} if tax_id_confirmed and stored_tax_id else set()), bool(short_name_confirmed)


def _codes_for(body: Any) -> StoredTaxCodes:
    lines = body.get("lines") if isinstance(body, dict) else None
    wanted = [line.get("tax_code") for line in lines or [] if isinstance(line, dict)] if isinstance(lines, list) else []
    return StoredTaxCodes().prefetch(code for code in wanted if _storable(code))


def _storable(value: Any) -> TypeGuard[str]:
    """Text a query may carry: a lone surrogate cannot even be encoded (the validation names the field)."""
    return isinstance(value, str) and UNPRINTABLE.search(value) is None


def prepare_invoice(body: Any, seller: SellerSettings, confirmed_tax_ids: Iterable[str] = (),
                    confirmed_short_name: bool = False) -> Invoice:
    """The invoice a draft describes, checked against every 数电 rule, the table in force and the seller profile.

    Raises ValidationFailed naming each field that is wrong. The form calls this on each edit.
    """
    body = expand_catalog_lines(_with_seller_defaults(body, seller))
    confirmed = set(confirmed_tax_ids)
    if seller.tax_id_confirmed:
        confirmed.add(seller.party.tax_id)
    if isinstance(body, dict):
        remembered_ids, remembered_name = _customer_confirmations(body)
        confirmed |= remembered_ids
        confirmed_short_name = confirmed_short_name or remembered_name
    errors: list[FieldError] = []
    if isinstance(body, dict):
        if body.get("number") not in (None, ""):
            errors.append(FieldError("number", "发票号码由本系统分配，请不要填写",
                                     "is assigned by the desk; leave it out"))
        seller_block = body.get("seller")
        if isinstance(seller_block, dict):
            given_tax_id = seller_block.get("tax_id", "")
            # null or a number is not this desk's seller either (parse_invoice names it too)
            given_text = given_tax_id if isinstance(given_tax_id, str) else ""
            if given_text.strip().upper() != seller.party.tax_id:
                errors.append(FieldError("seller.tax_id", f"与本机设置的销售方（{seller.party.tax_id}）不符",
                                         f"differs from this desk's seller ({seller.party.tax_id})"))
    try:
        invoice = parse_invoice(body, codes=_codes_for(body), taxpayer_type=seller.taxpayer_type,
                                confirmed_tax_ids=confirmed, confirmed_short_name=confirmed_short_name)
    except ValidationFailed as failed:
        raise ValidationFailed(errors + failed.errors) from None
    if errors:
        raise ValidationFailed(errors)
    current = now()
    if invoice.issued_at is not None and invoice.issued_at > current + ISSUED_AT_SLACK:
        raise ValidationFailed([FieldError("issued_at", "开票日期不能晚于现在", "cannot be in the future")])
    if invoice.issued_at is not None and invoice.issued_at < current - ISSUED_AT_SLACK:
        shown = in_beijing(invoice.issued_at).strftime("%Y-%m-%d %H:%M")
        raise ValidationFailed([FieldError(
            "issued_at", f"开票日期由本机时钟决定，不能补填为过去的时间（{shown}）；请留空",
            f"the date of issue is the desk's clock and cannot be set back ({shown}); leave it out")])
    return invoice


def _next_number(seller_tax_id: str) -> str:
    """The next provisional number; a counter set back behind the app's back is refused, not reused."""
    return next_provisional_number(seller_tax_id)


def remember_buyer_id(invoice: Invoice) -> int:
    """Add the buyer to the directory or refresh its details, inside the caller's transaction; its id.

    A known buyer (by name and tax id) is one UPDATE: the newest contact details win, but a blank field does
    not wipe a known one; a confirmation once given stays. A new one is one INSERT."""
    party = invoice.buyer
    stamp = now_iso()
    id_confirmed = bool(party.tax_id) and party.tax_id in invoice.confirmed_tax_ids
    known = database.execute_sql(_REFRESH_BUYER_SQL, (
        party.address, party.phone, party.bank, party.account, party.id_type, party.id_number,
        party.natural_person, id_confirmed, invoice.confirmed_short_name, stamp, party.name, party.tax_id)).fetchall()
    if known:
        return int(known[0][0])
    return insert_row(Buyer, {
        "name": party.name, "tax_id": party.tax_id, "address": party.address, "phone": party.phone,
        "bank": party.bank, "account": party.account, "natural_person": party.natural_person,
        "id_type": party.id_type, "id_number": party.id_number, "initials": initials(party.name),
        "tax_id_confirmed": id_confirmed, "short_name_confirmed": invoice.confirmed_short_name,
        "use_count": 1, "last_used_at": stamp, "updated_at": stamp})


def remember_buyer(invoice: Invoice) -> Buyer:
    """remember_buyer_id, and the buyer's row as it is now."""
    return Buyer.get_by_id(remember_buyer_id(invoice))


def _no_number(year: int) -> StockExhausted:
    return StockExhausted([FieldError(
        "number", f"{year} 年的发票号码已用完，请联网补领号码段（stock refill）后再开具",
        f"no invoice number of {year} is left: draw a block when online (stock refill), then issue")])


def _no_quota(period: str, wanted: Decimal, left: Decimal) -> StockExhausted:
    return StockExhausted([FieldError(
        "quota", f"发票额度不足：本张不含税金额 {format_money_grouped(wanted)} 元，{period} 可用额度仅 "
                 f"{format_money_grouped(max(left, ZERO))} 元，请联网下载额度（stock refill）",
        f"not enough invoicing quota: this invoice needs {format_money_grouped(wanted)} excluding tax, "
        f"{period} has {format_money_grouped(max(left, ZERO))} left; download quota when online (stock refill)")])


def _red_give_back(red: Invoice, period: str) -> Decimal:
    """A red invoice against a direct blue invoice of its own month gives that quota back (as the platform does
    once it accepts the red one); against an earlier month, or a platform-issued blue one, it gives nothing back.
    Returns the (negative) amount drawn; a rejection later draws it again (app/services/queue)."""
    blue = InvoiceRow.get_or_none(InvoiceRow.official_number == red.original_number)
    if blue is None or blue.channel != DIRECT or blue.quota_period != period:
        return ZERO
    stock_store.change_drawn(period, red.total_amount)
    return red.total_amount


def _direct_number(issued: Invoice) -> tuple[str, str, Decimal]:
    """The official number, the quota period and the amount drawn; raises StockExhausted. In the transaction."""
    assert issued.issued_at is not None
    local = in_beijing(issued.issued_at)
    number = stock_store.take_number(local.year)
    if number is None:
        raise _no_number(local.year)
    period = period_of(local)
    if issued.is_red_letter:
        return number, period, _red_give_back(issued, period)
    wanted = issued.total_amount
    if wanted > 0:
        left, valid_to = stock_store.quota_for_issue(period)
        if wanted > left or valid_to is None or local.date() > valid_to:
            raise _no_quota(period, wanted, left if valid_to is not None else ZERO)
        stock_store.change_drawn(period, wanted)
    return number, period, wanted


def _write(invoice: Invoice, clerk: str, channel: str, reissue_of: str | None = None) -> IssuedInvoice:
    """Inside the caller's transaction: number, invoice, lines, buyer, audit and queue rows."""
    issued = dataclasses.replace(invoice, issued_at=invoice.issued_at or now())
    quota: dict[str, Any] = {}
    if channel == DIRECT:
        number, period, drawn = _direct_number(issued)
        issued = dataclasses.replace(issued, number=number)
        quota = {"quota_period": period, "quota_drawn": drawn, "official_number": number}
        invoice_status = status.PENDING_UPLOAD
    else:
        issued = dataclasses.replace(issued, number=_next_number(invoice.seller.tax_id))
        invoice_status = status.PRE_ISSUE
    buyer_id = remember_buyer_id(issued)
    fields = invoice_row_fields(issued)
    row_id = insert_row(InvoiceRow, {"status": invoice_status, "buyer": buyer_id, "channel": channel,
                                     "reissue_of": reissue_of, **quota, **fields})
    insert_rows(InvoiceLine, line_rows(row_id, issued))
    invoice_search.index_new_invoices()  # found by the list's search from this commit on
    used_items = [line.item_id for line in issued.lines if line.item_id is not None]
    if used_items:
        database.execute_sql(f'UPDATE "{Item._meta.table_name}" SET "use_count" = "use_count" + 1 '
                             f'WHERE "id" IN ({", ".join("?" for _ in used_items)})', used_items)
    key = str(uuid.uuid4())
    stamp = now_iso()
    insert_row(UploadQueueEntry, {"invoice": row_id, "idempotency_key": key, "state": status.Q_PENDING,
                                  "created_at": stamp, "updated_at": stamp})
    # The audit entry names the invoice by its id and number (all it reads of the row).
    row = InvoiceRow(id=row_id, provisional_number=fields["provisional_number"])
    # One entry records both changes of this transaction: issued, and queued under its key.
    detail: dict[str, Any] = {"content_hash": fields["content_hash"], "total_with_tax": f"{issued.total_with_tax}",
                              "confirmed_tax_ids": sorted(issued.confirmed_tax_ids), "queued_key": key,
                              "channel": channel}
    if quota:
        detail["quota"] = {"period": quota["quota_period"], "drawn": f"{quota['quota_drawn']:f}"}
    if channel != DIRECT:
        detail["pre_issue"] = True  # a record, not an invoice, until the platform issues it
    if reissue_of:
        detail["reissue_of"] = reissue_of
    audit.append("issued", clerk=clerk or issued.drawer, invoice=row, detail=detail)
    return IssuedInvoice(row_id, issued.number, key, issued)


def _seller_or_fail() -> SellerSettings:
    seller = get_seller()
    if seller is None:
        raise NoSellerProfile("seller：销售方信息未设置，请先设置（seller set）",
                              "seller: no seller profile yet, set it first")
    return seller


def issue_invoice(body: Any, *, confirmed_tax_ids: Iterable[str] = (), confirmed_short_name: bool = False,
                  clerk: str = "", draft_id: int | None = None) -> IssuedInvoice:
    """draft_id: the form's draft (app.services.drafts), deleted in the issuing transaction, both or neither;
    gone already (issued elsewhere), the issue is refused (DraftGone) and nothing is written."""
    def drop_draft(_written: list[IssuedInvoice]) -> None:
        if draft_id is not None:
            take_for_issue(draft_id)

    return issue_invoices([body], confirmed_tax_ids=confirmed_tax_ids, confirmed_short_name=confirmed_short_name,
                          clerk=clerk, after_write=drop_draft)[0]


def issue_invoices(bodies: list[Any], *, confirmed_tax_ids: Iterable[str] = (), confirmed_short_name: bool = False,
                   clerk: str = "", before_write: Callable[[], str | None] | None = None,
                   after_write: Callable[[list[IssuedInvoice]], None] | None = None) -> list[IssuedInvoice]:
    """Issue all or nothing: every draft is checked before the one transaction that writes them.

    before_write and after_write (app/services/reissue.py) run inside that transaction, first and last;
    before_write may refuse by raising, and returns the number of the invoice the new one replaces."""
    seller = _seller_or_fail()
    check_may_issue()
    confirmed = list(confirmed_tax_ids)
    invoices: list[Invoice] = []
    errors: list[FieldError] = []
    for index, body in enumerate(bodies):
        try:
            invoices.append(prepare_invoice(body, seller, confirmed, confirmed_short_name))
        except ValidationFailed as failed:
            prefix = f"[{index}]" if len(bodies) > 1 else ""
            errors += [dataclasses.replace(e, field=prefix + e.field) if prefix else e for e in failed.errors]
    for index, invoice in enumerate(invoices):
        if invoice.is_red_letter:
            # A red invoice is issued on a red-letter form only (app/services/red_forms.issue_red_invoice).
            errors.append(FieldError(
                f"[{index}]red" if len(bodies) > 1 else "red",
                f"红字发票须依据红字确认单开具：先申请确认单（red-form raise {invoice.original_number}），"
                f"再据此开具（red {invoice.original_number} --form 确认单）",
                f"a red-letter invoice is issued on a red-letter form: raise one (red-form raise "
                f"{invoice.original_number}), then issue on it (red {invoice.original_number} --form UUID)"))
    if errors:
        raise ValidationFailed(errors)
    # IMMEDIATE takes the write lock at BEGIN, so two app instances on one store take
    # numbers one after the other and never both read the same last number.
    with database.atomic("IMMEDIATE"):
        # Offline limits are checked under the write lock: two instances cannot both pass the last one.
        replaces = before_write() if before_write is not None else None
        check_can_issue([invoice.total_amount for invoice in invoices])
        channel = get_channel()
        written = [_write(invoice, clerk, channel, replaces) for invoice in invoices]
        if after_write is not None:
            after_write(written)
        return written


def write_issued(invoice: Invoice, clerk: str) -> IssuedInvoice:
    """For a service that issues inside its own IMMEDIATE transaction (red-letter invoices)."""
    return _write(invoice, clerk, get_channel())

"""The direct channel's stock: blocks of official numbers and slices of the month's quota, drawn while
online (platform-api-v2.md "Two channels", shudian-rules.md section 5). Issuing from it comes later.

Every request is first a row COMMITTED in its own transaction ('requested', a new request id), then
sent; its answer is recorded in a second transaction. An answer lost on the way leaves the row
'requested', and the next top_up() asks again under the same request id and the same count or
amount, which the platform answers with the same block or slice: nothing is ever drawn twice for one
request id, and no new request is made while one is still waiting. A final refusal marks the row
'refused' (never asked again). Numbers of a year left unused at its end are lost: top_up() first
retires the held blocks of past years.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from app.core import clock
from app.core.deadlines import period_of
from app.core.errors import FieldError, ValidationFailed
from app.core.money import to_money
from app.core.official_numbers import MAX_BLOCK, REDRAW_SHARE, block_count, parse_number
from app.platform.client import KeyConflict, NumberGrant, PlatformError, QuotaGrant, Rejected, TransientFailure
from app.services.channel import DIRECT, get_channel
from app.services.settings import get_setting, set_setting
from app.store import audit
from app.store import stock as stock_store
from app.store.models import NumberBlock, QuotaSlice, database
from app.store.stock import StockView

# --- settings ------------------------------------------------------------------------------------

BLOCK_SIZE = "stock.block_size"
NUMBERS_FLOOR = "stock.numbers_floor"
QUOTA_SLICE = "stock.quota_slice"
QUOTA_FLOOR = "stock.quota_floor"
DEFAULT_BLOCK_SIZE = 1000
DEFAULT_NUMBERS_FLOOR = 50
DEFAULT_QUOTA_SLICE = Decimal("200000.00")
DEFAULT_QUOTA_FLOOR = Decimal("50000.00")
MAX_QUOTA = Decimal("9999999999.99")


@dataclass(frozen=True)
class StockSettings:
    block_size: int = DEFAULT_BLOCK_SIZE  # numbers a block draws, at most MAX_BLOCK
    numbers_floor: int = DEFAULT_NUMBERS_FLOOR  # draw when fewer remain (or fewer than 20 % of the block)
    quota_slice: Decimal = DEFAULT_QUOTA_SLICE  # what a download asks for
    quota_floor: Decimal = DEFAULT_QUOTA_FLOOR  # download when less is held in the month


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount != to_money(amount):
        return None
    return to_money(amount)


def get_stock_settings() -> StockSettings:
    """The settings kept, each falling back to its default when missing or unreadable."""
    size = _int(get_setting(BLOCK_SIZE))
    floor = _int(get_setting(NUMBERS_FLOOR))
    slice_ = _amount(get_setting(QUOTA_SLICE))
    quota_floor = _amount(get_setting(QUOTA_FLOOR))
    return StockSettings(
        block_size=size if size is not None and 0 < size <= MAX_BLOCK else DEFAULT_BLOCK_SIZE,
        numbers_floor=floor if floor is not None and 0 <= floor <= MAX_BLOCK else DEFAULT_NUMBERS_FLOOR,
        quota_slice=slice_ if slice_ is not None and 0 < slice_ <= MAX_QUOTA else DEFAULT_QUOTA_SLICE,
        quota_floor=quota_floor if quota_floor is not None and 0 <= quota_floor <= MAX_QUOTA else DEFAULT_QUOTA_FLOOR)


def set_stock_settings(*, block_size: Any = None, numbers_floor: Any = None, quota_slice: Any = None,
                       quota_floor: Any = None, clerk: str = "") -> StockSettings:
    """Set what is given (each change an audit entry, by set_setting); nothing is stored when any is wrong."""
    current = get_stock_settings()
    errors: list[FieldError] = []
    size, floor = current.block_size, current.numbers_floor
    slice_, q_floor = current.quota_slice, current.quota_floor
    if block_size is not None:
        parsed = _int(block_size)
        if parsed is None or not 0 < parsed <= MAX_BLOCK:
            errors.append(FieldError(BLOCK_SIZE, f"每次领用号码数（block size）应为 1 到 {MAX_BLOCK} 的整数，"
                                                 f"不能是“{block_size}”",
                                     f"block size must be a whole number from 1 to {MAX_BLOCK}, not {block_size!r}"))
        else:
            size = parsed
    if numbers_floor is not None:
        parsed = _int(numbers_floor)
        if parsed is None or not 0 <= parsed <= MAX_BLOCK:
            errors.append(FieldError(NUMBERS_FLOOR, f"号码补领下限（numbers floor）应为 0 到 {MAX_BLOCK} 的整数，"
                                                    f"不能是“{numbers_floor}”",
                                     f"numbers floor must be a whole number from 0 to {MAX_BLOCK}, "
                                     f"not {numbers_floor!r}"))
        else:
            floor = parsed
    if quota_slice is not None:
        amount = _amount(quota_slice)
        if amount is None or not 0 < amount <= MAX_QUOTA:
            errors.append(FieldError(QUOTA_SLICE, f"每次下载额度（quota slice）应为大于 0 的金额（最多两位小数），"
                                                  f"不能是“{quota_slice}”",
                                     f"quota slice must be an amount above 0 with at most two decimals, "
                                     f"not {quota_slice!r}"))
        else:
            slice_ = amount
    if quota_floor is not None:
        amount = _amount(quota_floor)
        if amount is None or not 0 <= amount <= MAX_QUOTA:
            errors.append(FieldError(QUOTA_FLOOR, f"额度补领下限（quota floor）应为不小于 0 的金额（最多两位小数），"
                                                  f"不能是“{quota_floor}”",
                                     f"quota floor must be an amount of 0 or more with at most two decimals, "
                                     f"not {quota_floor!r}"))
        else:
            q_floor = amount
    if not errors and floor >= size:
        errors.append(FieldError(NUMBERS_FLOOR, f"号码补领下限（{floor}）应小于每次领用号码数（{size}）",
                                 f"numbers floor ({floor}) must be below the block size ({size})"))
    if errors:
        raise ValidationFailed(errors)
    if block_size is not None:
        set_setting(BLOCK_SIZE, size, clerk=clerk)
    if numbers_floor is not None:
        set_setting(NUMBERS_FLOOR, floor, clerk=clerk)
    if quota_slice is not None:
        set_setting(QUOTA_SLICE, f"{slice_:f}", clerk=clerk)
    if quota_floor is not None:
        set_setting(QUOTA_FLOOR, f"{q_floor:f}", clerk=clerk)
    return get_stock_settings()


# --- the view ------------------------------------------------------------------------------------

def stock_view(now: datetime | None = None) -> StockView:
    return stock_store.stock_view(now or clock.now())


# --- top-up --------------------------------------------------------------------------------------

class StockClient(Protocol):
    """What top_up needs of the platform: HttpPlatformClient's two calls."""

    def draw_numbers(self, request_id: str, count: int) -> NumberGrant: ...

    def change_quota(self, request_id: str, action: str, amount: Decimal) -> QuotaGrant: ...


@dataclass(frozen=True)
class RetiredBlock:
    request_id: str
    year: int
    first: str
    last: str
    lost: int  # numbers of it never used


@dataclass(frozen=True)
class DrawnBlock:
    request_id: str
    first: str
    last: str
    count: int
    year: int
    asked_again: bool  # an answer lost earlier, got this time


@dataclass(frozen=True)
class DownloadedSlice:
    request_id: str
    amount: Decimal
    valid_from: date
    valid_to: date
    asked_again: bool


@dataclass(frozen=True)
class Refusal:
    what: str  # numbers / quota
    request_id: str
    reason: str


@dataclass(frozen=True)
class TopUpResult:
    channel: str
    done: bool  # False on the platform channel: nothing was looked at
    view: StockView | None = None
    retired: tuple[RetiredBlock, ...] = ()
    drawn: tuple[DrawnBlock, ...] = ()
    downloaded: tuple[DownloadedSlice, ...] = ()
    refused: tuple[Refusal, ...] = ()
    waiting: tuple[str, ...] = ()  # request ids still without an answer, asked again next time
    error: str = ""  # why the platform could not be asked (transient): the next top_up tries again

    @property
    def complete(self) -> bool:
        return self.done and not self.waiting and not self.refused and not self.error


@dataclass
class _Run:
    client: StockClient
    at: datetime
    clerk: str
    retired: list[RetiredBlock] = field(default_factory=list)
    drawn: list[DrawnBlock] = field(default_factory=list)
    downloaded: list[DownloadedSlice] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    error: str = ""

    @property
    def stamp(self) -> str:
        return self.at.isoformat(timespec="seconds")


def top_up(client: StockClient, clerk: str = "", now: datetime | None = None) -> TopUpResult:
    """On the direct channel: retire past years' blocks, ask again what is still waiting, then draw a
    block and download a slice where the stock is below its floor. `now` is the desk's moment."""
    channel = get_channel()
    if channel != DIRECT:
        return TopUpResult(channel=channel, done=False)
    run = _Run(client=client, at=clock.in_beijing(now or clock.now()), clerk=clerk)
    settings = get_stock_settings()
    _retire_past_years(run)
    for row in stock_store.waiting_blocks():
        if not _ask_block(run, row.id, asked_again=True):
            break
    if not run.error:
        for slice_row in stock_store.waiting_slices():
            if not _ask_slice(run, slice_row.id, asked_again=True):
                break
    if not run.error and not stock_store.waiting_blocks() and _numbers_low(run, settings):
        row_id = _new_block_request(run, settings.block_size)
        if row_id is not None:
            _ask_block(run, row_id, asked_again=False)
    if not run.error and not stock_store.waiting_slices() and _quota_low(run, settings):
        slice_id = _new_slice_request(run, settings.quota_slice)
        if slice_id is not None:
            _ask_slice(run, slice_id, asked_again=False)
    waiting = tuple(b.request_id for b in stock_store.waiting_blocks()) + tuple(
        s.request_id for s in stock_store.waiting_slices())
    return TopUpResult(channel=channel, done=True, view=stock_store.stock_view(run.at), retired=tuple(run.retired),
                       drawn=tuple(run.drawn), downloaded=tuple(run.downloaded), refused=tuple(run.refused),
                       waiting=waiting, error=run.error)


def needs_top_up(now: datetime | None = None) -> bool:
    """On the direct channel: numbers or quota below their floors (cheap: the sync runtime asks after each pass)."""
    if get_channel() != DIRECT:
        return False
    run = _Run(client=_NoClient(), at=clock.in_beijing(now or clock.now()), clerk="")
    settings = get_stock_settings()
    return _numbers_low(run, settings) or _quota_low(run, settings)


class _NoClient:
    def draw_numbers(self, request_id: str, count: int) -> NumberGrant:
        raise AssertionError("not asked")

    def change_quota(self, request_id: str, action: str, amount: Decimal) -> QuotaGrant:
        raise AssertionError("not asked")


def _retire_past_years(run: _Run) -> None:
    with database.atomic("IMMEDIATE"):
        for row in stock_store.held_before(run.at.year):
            block = stock_store.block_of(row)
            lost = max(block.remaining, 0)
            (NumberBlock.update(state=stock_store.RETIRED, retired_at=run.stamp)
             .where(NumberBlock.id == row.id).execute())
            audit.append("numbers_retired", clerk=run.clerk,
                         detail={"request_id": row.request_id, "year": row.year, "first": row.first, "last": row.last,
                                 "lost": lost, "reason": "year ended"})
            run.retired.append(RetiredBlock(row.request_id, int(row.year or 0), str(row.first), str(row.last), lost))


def _numbers_low(run: _Run, settings: StockSettings) -> bool:
    view = stock_store.stock_view(run.at)
    return view.numbers_left < max(settings.numbers_floor, view.current_block_count * REDRAW_SHARE)


def _quota_low(run: _Run, settings: StockSettings) -> bool:
    return stock_store.quota_left(period_of(run.at)) < settings.quota_floor


def _new_block_request(run: _Run, count: int) -> int | None:
    """The request row, committed before anything is sent; None when another desk's request is waiting."""
    with database.atomic("IMMEDIATE"):
        if stock_store.waiting_blocks():
            return None
        row = NumberBlock.create(request_id=uuid.uuid4().hex, requested_count=count, state=stock_store.REQUESTED,
                                 requested_at=run.stamp)
        return int(row.id)


def _new_slice_request(run: _Run, amount: Decimal) -> int | None:
    with database.atomic("IMMEDIATE"):
        if stock_store.waiting_slices():
            return None
        row = QuotaSlice.create(request_id=uuid.uuid4().hex, action=stock_store.DOWNLOAD, amount=amount,
                                period=period_of(run.at), state=stock_store.REQUESTED, requested_at=run.stamp)
        return int(row.id)


def _failed(run: _Run, error: PlatformError) -> None:
    if not isinstance(error, TransientFailure):  # 401: the token; nothing was drawn, the row waits all the same
        run.error = (f"平台拒绝了请求（请检查令牌），下次补领时将以同一请求号重新询问 "
                     f"(the platform refused the request; check the token; asked again next time under the same "
                     f"request id): {error.describe('en')}")
        return
    unknown = ", the outcome is unknown" if error.outcome_unknown else ""
    run.error = (f"平台暂时无法应答，下次补领时将以同一请求号重新询问 (the platform did not answer{unknown}; "
                 f"asked again next time under the same request id): {error.describe('en')}")


def _ask_block(run: _Run, row_id: int, *, asked_again: bool) -> bool:
    """Send (or send again) one block request; False when the platform could not be asked."""
    row = NumberBlock.get_by_id(row_id)
    try:
        grant = run.client.draw_numbers(row.request_id, int(row.requested_count))
    except (Rejected, KeyConflict) as refusal:
        _refuse_block(run, row_id, refusal)
        return True
    except PlatformError as error:  # transient, or a token the platform refuses: the row stays requested
        _failed(run, error)
        return False
    _record_block(run, row_id, grant, asked_again)
    return True


def _record_block(run: _Run, row_id: int, grant: NumberGrant, asked_again: bool) -> None:
    with database.atomic("IMMEDIATE"):
        row = NumberBlock.get_by_id(row_id)
        if row.state != stock_store.REQUESTED:
            return  # recorded meanwhile (another desk asked again): the same answer, nothing to change
        count = block_count(grant.first, grant.last)
        parts = parse_number(grant.first)
        if grant.request_id != row.request_id or grant.count != row.requested_count or count != row.requested_count \
                or parts is None or parts.year != grant.year:
            run.error = (f"平台给出的号码段与请求不符，未记录 (the block does not fit what was asked, not recorded): "
                         f"{grant.first}..{grant.last}")
            return
        overlap = NumberBlock.select().where(
            (NumberBlock.id != row.id) & (NumberBlock.year == grant.year) & NumberBlock.first.is_null(False)
            & (NumberBlock.first <= grant.last) & (NumberBlock.last >= grant.first)).exists()
        if overlap:
            reason = "the block overlaps one the desk already holds"
            NumberBlock.update(state=stock_store.REFUSED).where(NumberBlock.id == row.id).execute()
            audit.append("numbers_refused", clerk=run.clerk,
                         detail={"request_id": row.request_id, "first": grant.first, "last": grant.last,
                                 "reason": reason})
            run.refused.append(Refusal("numbers", row.request_id, reason))
            return
        values: dict[Any, Any] = {NumberBlock.first: grant.first, NumberBlock.last: grant.last,
                                  NumberBlock.year: grant.year, NumberBlock.granted_at: run.stamp}
        detail = {"request_id": row.request_id, "first": grant.first, "last": grant.last, "count": grant.count,
                  "year": grant.year}
        if grant.year == run.at.year:
            values[NumberBlock.state] = stock_store.HELD
            NumberBlock.update(values).where(NumberBlock.id == row.id).execute()
            audit.append("numbers_drawn", clerk=run.clerk, detail={**detail, "asked_again": asked_again})
            run.drawn.append(DrawnBlock(row.request_id, grant.first, grant.last, grant.count, grant.year,
                                        asked_again))
        else:
            # Granted for another year than the desk's (an answer lost across the year's end): not usable now.
            values.update({NumberBlock.state: stock_store.RETIRED, NumberBlock.retired_at: run.stamp})
            NumberBlock.update(values).where(NumberBlock.id == row.id).execute()
            audit.append("numbers_retired", clerk=run.clerk,
                         detail={**detail, "lost": grant.count, "reason": f"granted for {grant.year}, "
                                                                          f"not the current year {run.at.year}"})
            run.retired.append(RetiredBlock(row.request_id, grant.year, grant.first, grant.last, grant.count))


def _refuse_block(run: _Run, row_id: int, refusal: PlatformError) -> None:
    reason = refusal.describe("en")
    with database.atomic("IMMEDIATE"):
        row = NumberBlock.get_by_id(row_id)
        if row.state != stock_store.REQUESTED:
            return
        NumberBlock.update(state=stock_store.REFUSED).where(NumberBlock.id == row.id).execute()
        audit.append("numbers_refused", clerk=run.clerk,
                     detail={"request_id": row.request_id, "count": row.requested_count, "reason": reason})
    run.refused.append(Refusal("numbers", row.request_id, reason))


def _ask_slice(run: _Run, row_id: int, *, asked_again: bool) -> bool:
    row = QuotaSlice.get_by_id(row_id)
    try:
        grant = run.client.change_quota(row.request_id, row.action, row.amount)
    except (Rejected, KeyConflict) as refusal:  # QuotaExceeded is a Rejected
        reason = refusal.describe("en")
        with database.atomic("IMMEDIATE"):
            fresh = QuotaSlice.get_by_id(row_id)
            if fresh.state == stock_store.REQUESTED:
                QuotaSlice.update(state=stock_store.REFUSED).where(QuotaSlice.id == row_id).execute()
                audit.append("quota_refused", clerk=run.clerk,
                             detail={"request_id": row.request_id, "action": row.action,
                                     "amount": f"{row.amount:f}", "reason": reason})
                run.refused.append(Refusal("quota", row.request_id, reason))
        return True
    except PlatformError as error:
        _failed(run, error)
        return False
    with database.atomic("IMMEDIATE"):
        fresh = QuotaSlice.get_by_id(row_id)
        if fresh.state != stock_store.REQUESTED:
            return True
        if grant.request_id != fresh.request_id:
            run.error = "平台的额度应答与请求不符，未记录 (the quota answer does not fit what was asked, not recorded)"
            return False
        period = period_of(grant.valid_from)
        QuotaSlice.update(state=stock_store.GRANTED, period=period, valid_from=grant.valid_from.isoformat(),
                          valid_to=grant.valid_to.isoformat(), granted_at=run.stamp).where(
            QuotaSlice.id == row_id).execute()
        action = "quota_downloaded" if fresh.action == stock_store.DOWNLOAD else "quota_returned"
        audit.append(action, clerk=run.clerk,
                     detail={"request_id": fresh.request_id, "amount": f"{fresh.amount:f}", "period": period,
                             "valid_from": grant.valid_from.isoformat(), "valid_to": grant.valid_to.isoformat(),
                             "downloaded_unused": f"{grant.downloaded_unused:f}", "asked_again": asked_again})
        if fresh.action == stock_store.DOWNLOAD:
            run.downloaded.append(DownloadedSlice(fresh.request_id, fresh.amount, grant.valid_from, grant.valid_to,
                                                  asked_again))
    return True

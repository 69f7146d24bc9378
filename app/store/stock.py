"""The direct channel's stock in the store: blocks of official numbers and slices of quota, as rows and
as the read model the desk shows (StockView). Writes that record an answer check the row is still
'requested' so that an answer recorded twice (two desks asking again) changes nothing the second time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.core.clock import in_beijing
from app.core.deadlines import period_of, year_end
from app.core.money import ZERO
from app.core.official_numbers import Block
from app.store.models import NumberBlock, QuotaSlice, QuotaUse

REQUESTED = "requested"
HELD = "held"
RETIRED = "retired"
REFUSED = "refused"
GRANTED = "granted"
DOWNLOAD = "download"
RETURN = "return"


@dataclass(frozen=True)
class StockView:
    """What the direct channel can issue now, at `at` (Beijing)."""

    at: datetime
    year: int
    numbers_left: int  # in held blocks of the current year
    next_number: str | None
    current_block_count: int  # numbers in the newest held block of the year (0 when none)
    year_end: datetime  # numbers of `year` are lost from then
    blocks_held: int
    blocks_retired: int
    numbers_lost: int  # unused numbers of the retired blocks
    period: str
    quota_held: Decimal  # downloaded and not returned in `period`
    quota_drawn: Decimal  # what the period's invoices drew of it
    quota_valid_to: date | None
    numbers_waiting: tuple[str, ...]  # request ids asked and not answered yet (lost answers)
    quota_waiting: tuple[str, ...]

    @property
    def quota_left(self) -> Decimal:
        return self.quota_held - self.quota_drawn


def block_of(row: NumberBlock) -> Block:
    assert row.first is not None and row.last is not None
    return Block(row.first, row.last, row.used)


def held_blocks(year: int) -> list[NumberBlock]:
    """Held blocks of a year, oldest first: numbers are taken from the first with some left."""
    return list(NumberBlock.select().where((NumberBlock.state == HELD) & (NumberBlock.year == year))
                .order_by(NumberBlock.id))


def held_before(year: int) -> list[NumberBlock]:
    return list(NumberBlock.select().where((NumberBlock.state == HELD) & (NumberBlock.year < year))
                .order_by(NumberBlock.id))


def waiting_blocks() -> list[NumberBlock]:
    return list(NumberBlock.select().where(NumberBlock.state == REQUESTED).order_by(NumberBlock.id))


def waiting_slices() -> list[QuotaSlice]:
    return list(QuotaSlice.select().where(QuotaSlice.state == REQUESTED).order_by(QuotaSlice.id))


def quota_held(period: str) -> Decimal:
    """Downloaded minus returned in period (what invoices drew is counted apart: quota_drawn)."""
    total = ZERO
    for row in QuotaSlice.select().where((QuotaSlice.state == GRANTED) & (QuotaSlice.period == period)):
        total += row.amount if row.action == DOWNLOAD else -row.amount
    return total


def quota_valid_to(period: str) -> date | None:
    row = (QuotaSlice.select(QuotaSlice.valid_to)
           .where((QuotaSlice.state == GRANTED) & (QuotaSlice.period == period) & (QuotaSlice.action == DOWNLOAD)
                  & QuotaSlice.valid_to.is_null(False))
           .order_by(QuotaSlice.valid_to.desc()).first())
    return date.fromisoformat(row.valid_to) if row is not None and row.valid_to else None


def quota_drawn(period: str) -> Decimal:
    """What the direct channel's invoices of the period drew and still hold."""
    row = QuotaUse.get_or_none(QuotaUse.period == period)
    return row.drawn if row is not None else ZERO


def quota_left(period: str) -> Decimal:
    return quota_held(period) - quota_drawn(period)


# What issuing reads of a month's quota, in one statement: held (downloaded minus returned, as quota_held),
# the latest valid_to of its downloads (quota_valid_to) and what its invoices drew (quota_drawn).
_QUOTA_FOR_ISSUE_SQL = (
    'SELECT (SELECT SUM(CASE WHEN "action" = ? THEN "amount" ELSE -"amount" END) FROM "quota_slice" '
    'WHERE "state" = ? AND "period" = ?), '
    '(SELECT MAX("valid_to") FROM "quota_slice" WHERE "state" = ? AND "period" = ? AND "action" = ? '
    'AND "valid_to" IS NOT NULL), '
    '(SELECT "drawn" FROM "quota_use" WHERE "period" = ?)')
# One upsert: what QuotaUse.insert(drawn=0).on_conflict_ignore() then drawn = drawn + amount left.
_CHANGE_DRAWN_SQL = ('INSERT INTO "quota_use" ("period", "drawn") VALUES (?, ?) '
                     'ON CONFLICT ("period") DO UPDATE SET "drawn" = "drawn" + excluded."drawn"')
# The year's held blocks that may have a number left (the sequence digits say so), oldest first; block_of
# decides. A held block without its numbers is read too, so that block_of refuses it as it always did.
_TAKE_FROM_SQL = (
    'SELECT "id", "request_id", "first", "last", "used" FROM "number_block" WHERE "state" = ? AND "year" = ? '
    'AND ("first" IS NULL OR "last" IS NULL '
    'OR "used" <= CAST(substr("last", 6) AS INTEGER) - CAST(substr("first", 6) AS INTEGER)) ORDER BY "id"')
_TAKE_SQL = 'UPDATE "number_block" SET "used" = "used" + 1 WHERE "id" = ? AND "used" = ?'


def quota_for_issue(period: str) -> tuple[Decimal, date | None]:
    """(quota_left(period), quota_valid_to(period)) in one read; inside the issuing transaction."""
    row = QuotaSlice._meta.database.execute_sql(
        _QUOTA_FOR_ISSUE_SQL, (DOWNLOAD, GRANTED, period, GRANTED, period, DOWNLOAD, period)).fetchone()
    held_fen, valid_to, drawn_fen = row if row is not None else (None, None, None)
    money = QuotaUse.drawn.python_value
    held = money(held_fen) if held_fen is not None else ZERO
    drawn = money(drawn_fen) if drawn_fen is not None else ZERO
    assert held is not None and drawn is not None
    return held - drawn, (date.fromisoformat(valid_to) if valid_to else None)


def change_drawn(period: str, amount: Decimal) -> None:
    """Add (or with a negative amount give back) quota drawn; inside the caller's transaction."""
    QuotaUse._meta.database.execute_sql(_CHANGE_DRAWN_SQL, (period, QuotaUse.drawn.db_value(amount)))


def take_number(year: int) -> str | None:
    """The next number of the year's held blocks, marked used; None when none is left. Inside the caller's
    IMMEDIATE transaction, so two desks on one store never take the same number and none is skipped."""
    database = NumberBlock._meta.database
    for block_id, request_id, first, last, used in database.execute_sql(_TAKE_FROM_SQL, (HELD, year)).fetchall():
        assert first is not None and last is not None
        number = Block(first, last, used).next_number()
        if number is None:
            continue
        changed = database.execute_sql(_TAKE_SQL, (block_id, used)).rowcount
        if changed != 1:  # cannot happen under the write lock; refuse rather than give a number twice
            raise RuntimeError(f"number block {request_id} changed while a number was taken")
        return number
    return None


def stock_view(at: datetime) -> StockView:
    local = in_beijing(at)
    year, period = local.year, period_of(local)
    blocks = held_blocks(year)
    left = sum(block_of(b).remaining for b in blocks)
    next_number = next((n for n in (block_of(b).next_number() for b in blocks) if n is not None), None)
    retired = list(NumberBlock.select().where(NumberBlock.state == RETIRED))
    lost = sum(max(block_of(r).remaining, 0) for r in retired if r.first is not None)
    return StockView(
        at=local, year=year, numbers_left=left, next_number=next_number,
        current_block_count=block_of(blocks[-1]).count if blocks else 0, year_end=year_end(year),
        blocks_held=len(blocks), blocks_retired=len(retired), numbers_lost=lost, period=period,
        quota_held=quota_held(period), quota_drawn=quota_drawn(period), quota_valid_to=quota_valid_to(period),
        numbers_waiting=tuple(b.request_id for b in waiting_blocks()),
        quota_waiting=tuple(s.request_id for s in waiting_slices()))

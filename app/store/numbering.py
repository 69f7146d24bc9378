"""The provisional number counter (LX-0000001, ...): the next number, refused clearly when the counter
was moved back behind the app's back (the next number is one given already).

app.services.issuing takes its numbers here (next_provisional_number, inside the issuing transaction).
"""

from __future__ import annotations

from app.core.errors import DeskError
from app.store.models import Invoice, NumberCounter

PREFIX = "LX-"  # app.services.issuing.PROVISIONAL_PREFIX


class CounterMovedBack(DeskError):
    """The number counter is behind the numbers the store holds: issuing would reuse a number."""


def format_number(value: int) -> str:
    return f"{PREFIX}{value:07d}"


def newest_number() -> int:
    """The highest provisional number in the store (0 when none): one seek on the number's unique index."""
    row = (Invoice.select(Invoice.provisional_number)
           .where((Invoice.provisional_number >= PREFIX) & (Invoice.provisional_number < "LX."))
           .order_by(Invoice.provisional_number.desc()).limit(1).tuples().first())
    if row is None:
        return 0
    try:
        return int(row[0][len(PREFIX):])
    except ValueError:
        return 0


def next_provisional_number(seller_tax_id: str) -> str:
    """Bump the seller's counter and give its number; call inside the issuing transaction.

    Raises CounterMovedBack (nothing written) when the number is held already: the counter was set back in
    the SQLite file, and issuing would otherwise fail on the number's unique index (or, worse, after it)."""
    counter = NumberCounter.get_or_none(NumberCounter.seller_tax_id == seller_tax_id)
    last = counter.last_value if counter is not None else 0
    newest = newest_number()
    if last < newest:
        raise CounterMovedBack(
            f"编号计数器被改回（{format_number(last)}），而 {format_number(newest)} 已开具："
            "本地数据库在应用之外被改动，拒绝开具；请运行 audit verify --full 并恢复最近的正常备份",
            f"the number counter was moved back ({format_number(last)}) while {format_number(newest)} is issued: "
            "the store was changed behind the app's back; issuing is refused. Run `audit verify --full` and restore "
            "the newest good backup")
    value = last + 1
    if counter is None:
        NumberCounter.create(seller_tax_id=seller_tax_id, last_value=value)
    else:
        NumberCounter.update(last_value=value).where(NumberCounter.seller_tax_id == seller_tax_id).execute()
    return format_number(value)

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


# The highest provisional number in the store: one seek on the number's unique index.
_NEWEST_SQL = (f'SELECT "provisional_number" FROM "{Invoice._meta.table_name}" '
               'WHERE "provisional_number" >= ? AND "provisional_number" < ? '
               'ORDER BY "provisional_number" DESC LIMIT 1')
_PREFIX_RANGE = (PREFIX, "LX.")  # every LX-... number, by the index
# The seller's counter and that number, in one read (next_provisional_number).
_COUNTER_AND_NEWEST_SQL = (f'SELECT (SELECT "last_value" FROM "{NumberCounter._meta.table_name}" '
                           f'WHERE "seller_tax_id" = ?), ({_NEWEST_SQL})')
# Create the counter at `value` or set it to `value`: what NumberCounter.create / update did, in one statement.
_SET_COUNTER_SQL = (f'INSERT INTO "{NumberCounter._meta.table_name}" ("seller_tax_id", "last_value") VALUES (?, ?) '
                    'ON CONFLICT ("seller_tax_id") DO UPDATE SET "last_value" = excluded."last_value"')


def _number_value(number: str | None) -> int:
    if number is None:
        return 0
    try:
        return int(number[len(PREFIX):])
    except ValueError:
        return 0


def newest_number() -> int:
    """The highest provisional number in the store (0 when none): one seek on the number's unique index."""
    row = Invoice._meta.database.execute_sql(_NEWEST_SQL, _PREFIX_RANGE).fetchone()
    return _number_value(row[0] if row is not None else None)


def next_provisional_number(seller_tax_id: str) -> str:
    """Bump the seller's counter and give its number; call inside the issuing transaction.

    Raises CounterMovedBack (nothing written) when the number is held already: the counter was set back in
    the SQLite file, and issuing would otherwise fail on the number's unique index (or, worse, after it)."""
    database = NumberCounter._meta.database
    counter_value, newest_text = database.execute_sql(_COUNTER_AND_NEWEST_SQL,
                                                      (seller_tax_id, *_PREFIX_RANGE)).fetchone()
    last = int(counter_value) if counter_value is not None else 0
    newest = _number_value(newest_text)
    if last < newest:
        raise CounterMovedBack(
            f"编号计数器被改回（{format_number(last)}），而 {format_number(newest)} 已开具："
            "本地数据库在应用之外被改动，拒绝开具；请运行 audit verify --full 并恢复最近的正常备份",
            f"the number counter was moved back ({format_number(last)}) while {format_number(newest)} is issued: "
            "the store was changed behind the app's back; issuing is refused. Run `audit verify --full` and restore "
            "the newest good backup")
    value = last + 1
    database.execute_sql(_SET_COUNTER_SQL, (seller_tax_id, value))
    return format_number(value)

"""The invoice list searched, filtered and sorted, a page at a time by key (never OFFSET).

Words go to the trigram index `invoice_search` (FTS5: one row an invoice, rowid = invoice.id, columns
numbers / buyer / tax_id / items / remarks, each value between bars: |LX-0000001|2611...|), so a word of
three characters or more is found among a million invoices by index. A shorter word (a trigram index
cannot hold it) is looked up in `search_name`, the directory of the buyer and item names the invoices
used (a few thousand rows): the trigrams of those names that hold the word (windows) are single tokens
of the same index. A word in more than WINDOW_LIMIT different trigrams is too common to be worth it and
is tested on the rows instead (that common, a page is found within a few thousand).

The index gets each invoice in the transaction that writes it (index_new_invoices, called by every
writer after the invoice's lines; catch_up at open indexes anything left out). The triggers of schema
step 8 keep the numbers, buyer and remarks in step when a row changes, and the name directory whatever
writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.core.invoice_query import ANYWHERE, BUYER, ITEM, NUMBER, REMARKS, SHORTEST_INDEXED, UPLOAD_STATES, InvoiceQuery
from app.store.models import database

WINDOW_LIMIT = 500  # trigrams a short word may expand to before it is tested on the rows instead
# Where a field's words are looked for in the index (the buyer: its name and its tax id).
_FTS_COLUMNS = {NUMBER: "numbers", BUYER: "{buyer tax_id}", ITEM: "items", REMARKS: "remarks"}
_NAME_COLUMNS = {BUYER: "buyer", ITEM: "items"}  # where a directory name sits
_DIRECTORY = {BUYER: (BUYER,), ITEM: (ITEM,), ANYWHERE: (BUYER, ITEM)}
# Sort key -> (SQL expression, may be NULL). "number" is the invoice id: numbers are given in order.
_SORT_SQL: dict[str, tuple[str, bool]] = {
    "number": ("invoice.id", False),
    "official_number": ("invoice.official_number", True),
    "issued_at": ("invoice.issued_at", False),
    "buyer_name": ("invoice.buyer_name", False),
    "buyer_tax_id": ("invoice.buyer_tax_id", False),
    "total_with_tax": ("invoice.total_with_tax", False),
    "status": ("invoice.status", False),
    "kind": ("invoice.kind", False),
    # Red ones name the blue invoice they reverse: grouped by it, before the blue ones going down.
    "red": ("invoice.original_number", True),
}

# What one invoice puts in the index; the same expressions as schema step 8's fill.
_INDEX_SQL = (
    "INSERT INTO invoice_search (rowid, numbers, buyer, tax_id, items, remarks) "
    "SELECT invoice.id, '|' || invoice.provisional_number || '|' || coalesce(invoice.official_number, '') || '|', "
    "'|' || invoice.buyer_name || '|', '|' || invoice.buyer_tax_id || '|', "
    "'|' || coalesce((SELECT group_concat(line.name, '|') FROM invoice_line AS line "
    "WHERE line.invoice_id = invoice.id), '') || '|', invoice.remarks "
    "FROM invoice WHERE invoice.id > ? ORDER BY invoice.id")


def indexed_up_to() -> int:
    """The newest invoice id in the index (0: none). One seek: FTS5 reads its rowids in order."""
    row = database.execute_sql("SELECT rowid FROM invoice_search ORDER BY rowid DESC LIMIT 1").fetchone()
    return int(row[0]) if row else 0


def index_new_invoices() -> int:
    """Index every invoice newer than the index's newest (inside the writer's transaction, after the
    invoice's lines are written: invoices only ever get higher ids). How many rows it added."""
    cursor = database.execute_sql(_INDEX_SQL, (indexed_up_to(),))
    return max(cursor.rowcount, 0)


def catch_up() -> int:
    """At open: index what a writer left out (none, in a healthy store), checked by two index seeks."""
    newest = database.execute_sql("SELECT max(id) FROM invoice").fetchone()[0]
    if not newest or newest <= indexed_up_to():
        return 0
    with database.atomic("IMMEDIATE"):
        return index_new_invoices()


MERGE_PAGES = 2000  # the work a tidy-up may do: about 8 MB written, a fraction of a second


def tidy(pages: int = MERGE_PAGES) -> int:
    """Merge the index's segments (inside the caller's transaction), up to about `pages` pages of work; the
    pages written (0: nothing was worth merging). Issues add a small segment each and never merge (schema
    step 9): this folds them, so a search reads a few segments, not hundreds."""
    before = database.execute_sql("SELECT total_changes()").fetchone()[0]
    database.execute_sql("INSERT INTO invoice_search (invoice_search, rank) VALUES ('merge', ?)", (pages,))
    # The command itself counts as one change; what it merged, as the rest.
    return max(int(database.execute_sql("SELECT total_changes()").fetchone()[0]) - int(before) - 1, 0)


def segments() -> int:
    """How many segments the index holds (what each word's look-up reads)."""
    row = database.execute_sql("SELECT count(DISTINCT segid) FROM invoice_search_idx").fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class IndexState:
    invoices: int
    indexed: int
    missing: int  # invoices with no row in the index
    names: int  # buyer and item names in the directory


def index_state() -> IndexState:
    """What the index holds against the invoices (reads both whole: for the `search-index` command)."""
    row = database.execute_sql(
        "SELECT (SELECT count(*) FROM invoice), (SELECT count(*) FROM invoice_search), "
        "(SELECT count(*) FROM invoice WHERE id NOT IN (SELECT rowid FROM invoice_search)), "
        "(SELECT count(*) FROM search_name)").fetchone()
    return IndexState(*(int(value) for value in row))


def rebuild_index() -> int:
    """The index and the name directory built again from the invoices (inside the caller's transaction), as
    schema step 8 first built them: for an index a damaged file or an outside writer left short."""
    database.execute_sql("DELETE FROM invoice_search")
    database.execute_sql("DELETE FROM search_name")
    added = index_new_invoices()
    database.execute_sql("INSERT INTO search_name (kind, name, uses) "
                         "SELECT 'buyer', buyer_name, count(*) FROM invoice GROUP BY buyer_name")
    database.execute_sql("INSERT INTO search_name (kind, name, uses) "
                         "SELECT 'item', name, count(*) FROM invoice_line GROUP BY name")
    return added


def index_lag() -> int:
    """Invoices the index lacks (0 in a healthy store: every writer indexes what it writes)."""
    row = database.execute_sql("SELECT count(*) FROM invoice WHERE id > ?", (indexed_up_to(),)).fetchone()
    return int(row[0]) if row else 0


# --- building the query ------------------------------------------------------------------------

def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _names_with(word: str, kinds: Sequence[str]) -> list[str]:
    """Every directory name of those kinds containing word (ASCII case folded), most used first."""
    rows = database.execute_sql(
        f"SELECT name FROM search_name WHERE kind IN ({_marks(kinds)}) AND instr(lower(name), lower(?)) > 0 "
        "ORDER BY uses DESC", (*kinds, word)).fetchall()
    return [str(row[0]) for row in rows]


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class _Plan:
    match: str | None  # the FTS5 expression of the words
    conditions: tuple[str, ...]  # SQL over `invoice`, for a word too common to look up
    params: tuple[object, ...]
    empty: bool = False  # a word found nothing: no row can match


def windows(word: str, names: Sequence[str]) -> set[str]:
    """The trigrams of the names (between their bars) that hold a one- or two-character word: the word
    and the character after it (there is always one: the closing bar), or for one character the characters
    on both sides. Every occurrence of the word in those names lies in one of them, and each of them holds
    the word, so matching any of them finds exactly the invoices whose names hold it."""
    folded = word.lower()
    found: set[str] = set()
    for name in names:
        value = ("|" + name + "|").lower()
        at = value.find(folded)
        while at >= 0:
            found.add(value[at:at + 3] if len(folded) == 2 else value[at - 1:at + 2])
            at = value.find(folded, at + 1)
    return found


def _short_word(word: str, kinds: Sequence[str]) -> tuple[str | None, str | None, list[object]] | None:
    """A word of one or two characters: (an FTS5 expression, or a row condition and its parameters);
    None when no name holds it.

    The directory's names that hold it give the trigrams that do (windows), and the trigram index finds
    those: a few single-token look-ups, however many invoices match. A word so common that it sits in more
    than WINDOW_LIMIT different trigrams is tested on the rows instead, which finds a page within a few
    thousand rows (that common, it is on most of them)."""
    names = _names_with(word, kinds)
    if not names:
        return None
    found = windows(word, names)
    if len(found) <= WINDOW_LIMIT:
        columns = " ".join(_NAME_COLUMNS[kind] for kind in kinds)
        return "{" + columns + "} : (" + " OR ".join(_phrase(w) for w in sorted(found)) + ")", None, []
    like = _like(word)
    tests: list[str] = []
    params: list[object] = []
    if BUYER in kinds:
        tests.append("invoice.buyer_name LIKE ? ESCAPE '\\'")
        params.append(like)
    if ITEM in kinds:
        tests.append("EXISTS (SELECT 1 FROM invoice_line AS line WHERE line.invoice_id = invoice.id "
                     "AND line.name LIKE ? ESCAPE '\\')")
        params.append(like)
    return None, "(" + " OR ".join(tests) + ")", params


def _words(query: InvoiceQuery) -> _Plan:
    parts: list[str] = []
    conditions: list[str] = []
    params: list[object] = []
    for search_field, word in query.words:
        if len(word) >= SHORTEST_INDEXED:
            column = _FTS_COLUMNS.get(search_field)
            parts.append(f"{column} : {_phrase(word)}" if column else _phrase(word))
            continue
        found = _short_word(word, _DIRECTORY.get(search_field, ()))
        if found is None:
            return _Plan(None, (), (), empty=True)
        expression, condition, values = found
        if expression is not None:
            parts.append(expression)
        if condition is not None:
            conditions.append(condition)
            params += values
    return _Plan(" AND ".join(parts) or None, tuple(conditions), tuple(params))


def _filters(query: InvoiceQuery) -> tuple[list[str], list[object]]:
    conditions: list[str] = []
    params: list[object] = []

    def add(condition: str, *values: object) -> None:
        conditions.append(condition)
        params.extend(values)

    if query.status:
        add("invoice.status = ?", query.status)
    if query.date_from:
        add("invoice.issued_date >= ?", query.date_from.isoformat())
    if query.date_to:
        add("invoice.issued_date <= ?", query.date_to.isoformat())
    if query.min_total is not None:
        add("invoice.total_with_tax >= ?", _fen_at_least(query.min_total))
    if query.max_total is not None:
        add("invoice.total_with_tax <= ?", _fen_at_most(query.max_total))
    if query.kind:
        add("invoice.kind = ?", query.kind)
    if query.medium:
        add("invoice.medium = ?", query.medium)
    if query.channel:
        add("invoice.channel = ?", query.channel)
    if query.red is not None:
        conditions.append("invoice.original_number IS NOT NULL" if query.red else "invoice.original_number IS NULL")
    if query.upload:
        states = UPLOAD_STATES[query.upload][2]
        marks = ", ".join("?" for _ in states)
        add(f"EXISTS (SELECT 1 FROM upload_queue_entry AS queued WHERE queued.invoice_id = invoice.id "
            f"AND queued.state IN ({marks}))", *states)
    return conditions, params


def _fen_at_least(amount: Decimal) -> int:
    fen = amount.scaleb(2)
    return int(fen.to_integral_value(rounding="ROUND_CEILING"))


def _fen_at_most(amount: Decimal) -> int:
    fen = amount.scaleb(2)
    return int(fen.to_integral_value(rounding="ROUND_FLOOR"))


# A position in the sorted list: the sort value and the id of the last row read (value None: NULLs).
Cursor = tuple[Any, int]


@dataclass(frozen=True)
class Page:
    rows: list[tuple[Any, ...]]  # the asked columns, then the sort value and the id
    after: Cursor | None  # where the next page starts; None: this was the last


@dataclass(frozen=True)
class Prepared:
    """A checked query with its words looked up and its conditions built: what every page of one walk shares
    (the name directory is read once a walk, not once a page)."""

    query: InvoiceQuery
    plan: _Plan
    conditions: tuple[str, ...]
    params: tuple[object, ...]


def prepare(query: InvoiceQuery) -> Prepared:
    checked = query if query._checked else query.check()
    plan = _words(checked)
    conditions, params = _filters(checked)
    return Prepared(checked, plan, (*conditions, *plan.conditions), (*params, *plan.params))


def select_page(query: InvoiceQuery | Prepared, columns: str, limit: int, after: Cursor | None = None) -> Page:
    """One page of the rows query selects, in its order, after the cursor (None: from the start).

    columns is SQL over `invoice` (e.g. "invoice.id, invoice.buyer_name"). Every order reads an index range
    (the id, the official number, the date, the buyer, the tax id, the amount, the status, the kind, red).
    A walk over many pages passes prepare(query) once."""
    prepared = query if isinstance(query, Prepared) else prepare(query)
    if prepared.plan.empty or limit <= 0:
        return Page([], None)
    expression, nullable = _SORT_SQL[prepared.query.sort]
    rows: list[tuple[Any, ...]] = []
    # The NULLs of a nullable key come last going down and first going up (SQLite orders NULL lowest):
    # read them as a segment of their own, by id, so every segment is one index range.
    segments: list[bool | None] = [None] if not nullable else (
        [False, True] if prepared.query.descending else [True, False])  # True: the NULL segment
    if after is not None and nullable:
        at_null = after[0] is None
        segments = segments[segments.index(at_null):]
    for segment in segments:
        want = limit - len(rows)
        cursor = after if (after is not None and (segment is None or (after[0] is None) == segment)) else None
        rows += _segment(prepared, columns, expression, segment, cursor, want)
        if len(rows) >= limit:
            break
    if len(rows) < limit:
        return Page(rows, None)
    return Page(rows, (rows[-1][-2], rows[-1][-1]))


def _segment(prepared: Prepared, columns: str, expression: str, segment: bool | None, after: Cursor | None,
             limit: int) -> list[tuple[Any, ...]]:
    plan = prepared.plan
    where = list(prepared.conditions)
    values = list(prepared.params)
    down = prepared.query.descending
    key = expression if segment is not True else "invoice.id"
    if segment is True:
        where.append(f"{expression} IS NULL")
    elif segment is False:
        where.append(f"{expression} IS NOT NULL")
    drive_by_index = plan.match is not None and expression == "invoice.id"
    id_column = "invoice_search.rowid" if drive_by_index else "invoice.id"
    if after is not None:
        compare = "<" if down else ">"
        if key == "invoice.id":
            where.append(f"{id_column} {compare} ?")
            values.append(after[1])
        else:
            where.append(f"({key}, invoice.id) {compare} (?, ?)")
            values += [after[0], after[1]]
    direction = "DESC" if down else "ASC"
    order = f"{id_column} {direction}" if key == "invoice.id" else f"{key} {direction}, invoice.id {direction}"
    if plan.match is None:
        source = "invoice"
    elif drive_by_index:
        # The index drives, newest first, and each of its rows looks up its invoice: a page reads a page.
        source = "invoice_search JOIN invoice ON invoice.id = invoice_search.rowid"
        where.insert(0, "invoice_search MATCH ?")
        values.insert(0, plan.match)
    else:
        source = "invoice"
        where.insert(0, "invoice.id IN (SELECT rowid FROM invoice_search WHERE invoice_search MATCH ?)")
        values.insert(0, plan.match)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT {columns}, {expression}, invoice.id FROM {source}{clause} ORDER BY {order} LIMIT ?"
    return [tuple(row) for row in database.execute_sql(sql, (*values, limit)).fetchall()]


def iter_rows(query: InvoiceQuery, columns: str, page: int = 1000) -> Iterator[tuple[Any, ...]]:
    """Every row of the query in its order, a page at a time: constant memory."""
    prepared = prepare(query)
    after: Cursor | None = None
    while True:
        found = select_page(prepared, columns, page, after)
        yield from found.rows
        if found.after is None:
            return
        after = found.after


def count_up_to(query: InvoiceQuery, cap: int) -> int:
    """How many rows match, counted up to cap + 1 (more than cap: "over cap"), so a count costs at most
    cap rows whatever the store holds."""
    prepared = prepare(query)
    if prepared.plan.empty:
        return 0
    conditions, params = list(prepared.conditions), list(prepared.params)
    source = "invoice"
    if prepared.plan.match is not None:
        source = "invoice_search JOIN invoice ON invoice.id = invoice_search.rowid"
        conditions.insert(0, "invoice_search MATCH ?")
        params.insert(0, prepared.plan.match)
    clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    row = database.execute_sql(f"SELECT count(*) FROM (SELECT 1 FROM {source}{clause} LIMIT ?)",
                               (*params, cap + 1)).fetchone()
    return int(row[0]) if row else 0

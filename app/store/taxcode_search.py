"""Finding a tax classification code as a clerk types: by code, by words, by pinyin initials.

    search_codes("304")   codes starting 304...
    search_codes("软件")   names, short names, keywords, explanations holding 软件
    search_codes("rjkf")  names whose pinyin initials start with or hold rjkf: 软件开发服务

One SQL statement over the table as it stands (no cache to go stale when the table is refreshed,
restored or edited): LIKE on the existing columns, only the criteria the text can meet (a code
prefix only for digits, initials only for letters), ranked by a CASE in the order a clerk expects:

    0 the code itself, 1 a code prefix, 2 the name starts with the text, 3 the name holds it,
    4 the short name holds it, 5 the initials start with it, 6 the initials hold it,
    7 the keywords hold it, 8 the explanation holds it; ties by code.

The `initials` column holds every spelling of the initials, space-separated ("yh yx" for 银行),
so "starts with" is `LIKE 'q%' OR LIKE '% q%'`. The whole table is 4,236 rows: a query takes a
few milliseconds (tests/benchmarks/bench_taxcode_search.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.taxcodes import CODE_LENGTH, SUMMARY_CODES_ALLOWED
from app.store.models import TaxCode as TaxCodeRow
from app.store.models import database

DEFAULT_LIMIT = 50
MAX_QUERY = 60  # characters of a query looked at: longer text matches nothing more useful

_COLUMNS = ("code", "name", "short_name", "rates", "policies", "summary", "usable", "explanation", "keywords",
            "parent", "version")


@dataclass(frozen=True)
class TaxCodeHit:
    """One code as the picker and `taxcodes show` display it (a read model, not the store row)."""

    code: str
    name: str
    short_name: str
    rates: tuple[str, ...]  # rate codes: ("0.13", "0.09"); empty on a summary row
    policies: tuple[str, ...]  # policy flags: ("03",)
    summary: bool  # 汇总项: not for an invoice line (but see SUMMARY_CODES_ALLOWED)
    usable: bool  # False: withdrawn from the table in force
    explanation: str
    keywords: str = ""
    parent: str = ""
    version: str = ""

    @property
    def allowed_on_a_line(self) -> bool:
        return self.usable and (not self.summary or self.code in SUMMARY_CODES_ALLOWED)


def _hit(values: tuple[Any, ...]) -> TaxCodeHit:
    code, name, short, rates, policies, summary, usable, explanation, keywords, parent, version = values
    return TaxCodeHit(code=code, name=name, short_name=short, rates=tuple(r for r in rates.split(",") if r),
                      policies=tuple(p for p in policies.split(",") if p), summary=bool(summary),
                      usable=bool(usable), explanation=explanation, keywords=keywords, parent=parent,
                      version=version)


def _like(text: str) -> str:
    """text for LIKE ... ESCAPE '\\', its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_codes(text: str, *, limit: int = DEFAULT_LIMIT, include_unusable: bool = False,
                 leaves_only: bool = True) -> list[TaxCodeHit]:
    """The codes matching text, best first (see the module docstring); [] for blank text.

    leaves_only keeps the codes an invoice line may carry: leaves, and the summary rows the rules
    allow on a line (基础电信服务, 增值电信服务); include_unusable adds withdrawn codes."""
    query = " ".join(text.split())[:MAX_QUERY]
    if not query or limit <= 0:
        return []
    escaped = _like(query)
    contains = f"%{escaped}%"
    # (rank, condition, parameters): only what this text can match, so the scan does no useless work.
    criteria: list[tuple[int, str, list[Any]]] = []
    if query.isascii() and query.isdigit() and len(query) <= CODE_LENGTH:
        criteria.append((0, "code = ?", [query]))
        # A range on the primary key, not LIKE: digits sort before ':'.
        criteria.append((1, "(code >= ? AND code < ?)", [query, query + ":"]))
    criteria += [
        (2, "name LIKE ? ESCAPE '\\'", [f"{escaped}%"]),
        (3, "name LIKE ? ESCAPE '\\'", [contains]),
        (4, "short_name LIKE ? ESCAPE '\\'", [contains]),
    ]
    letters = query.lower()
    if letters.isascii() and letters.isalnum() and not letters.isdigit():
        criteria.append((5, "(initials LIKE ? ESCAPE '\\' OR initials LIKE ? ESCAPE '\\')",
                         [f"{_like(letters)}%", f"% {_like(letters)}%"]))
        criteria.append((6, "initials LIKE ? ESCAPE '\\'", [f"%{_like(letters)}%"]))
    criteria += [
        (7, "keywords LIKE ? ESCAPE '\\'", [contains]),
        (8, "explanation LIKE ? ESCAPE '\\'", [contains]),
    ]
    rank = "CASE " + " ".join(f"WHEN {condition} THEN {number}" for number, condition, _ in criteria) + " END"
    params: list[Any] = [p for _, _, ps in criteria for p in ps]
    filters: list[str] = []
    if not include_unusable:
        filters.append("usable = 1")
    if leaves_only:
        filters.append(f"(summary = 0 OR code IN ({', '.join('?' for _ in SUMMARY_CODES_ALLOWED)}))")
        params += list(SUMMARY_CODES_ALLOWED)
    columns = ", ".join(_COLUMNS)
    where = f" WHERE {' AND '.join(filters)}" if filters else ""
    sql = (f"SELECT {columns} FROM (SELECT {columns}, {rank} AS rank FROM {TaxCodeRow._meta.table_name}{where}) "
           "WHERE rank IS NOT NULL ORDER BY rank, code LIMIT ?")
    cursor = database.execute_sql(sql, [*params, limit])
    return [_hit(tuple(row)) for row in cursor.fetchall()]


def get_code(code: str) -> TaxCodeHit | None:
    """One code of the table in force, usable or not; None when the table has no such code."""
    code = code.strip()
    if not (len(code) == CODE_LENGTH and code.isascii() and code.isdigit()):
        return None
    cursor = database.execute_sql(f"SELECT {', '.join(_COLUMNS)} FROM {TaxCodeRow._meta.table_name} WHERE code = ?",
                                  [code])
    row = cursor.fetchone()
    return None if row is None else _hit(tuple(row))

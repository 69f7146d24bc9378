"""The tax classification table in the store: rows to TaxCode and back, and the table in force for validation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.base.pinyin import initials
from app.core.taxcodes import TaxCode
from app.store.models import Setting, database
from app.store.models import TaxCode as TaxCodeRow

VERSION_KEY = "taxcodes.version"  # the version of the table in force, as a JSON string
CHUNK = 500


def code_from_row(row: TaxCodeRow) -> TaxCode:
    return TaxCode(code=row.code, name=row.name, short_name=row.short_name,
                   rates=tuple(r for r in row.rates.split(",") if r),
                   policies=tuple(p for p in row.policies.split(",") if p), summary=row.summary, usable=row.usable,
                   parent=row.parent, explanation=row.explanation, keywords=row.keywords, version=row.version)


def row_fields(code: TaxCode) -> dict[str, Any]:
    return {"code": code.code, "name": code.name, "short_name": code.short_name, "rates": ",".join(code.rates),
            "policies": ",".join(code.policies), "summary": code.summary, "usable": code.usable,
            "parent": code.parent, "explanation": code.explanation, "keywords": code.keywords,
            "version": code.version, "initials": initials(code.name)}


def upsert_codes(codes: Iterable[TaxCode]) -> int:
    """Insert or replace rows; inside the caller's transaction. Returns how many were written."""
    return upsert_rows(row_fields(code) for code in codes)


def upsert_rows(rows: Iterable[dict[str, Any]]) -> int:
    """row_fields() of each code, inserted or replaced; inside the caller's transaction.

    One executemany a batch: peewee's insert_many builds the SQL for 4,236 rows in 0.4 s, which every
    new store (and every test) would pay at its first open."""
    meta = TaxCodeRow._meta
    names = [field.name for field in meta.sorted_fields]
    columns = ", ".join(f'"{meta.fields[name].column_name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    sql = f'INSERT OR REPLACE INTO "{meta.table_name}" ({columns}) VALUES ({marks})'
    connection = meta.database.connection()
    written = 0
    batch: list[tuple[Any, ...]] = []
    for fields in rows:
        batch.append(tuple(int(fields[n]) if isinstance(fields[n], bool) else fields[n] for n in names))
        if len(batch) >= CHUNK:
            connection.executemany(sql, batch)
            written += len(batch)
            batch = []
    if batch:
        connection.executemany(sql, batch)
        written += len(batch)
    return written


def table_version() -> str | None:
    row = Setting.get_or_none(Setting.key == VERSION_KEY)
    return None if row is None else str(row.value).strip('"')


class StoredTaxCodes:
    """The table in force as validation reads it (app.core.taxcodes.TaxCodeTable), one indexed look-up a code,
    each code read once."""

    def __init__(self) -> None:
        self._cache: dict[str, TaxCode | None] = {}

    def get(self, code: str, /) -> TaxCode | None:
        if code not in self._cache:
            row = TaxCodeRow.get_or_none(TaxCodeRow.code == code)
            self._cache[code] = None if row is None else code_from_row(row)
        return self._cache[code]

    def prefetch(self, codes: Iterable[str]) -> StoredTaxCodes:
        wanted = [c for c in set(codes) if isinstance(c, str) and c not in self._cache]
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start:start + CHUNK]
            found = {row.code: code_from_row(row) for row in TaxCodeRow.select().where(TaxCodeRow.code.in_(part))}
            for code in part:
                self._cache[code] = found.get(code)
        return self


def count_codes() -> int:
    with database.atomic():
        return TaxCodeRow.select().count()

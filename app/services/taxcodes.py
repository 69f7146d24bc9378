"""The tax classification table in force: the shipped table loaded on first start and on upgrade, and
refreshed from the platform (`GET /v2/tax-codes`).

A refresh asks for what changed since the store's version and takes the answer in one IMMEDIATE
transaction: rows added or changed are written, withdrawn codes become unusable (kept: invoices and
catalog items refer to them), the version setting moves, and one audit entry records it. A row
the answer leaves as it was is not rewritten and keeps the version it came with. The
platform's answer is checked in full by the client first; an answer that does not fit, a failure
halfway, or a table older than the store's changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from app.base.resources import TAX_CODE_TABLE_VERSION, read_tax_code_rows
from app.core.errors import DeskError
from app.core.taxcodes import TaxCode, codes_from_table
from app.store import audit
from app.store.models import Item, Setting, database
from app.store.models import TaxCode as TaxCodeRow
from app.store.taxcodes import (
    CHUNK,
    VERSION_KEY,
    code_from_row,
    row_fields,
    table_version,
    upsert_codes,
    upsert_rows,
)

if TYPE_CHECKING:  # only a refresh takes a client: the client module is not on every start's path
    from app.platform.client import PlatformClient


@cache
def _shipped_rows() -> tuple[dict[str, Any], ...]:
    """The shipped table as store rows, pinyin included: read and computed once a process (about 0.2 s)."""
    return tuple(row_fields(code) for code in codes_from_table(read_tax_code_rows()))


def _version_key(version: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return None


def _newer(version: str, than: str | None) -> bool:
    """version is newer than `than` (None: no table yet). A version that is not dotted numbers can only
    have come from the platform: it is never replaced by the shipped table, and always differs."""
    if than is None:
        return True
    mine, theirs = _version_key(version), _version_key(than)
    if mine is None or theirs is None:
        return version != than and theirs is not None
    return mine > theirs


def _older(version: str, than: str) -> bool:
    """version is older than `than`; a version that is not dotted numbers is never older (the platform named it)."""
    mine, theirs = _version_key(version), _version_key(than)
    return mine is not None and theirs is not None and mine < theirs


def ensure_shipped_table() -> bool:
    """Load the shipped table when the store has none or an older one; True when it did.

    A table refreshed from the platform is newer than the shipped one and is kept."""
    if not _newer(TAX_CODE_TABLE_VERSION, table_version()):
        return False
    rows = _shipped_rows()
    with database.atomic("IMMEDIATE"):
        if not _newer(TAX_CODE_TABLE_VERSION, table_version()):  # another instance loaded it meanwhile
            return False
        written = upsert_rows(rows)
        Setting.insert(key=VERSION_KEY, value=json.dumps(TAX_CODE_TABLE_VERSION)).on_conflict_replace().execute()
        audit.append("tax_codes_loaded", clerk="", detail={"version": TAX_CODE_TABLE_VERSION, "codes": written,
                                                           "source": "shipped"})
    return True


# --- refreshed from the platform ------------------------------------------------------------------


class OlderTable(DeskError):
    """The platform serves a table older than the store's: the store's is kept."""


@dataclass(frozen=True)
class TaxCodeRefresh:
    """What a refresh did."""

    version: str  # the table in force afterwards
    added: int  # codes new to the store
    changed: int  # codes whose row changed (a withdrawn code is counted in withdrawn only)
    withdrawn: int  # codes the platform withdrew, whether or not the store had them
    items_flagged: list[str] = field(default_factory=list)  # catalog items (not retired) on a withdrawn code
    previous: str | None = None  # the version before


def _same(stored: TaxCode, given: TaxCode) -> bool:
    """The same row, whatever table version it came with."""
    return dataclasses.replace(stored, version="") == dataclasses.replace(given, version="")


def refresh_from_platform(client: PlatformClient, clerk: str = "") -> TaxCodeRefresh:
    """Ask the platform what changed since the store's table and apply it (see the module docstring).

    Raises the client's PlatformError (TransientFailure for a malformed answer, Unauthorized) or
    OlderTable, each with nothing changed."""
    since = table_version()
    update = client.tax_codes(since)
    with database.atomic("IMMEDIATE"):
        previous = table_version()  # the version asked about, unless another desk process refreshed meanwhile
        if previous is not None and _older(update.version, previous):
            raise OlderTable(f"平台的税收分类编码表（{update.version}）比本机的（{previous}）旧，未更新",
                             f"the platform's tax classification table {update.version} is older than "
                             f"this desk's {previous}; kept this desk's")
        if previous == update.version and not update.codes and not update.withdrawn:
            return TaxCodeRefresh(version=update.version, added=0, changed=0, withdrawn=0, previous=previous)
        given = {code.code: code for code in update.codes}
        stored = _stored(list(given) + list(update.withdrawn))
        # Withdrawn: listed so, or sent unusable where the store has it usable.
        withdrawn = set(update.withdrawn) | {c for c, code in given.items()
                                             if not code.usable and c in stored and stored[c].usable}
        writes: list[TaxCode] = []
        added = changed = 0
        for code in update.codes:
            old = stored.get(code.code)
            if code.code in withdrawn:
                if old is not None:  # take its new text too, never its usability
                    writes.append(dataclasses.replace(code, usable=False))
                continue
            if old is None:
                added += 1
                writes.append(code)
            elif not _same(old, code):
                changed += 1
                writes.append(code)
        marked = sorted(withdrawn & set(stored))
        if previous == update.version and not writes and not any(stored[c].usable for c in marked):
            return TaxCodeRefresh(version=update.version, added=0, changed=0, withdrawn=0, previous=previous)
        upsert_codes(writes)
        for start in range(0, len(marked), CHUNK):
            TaxCodeRow.update(usable=False).where(TaxCodeRow.code.in_(marked[start:start + CHUNK])).execute()
        Setting.insert(key=VERSION_KEY, value=json.dumps(update.version)).on_conflict_replace().execute()
        flagged = _items_on(sorted(withdrawn))
        audit.append("tax_codes_refreshed", clerk=clerk, detail={
            "version": update.version, "previous": previous, "source": "platform", "added": added,
            "changed": changed, "withdrawn": len(withdrawn), "items_flagged": len(flagged)})
    return TaxCodeRefresh(version=update.version, added=added, changed=changed, withdrawn=len(withdrawn),
                          items_flagged=flagged, previous=previous)


def _stored(codes: list[str]) -> dict[str, TaxCode]:
    """The store's rows of these codes."""
    found: dict[str, TaxCode] = {}
    for start in range(0, len(codes), CHUNK):
        for row in TaxCodeRow.select().where(TaxCodeRow.code.in_(codes[start:start + CHUNK])):
            found[row.code] = code_from_row(row)
    return found


def _items_on(codes: list[str]) -> list[str]:
    """Names of the catalog items in use (not retired) whose tax code is one of these."""
    names: list[str] = []
    for start in range(0, len(codes), CHUNK):
        query = Item.select(Item.item_name).where(Item.tax_code.in_(codes[start:start + CHUNK])
                                                  & Item.retired_at.is_null())
        names += [item.item_name for item in query]
    return sorted(names)

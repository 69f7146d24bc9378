"""Drafts (草稿, table draft): unfinished invoice forms, read for the form that continues one and for the list of
drafts. Written only by app/services/drafts.py.

A draft's content is JSON: {"format": 1, "body": the form's invoice body as typed (kind, medium, prices mode,
buyer, lines, remarks, clerks), "confirmed_tax_id": bool, "confirmed_short_name": bool}. It is read tolerantly:
a draft whose content cannot be read still lists (and can be deleted); it opens as an empty form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.store.models import Draft

FORMAT = 1


@dataclass(frozen=True)
class DraftSummary:
    """One line of the list of drafts."""

    id: int
    buyer_name: str
    total_with_tax: Decimal
    line_count: int
    created_at: str  # ISO 8601, +08:00
    updated_at: str


@dataclass(frozen=True)
class DraftContent:
    """What a form needs to continue a draft."""

    id: int
    body: dict[str, Any]
    confirmed_tax_id: bool
    confirmed_short_name: bool
    updated_at: str


def encode_content(body: dict[str, Any], confirmed_tax_id: bool = False, confirmed_short_name: bool = False) -> str:
    return json.dumps({"format": FORMAT, "body": body, "confirmed_tax_id": bool(confirmed_tax_id),
                       "confirmed_short_name": bool(confirmed_short_name)}, ensure_ascii=False, sort_keys=True)


def decode_content(text: str) -> tuple[dict[str, Any], bool, bool]:
    """(body, confirmed tax id, confirmed short name); an unreadable content gives an empty body."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}, False, False
    if not isinstance(value, dict):
        return {}, False, False
    body = value.get("body")
    return (body if isinstance(body, dict) else {}, value.get("confirmed_tax_id") is True,
            value.get("confirmed_short_name") is True)


def count_drafts(excluding: frozenset[int] = frozenset()) -> int:
    """How many drafts there are, those in `excluding` (open in a form already) left out."""
    query = Draft.select()
    if excluding:
        query = query.where(Draft.id.not_in(sorted(excluding)))
    return query.count()


def list_drafts(limit: int = 500) -> list[DraftSummary]:
    """The drafts, the one saved last first."""
    rows = Draft.select(Draft.id, Draft.buyer_name, Draft.total_with_tax, Draft.line_count, Draft.created_at,
                        Draft.updated_at).order_by(Draft.updated_at.desc(), Draft.id.desc()).limit(limit)
    return [DraftSummary(row.id, row.buyer_name, row.total_with_tax, row.line_count, row.created_at, row.updated_at)
            for row in rows]


def get_draft(draft_id: int) -> DraftContent | None:
    row = Draft.get_or_none(Draft.id == draft_id)
    if row is None:
        return None
    body, confirmed_tax_id, confirmed_short_name = decode_content(row.content)
    return DraftContent(row.id, body, confirmed_tax_id, confirmed_short_name, row.updated_at)


def draft_exists(draft_id: int) -> bool:
    return Draft.select().where(Draft.id == draft_id).exists()

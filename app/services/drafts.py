"""Drafts (草稿): what an unfinished invoice form holds, kept in the store so a closed window or a crash loses
nothing, and offered again. Every write to the draft table comes through here, each in its own transaction.

A draft is not an invoice: it takes no number (NumberCounter, number blocks), draws no quota and writes no audit
entry (the history check has nothing to hold it against; it is the clerk's scratch paper). The invoice issued
from a draft deletes it in the issuing transaction (take_for_issue, called by app.services.issuing), so a crash
can never leave behind a draft of an invoice already issued.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.core.clock import now_iso
from app.core.errors import DeskError
from app.core.money import ZERO
from app.store.drafts import encode_content
from app.store.models import Draft, database


class DraftGone(DeskError):
    """The draft is no longer in the store: issued or deleted from another window or another desk on this store."""


def _gone(draft_id: int) -> DraftGone:
    return DraftGone(f"草稿 {draft_id} 已不在数据库中：可能已在另一窗口或另一台开票台上开具或删除",
                     f"draft {draft_id} is no longer in the store: it may have been issued or deleted in another "
                     "window or on another desk")


def _listed(body: dict[str, Any]) -> dict[str, Any]:
    """What the list of drafts shows, kept beside the content."""
    buyer = body.get("buyer")
    name = buyer.get("name") if isinstance(buyer, dict) else None
    lines = body.get("lines")
    return {"buyer_name": name.strip() if isinstance(name, str) else "",
            "line_count": len(lines) if isinstance(lines, list) else 0}


def save_draft(body: dict[str, Any], *, total_with_tax: Decimal = ZERO, confirmed_tax_id: bool = False,
               confirmed_short_name: bool = False) -> int:
    """A new draft holding `body` (the form's invoice body as typed); its id."""
    stamp = now_iso()
    with database.atomic("IMMEDIATE"):
        row = Draft.create(content=encode_content(body, confirmed_tax_id, confirmed_short_name),
                           total_with_tax=total_with_tax, created_at=stamp, updated_at=stamp, **_listed(body))
    return int(row.id)


def replace_draft(draft_id: int, body: dict[str, Any], *, total_with_tax: Decimal = ZERO,
                  confirmed_tax_id: bool = False, confirmed_short_name: bool = False) -> None:
    """The draft now holds `body`. Raises DraftGone when it was issued or deleted meanwhile: it is not made
    again, or the invoice issued from it elsewhere could be issued a second time from here."""
    with database.atomic("IMMEDIATE"):
        changed = Draft.update(content=encode_content(body, confirmed_tax_id, confirmed_short_name),
                               total_with_tax=total_with_tax, updated_at=now_iso(),
                               **_listed(body)).where(Draft.id == draft_id).execute()
    if not changed:
        raise _gone(draft_id)


def discard_draft(draft_id: int) -> bool:
    """放弃 / 删除: the draft goes; False when it was gone already."""
    with database.atomic("IMMEDIATE"):
        return bool(Draft.delete().where(Draft.id == draft_id).execute())


def take_for_issue(draft_id: int) -> None:
    """Inside the issuing transaction (app.services.issuing): the draft goes with the invoice made from it, both
    or neither. A draft gone already was issued or deleted elsewhere: raising DraftGone rolls the issue back,
    so one draft never makes two invoices."""
    assert database.in_transaction(), "take_for_issue runs inside the issuing transaction"
    if not Draft.delete().where(Draft.id == draft_id).execute():
        raise _gone(draft_id)

"""The item catalog (项目信息): create, edit, retire, restore and delete items.

One path for the form, the command line, imports and the tests. Each use case checks everything
first (app.core.catalog_rules, against the table in force and the seller's taxpayer type), then
writes in one IMMEDIATE transaction with its audit entry; a bad input stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.base.pinyin import initials
from app.core.catalog_rules import ItemFields, check_item
from app.core.clock import now_iso
from app.core.errors import FieldError, ValidationFailed
from app.core.money import format_plain
from app.core.taxcodes import TaxCodeTable
from app.services.seller import get_seller
from app.store import audit
from app.store.catalog_queries import ItemEntry, get_item
from app.store.models import InvoiceLine, Item, database
from app.store.taxcodes import StoredTaxCodes

# The fields an item is typed with (the keys of `fields`).
ITEM_KEYS = ("item_name", "tax_code", "spec", "unit", "unit_price", "price_includes_tax", "tax_rate", "policy")


def taxpayer_type() -> str:
    """The seller's taxpayer type (general before a profile is set): the rates an item may carry."""
    seller = get_seller()
    return seller.taxpayer_type if seller is not None else "general"


def _no_item(item_id: int) -> ValidationFailed:
    return ValidationFailed([FieldError("item", f"项目库中没有编号为{item_id}的项目",
                                        f"the item catalog has no item {item_id}")])


def _row(item_id: int) -> Item:
    row: Item | None = Item.get_or_none(Item.id == item_id)
    if row is None:
        raise _no_item(item_id)
    return row


def _entry(item_id: int) -> ItemEntry:
    entry = get_item(item_id)
    if entry is None:
        raise _no_item(item_id)
    return entry


def item_as_typed(row: Item) -> dict[str, Any]:
    """An item of the store as the form would show it, to check again with some fields changed."""
    return {"item_name": row.item_name, "tax_code": row.tax_code, "spec": row.spec, "unit": row.unit,
            "unit_price": format_plain(row.unit_price) if row.unit_price is not None else "",
            "price_includes_tax": bool(row.price_includes_tax), "tax_rate": row.tax_rate, "policy": row.policy or ""}


def edited(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The item as typed after changes: a new tax code brings its own rate and policy unless they are given."""
    merged = {**current, **{k: v for k, v in changes.items() if k in ITEM_KEYS}}
    new_code = str(changes.get("tax_code") or "").strip()
    if "tax_code" in changes and new_code != str(current.get("tax_code") or ""):
        for key in ("tax_rate", "policy"):
            if key not in changes:
                merged[key] = ""
    return merged


def item_row_fields(item: ItemFields) -> dict[str, Any]:
    """The columns of an Item row that a checked item sets (not its counters or times)."""
    return {"item_name": item.item_name, "tax_code": item.tax_code, "spec": item.spec, "unit": item.unit,
            "unit_price": item.unit_price, "price_includes_tax": item.price_includes_tax, "tax_rate": item.tax_rate,
            "policy": item.policy, "initials": initials(item.item_name)}


def _detail(item: ItemFields) -> dict[str, Any]:
    fields = item_row_fields(item)
    fields.pop("initials")
    fields["unit_price"] = format_plain(item.unit_price) if item.unit_price is not None else None
    return fields


def _row_detail(row: Item) -> dict[str, Any]:
    return {"item_name": row.item_name, "tax_code": row.tax_code, "spec": row.spec, "unit": row.unit,
            "unit_price": format_plain(row.unit_price) if row.unit_price is not None else None,
            "price_includes_tax": bool(row.price_includes_tax), "tax_rate": row.tax_rate, "policy": row.policy}


def check(fields: Mapping[str, Any], codes: TaxCodeTable | None = None) -> ItemFields:
    """The item as typed, checked (raises ValidationFailed naming each field); nothing is stored."""
    item, errors = check_item(fields, codes or StoredTaxCodes(), taxpayer_type())
    if item is None:
        raise ValidationFailed(errors)
    return item


def _refuse_duplicate(item: ItemFields, except_id: int | None = None) -> None:
    query = Item.select(Item.id).where((Item.item_name == item.item_name) & (Item.spec == item.spec))
    if except_id is not None:
        query = query.where(Item.id != except_id)
    other = query.first()
    if other is not None:
        spec = f"、规格型号“{item.spec}”" if item.spec else ""
        raise ValidationFailed([FieldError(
            "item_name", f"项目库中已有“{item.item_name}”{spec}的项目（编号{other.id}）",
            f"the catalog already has {item.item_name!r}" + (f" {item.spec!r}" if item.spec else "")
            + f" (item {other.id})")])


def create_item(fields: Mapping[str, Any], clerk: str = "") -> ItemEntry:
    """A new item from the fields as typed (ITEM_KEYS); raises ValidationFailed naming each bad field."""
    item = check(fields)
    stamp = now_iso()
    with database.atomic("IMMEDIATE"):
        _refuse_duplicate(item)
        row = Item.create(**item_row_fields(item), created_at=stamp, updated_at=stamp)
        audit.append("item_created", clerk=clerk, detail={"item_id": row.id, **_detail(item)})
    return _entry(row.id)


def edit_item(item_id: int, fields: Mapping[str, Any], clerk: str = "") -> ItemEntry:
    """Change the fields given (the others stay); the item is checked whole, as a new one would be.

    Invoices already issued keep their own copy of the line: they are history and do not change."""
    with database.atomic("IMMEDIATE"):
        row = _row(item_id)
        before = item_as_typed(row)
        item = check(edited(before, fields))
        _refuse_duplicate(item, except_id=item_id)
        was, after = _row_detail(row), _detail(item)
        changes = {key: [was[key], value] for key, value in after.items() if was[key] != value}
        Item.update(**item_row_fields(item), updated_at=now_iso()).where(Item.id == item_id).execute()
        audit.append("item_edited", clerk=clerk, detail={"item_id": item_id, "changes": changes})
    return _entry(item_id)


def retire_item(item_id: int, clerk: str = "") -> ItemEntry:
    """Out of completion and the catalog list, kept for the invoices that used it (restore_item undoes it)."""
    with database.atomic("IMMEDIATE"):
        row = _row(item_id)
        if row.retired_at is None:
            stamp = now_iso()
            Item.update(retired_at=stamp, updated_at=stamp).where(Item.id == item_id).execute()
            audit.append("item_retired", clerk=clerk, detail={"item_id": item_id, "item_name": row.item_name,
                                                               "spec": row.spec})
    return _entry(item_id)


def restore_item(item_id: int, clerk: str = "") -> ItemEntry:
    """A retired item back in the catalog (an item whose code was withdrawn since stays flagged)."""
    with database.atomic("IMMEDIATE"):
        row = _row(item_id)
        if row.retired_at is not None:
            Item.update(retired_at=None, updated_at=now_iso()).where(Item.id == item_id).execute()
            audit.append("item_restored", clerk=clerk, detail={"item_id": item_id, "item_name": row.item_name,
                                                                "spec": row.spec})
    return _entry(item_id)


def delete_item(item_id: int, clerk: str = "") -> None:
    """Remove an item no invoice line used; one that was used is refused: retire it instead."""
    with database.atomic("IMMEDIATE"):
        row = _row(item_id)
        used = (InvoiceLine.select(InvoiceLine.invoice).where(InvoiceLine.item == item_id).distinct().count())
        if used:
            raise ValidationFailed([FieldError(
                "item", f"项目“{row.item_name}”已用于{used}张发票，不能删除：请改为停用（items retire {item_id}）",
                f"item {row.item_name!r} is on {used} invoice(s) and cannot be deleted: retire it instead "
                f"(items retire {item_id})")])
        Item.delete().where(Item.id == item_id).execute()
        audit.append("item_deleted", clerk=clerk, detail={"item_id": item_id, "item_name": row.item_name,
                                                           "spec": row.spec, "tax_code": row.tax_code})

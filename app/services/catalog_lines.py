"""Lines given by a catalog item (`{"item": 12, "quantity": "3"}` or `{"item": "软件开发"}`), filled from it.

The item brings its tax code, name, spec, unit, unit price, rate and policy; what the line gives
itself wins. An item's price is converted when it was entered the other way (with or without tax)
than the invoice's prices are.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.core.errors import FieldError, ValidationFailed
from app.core.money import PRICE_PLACES, format_plain, to_places
from app.core.tax import find_rate
from app.store.models import Item


def _find_item(ref: Any) -> Item | None:
    if isinstance(ref, int) and not isinstance(ref, bool):
        return Item.get_or_none(Item.id == ref)
    if isinstance(ref, str) and ref.strip():
        text = ref.strip()
        if text.isdigit():
            return Item.get_or_none(Item.id == int(text))
        found: Item | None = (Item.select().where((Item.item_name == text) & Item.retired_at.is_null())
                              .order_by(Item.use_count.desc(), Item.id).first())
        return found
    return None


def _price_for(item: Item, gross_wanted: bool) -> Decimal | None:
    price = item.unit_price
    if price is None or item.price_includes_tax == gross_wanted:
        return price
    rate = find_rate(item.tax_rate)
    factor = 1 + (rate.rate if rate else Decimal(0))
    return to_places(price * factor if gross_wanted else price / factor, PRICE_PLACES)


def expand_catalog_lines(body: Any) -> Any:
    """The body with every `item` line filled from the catalog; raises ValidationFailed for an unknown item."""
    if not isinstance(body, dict) or not isinstance(body.get("lines"), list):
        return body
    gross = body.get("prices_include_tax") is True
    errors: list[FieldError] = []
    lines: list[Any] = []
    for index, line in enumerate(body["lines"]):
        if not isinstance(line, dict) or line.get("item") in (None, ""):
            lines.append(line)
            continue
        item = _find_item(line["item"])
        if item is None:
            errors.append(FieldError(f"lines[{index}].item", f"项目库中没有“{line['item']}”",
                                     f"the item catalog has no {line['item']!r}"))
            lines.append(line)
            continue
        if item.retired_at is not None:
            errors.append(FieldError(f"lines[{index}].item", f"项目“{item.item_name}”已停用",
                                     f"item {item.item_name!r} is retired"))
        filled: dict[str, Any] = {"tax_code": item.tax_code, "item_name": item.item_name, "spec": item.spec,
                                  "unit": item.unit, "tax_rate": item.tax_rate, "policy": item.policy,
                                  "item_id": item.id}
        price = _price_for(item, gross)
        if price is not None and line.get("amount") in (None, ""):
            filled["unit_price"] = format_plain(price)
        given = {k: v for k, v in line.items() if k != "item" and v not in (None, "")}
        lines.append({**filled, **given})
    if errors:
        raise ValidationFailed(errors)
    return {**body, "lines": lines}

"""Reading the item catalog (项目信息) and the customer book (客户信息): lists, completion as a clerk types,
and rows streamed for export. Read models only (frozen dataclasses), never peewee rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import peewee

from app.core.taxcodes import SUMMARY_CODES_ALLOWED, assembled_name
from app.store.models import Buyer, Item, TaxCode


@dataclass(frozen=True)
class ItemEntry:
    """One item of the catalog, with what its code gives it: the short name and the printed name."""

    id: int
    item_name: str
    tax_code: str
    short_name: str  # of the code in the table in force; "" when the table does not know the code
    printed_name: str  # *简称*项目名称 ("" with the short name)
    spec: str
    unit: str
    unit_price: Decimal | None
    price_includes_tax: bool
    tax_rate: str  # a rate code of app.core.tax
    policy: str | None
    retired: bool
    code_usable: bool  # False when the code was withdrawn (or is not a leaf): the list flags the item
    use_count: int


@dataclass(frozen=True)
class CustomerEntry:
    """One customer of the book, every field of it."""

    id: int
    name: str
    tax_id: str
    address: str
    phone: str
    bank: str
    account: str
    natural_person: bool
    id_type: str
    id_number: str
    email: str
    initials: str
    tax_id_confirmed: bool
    short_name_confirmed: bool
    use_count: int
    last_used_at: str
    updated_at: str


def _item_query() -> peewee.ModelSelect[Any]:
    return (Item.select(Item, TaxCode.short_name.alias("code_short_name"), TaxCode.usable.alias("code_in_force"),
                        TaxCode.summary.alias("code_summary"))
            .join(TaxCode, peewee.JOIN.LEFT_OUTER, on=(TaxCode.code == Item.tax_code)))


def _item_entry(row: Any) -> ItemEntry:
    short = row.code_short_name or ""
    usable = bool(row.code_in_force) and (not row.code_summary or row.tax_code in SUMMARY_CODES_ALLOWED)
    return ItemEntry(id=row.id, item_name=row.item_name, tax_code=row.tax_code, short_name=short,
                     printed_name=assembled_name(short, row.item_name) if short else "", spec=row.spec,
                     unit=row.unit, unit_price=row.unit_price, price_includes_tax=bool(row.price_includes_tax),
                     tax_rate=row.tax_rate, policy=row.policy, retired=row.retired_at is not None,
                     code_usable=usable, use_count=row.use_count)


def get_item(item_id: int) -> ItemEntry | None:
    row = _item_query().where(Item.id == item_id).objects().first()
    return None if row is None else _item_entry(row)


def list_items(include_retired: bool = False) -> list[ItemEntry]:
    """The catalog in pinyin order, retired items only when asked for."""
    query = _item_query()
    if not include_retired:
        query = query.where(Item.retired_at.is_null())
    return [_item_entry(row) for row in query.order_by(Item.initials, Item.item_name, Item.spec).objects()]


def iter_items(include_retired: bool = False) -> Iterator[ItemEntry]:
    """The catalog in entry order, one row at a time (for export: the table is never held whole).
    Call it inside a transaction to read one state of the catalog."""
    query = _item_query()
    if not include_retired:
        query = query.where(Item.retired_at.is_null())
    for row in query.order_by(Item.id).objects().iterator():
        yield _item_entry(row)


def complete_items(text: str, limit: int = 20) -> list[ItemEntry]:
    """Items for what a clerk types: any part of the item name, the start of the tax code, or pinyin
    initials (rjkf for 软件开发); most used first; never a retired item."""
    typed = text.strip()
    query = _item_query().where(Item.retired_at.is_null())
    if typed:
        match = Item.item_name.contains(typed) | Item.initials.contains(typed.lower())
        if typed.isdigit():
            match = match | Item.tax_code.startswith(typed)
        query = query.where(match)
    return [_item_entry(row) for row in query.order_by(Item.use_count.desc(), Item.item_name, Item.spec)
            .limit(limit).objects()]


def _customer_entry(row: Buyer) -> CustomerEntry:
    return CustomerEntry(id=row.id, name=row.name, tax_id=row.tax_id, address=row.address, phone=row.phone,
                         bank=row.bank, account=row.account, natural_person=bool(row.natural_person),
                         id_type=row.id_type, id_number=row.id_number, email=row.email, initials=row.initials,
                         tax_id_confirmed=bool(row.tax_id_confirmed),
                         short_name_confirmed=bool(row.short_name_confirmed), use_count=row.use_count,
                         last_used_at=row.last_used_at, updated_at=row.updated_at)


def get_customer(customer_id: int) -> CustomerEntry | None:
    row = Buyer.get_or_none(Buyer.id == customer_id)
    return None if row is None else _customer_entry(row)


def list_customers() -> list[CustomerEntry]:
    """The customer book in pinyin order."""
    return [_customer_entry(row) for row in Buyer.select().order_by(Buyer.initials, Buyer.name, Buyer.tax_id)]


def iter_customers() -> Iterator[CustomerEntry]:
    """The customer book in entry order, one row at a time (for export); inside a transaction."""
    for row in Buyer.select().order_by(Buyer.id).iterator():
        yield _customer_entry(row)


def complete_customers(text: str, limit: int = 20) -> list[CustomerEntry]:
    """Customers for what a clerk types: any part of the name, the start of the tax id, or pinyin initials;
    most used first, then most recently used."""
    typed = text.strip()
    query = Buyer.select()
    if typed:
        query = query.where(Buyer.name.contains(typed) | Buyer.tax_id.startswith(typed.upper())
                            | Buyer.initials.contains(typed.lower()))
    return [_customer_entry(row) for row in query.order_by(Buyer.use_count.desc(), Buyer.last_used_at.desc(),
                                                           Buyer.id).limit(limit)]

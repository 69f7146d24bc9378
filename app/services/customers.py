"""The customer book (客户信息): create and edit customers, merge duplicates.

Issuing fills the book too (app.services.issuing.remember_buyer); here the clerk keeps it. Each use
case checks everything first (app.core.catalog_rules), then writes in one IMMEDIATE transaction with
its audit entry; a bad input stores nothing. An invoice's own buyer fields are never changed here:
they are history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.base.pinyin import initials
from app.core.catalog_rules import CustomerFields, check_customer
from app.core.clock import now_iso
from app.core.errors import FieldError, ValidationFailed
from app.store import audit
from app.store.catalog_queries import CustomerEntry, get_customer
from app.store.models import Buyer, database
from app.store.models import Invoice as InvoiceRow

# The fields a customer is typed with (the keys of `fields`). tax_id_confirmed: the clerk confirms now
# that a tax id failing its check character is real; remembered, never asked again for it.
CUSTOMER_KEYS = ("name", "tax_id", "natural_person", "id_type", "id_number", "address", "phone", "bank", "account",
                 "email", "tax_id_confirmed", "short_name_confirmed")


def _no_customer(customer_id: int) -> ValidationFailed:
    return ValidationFailed([FieldError("customer", f"客户信息中没有编号为{customer_id}的客户",
                                        f"the customer book has no customer {customer_id}")])


def _row(customer_id: int) -> Buyer:
    row: Buyer | None = Buyer.get_or_none(Buyer.id == customer_id)
    if row is None:
        raise _no_customer(customer_id)
    return row


def _entry(customer_id: int) -> CustomerEntry:
    entry = get_customer(customer_id)
    if entry is None:
        raise _no_customer(customer_id)
    return entry


def customer_as_typed(row: Buyer) -> dict[str, Any]:
    """A customer of the store as the form shows it (without its confirmation of the tax id: that is
    remembered for its own tax id only, see remembered_confirmations)."""
    return {"name": row.name, "tax_id": row.tax_id, "natural_person": bool(row.natural_person),
            "id_type": row.id_type, "id_number": row.id_number, "address": row.address, "phone": row.phone,
            "bank": row.bank, "account": row.account, "email": row.email,
            "short_name_confirmed": bool(row.short_name_confirmed)}


def remembered_confirmations(row: Buyer | None) -> list[str]:
    return [row.tax_id] if row is not None and row.tax_id_confirmed and row.tax_id else []


def customer_edited(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The customer as typed after changes; a new name drops the short-name confirmation unless given."""
    merged = {**current, **{k: v for k, v in changes.items() if k in CUSTOMER_KEYS}}
    if "name" in changes and "short_name_confirmed" not in changes and changes["name"] != current.get("name"):
        merged["short_name_confirmed"] = False
    return merged


def customer_row_fields(customer: CustomerFields) -> dict[str, Any]:
    """The columns of a Buyer row a checked customer sets (not its counters)."""
    return {"name": customer.name, "tax_id": customer.tax_id, "natural_person": customer.natural_person,
            "id_type": customer.id_type, "id_number": customer.id_number, "address": customer.address,
            "phone": customer.phone, "bank": customer.bank, "account": customer.account, "email": customer.email,
            "tax_id_confirmed": customer.tax_id_confirmed, "short_name_confirmed": customer.short_name_confirmed,
            "initials": initials(customer.name)}


def _detail(customer: CustomerFields) -> dict[str, Any]:
    fields = customer_row_fields(customer)
    fields.pop("initials")
    return fields


def check(fields: Mapping[str, Any], confirmed_tax_ids: Iterable[str] = ()) -> CustomerFields:
    """The customer as typed, checked (raises ValidationFailed naming each field); nothing is stored."""
    customer, errors = check_customer(fields, confirmed_tax_ids)
    if customer is None:
        raise ValidationFailed(errors)
    return customer


def _refuse_duplicate(customer: CustomerFields, except_id: int | None = None) -> None:
    query = Buyer.select(Buyer.id).where((Buyer.name == customer.name) & (Buyer.tax_id == customer.tax_id))
    if except_id is not None:
        query = query.where(Buyer.id != except_id)
    other = query.first()
    if other is not None:
        hint = f"：可合并（customers merge {other.id} {except_id}）" if except_id is not None else ""
        hint_en = f": merge them (customers merge {other.id} {except_id})" if except_id is not None else ""
        raise ValidationFailed([FieldError(
            "customer.name", f"客户信息中已有同名同税号的客户（编号{other.id}）{hint}",
            f"the customer book already has this name and tax id (customer {other.id}){hint_en}")])


def create_customer(fields: Mapping[str, Any], clerk: str = "") -> CustomerEntry:
    """A new customer from the fields as typed (CUSTOMER_KEYS); raises ValidationFailed naming each bad field."""
    customer = check(fields)
    stamp = now_iso()
    with database.atomic("IMMEDIATE"):
        _refuse_duplicate(customer)
        row = Buyer.create(**customer_row_fields(customer), use_count=0, last_used_at="", updated_at=stamp)
        audit.append("customer_created", clerk=clerk, detail={"customer_id": row.id, **_detail(customer)})
    return _entry(row.id)


def _stored(row: Buyer) -> CustomerFields:
    """The row's fields as they are stored (for what an edit changed)."""
    return CustomerFields(name=row.name, tax_id=row.tax_id, natural_person=bool(row.natural_person),
                          id_type=row.id_type, id_number=row.id_number, address=row.address, phone=row.phone,
                          bank=row.bank, account=row.account, email=row.email,
                          tax_id_confirmed=bool(row.tax_id_confirmed),
                          short_name_confirmed=bool(row.short_name_confirmed))


def edit_customer(customer_id: int, fields: Mapping[str, Any], clerk: str = "") -> CustomerEntry:
    """Change the fields given (the others stay); the customer is checked whole.

    Invoices issued to it keep the buyer fields they were issued with."""
    with database.atomic("IMMEDIATE"):
        row = _row(customer_id)
        before = customer_row_fields(_stored(row))
        customer = check(customer_edited(customer_as_typed(row), fields), remembered_confirmations(row))
        _refuse_duplicate(customer, except_id=customer_id)
        after = customer_row_fields(customer)
        changes = {key: [before[key], value] for key, value in after.items() if key != "initials"
                   and before[key] != value}
        Buyer.update(**after, updated_at=now_iso()).where(Buyer.id == customer_id).execute()
        audit.append("customer_edited", clerk=clerk, detail={"customer_id": customer_id, "changes": changes})
    return _entry(customer_id)


def merge_customers(keep_id: int, merge_ids: Iterable[int], clerk: str = "") -> CustomerEntry:
    """Merge duplicates into the one kept: their invoices point to it, their use counts add to its own,
    and they are deleted. The kept customer's fields stay as they are; invoices' buyer fields never change."""
    merged_ids = list(dict.fromkeys(merge_ids))
    errors: list[FieldError] = []
    if not merged_ids:
        errors.append(FieldError("merge", "请给出要合并进来的客户编号", "give the customers to merge into it"))
    if keep_id in merged_ids:
        errors.append(FieldError("merge", f"保留的客户（编号{keep_id}）不能同时被合并",
                                 f"the customer kept ({keep_id}) cannot also be merged"))
    if errors:
        raise ValidationFailed(errors)
    with database.atomic("IMMEDIATE"):
        keep = _row(keep_id)
        rows = {row.id: row for row in Buyer.select().where(Buyer.id.in_(merged_ids))}
        missing = [i for i in merged_ids if i not in rows]
        if missing:
            raise ValidationFailed([FieldError("merge", f"客户信息中没有编号为{i}的客户",
                                               f"the customer book has no customer {i}") for i in missing])
        merged = [rows[i] for i in merged_ids]
        repointed = InvoiceRow.update(buyer=keep_id).where(InvoiceRow.buyer.in_(merged_ids)).execute()
        last_used = max([keep.last_used_at, *(row.last_used_at for row in merged)])
        same_id = [row for row in merged if row.tax_id == keep.tax_id]
        same_name = [row for row in merged if row.name == keep.name]
        Buyer.update(use_count=keep.use_count + sum(row.use_count for row in merged), last_used_at=last_used,
                     tax_id_confirmed=keep.tax_id_confirmed or any(row.tax_id_confirmed for row in same_id),
                     short_name_confirmed=keep.short_name_confirmed or any(r.short_name_confirmed for r in same_name),
                     updated_at=now_iso()).where(Buyer.id == keep_id).execute()
        Buyer.delete().where(Buyer.id.in_(merged_ids)).execute()
        audit.append("customers_merged", clerk=clerk, detail={
            "kept": {"id": keep.id, "name": keep.name, "tax_id": keep.tax_id},
            "merged": [{"id": row.id, "name": row.name, "tax_id": row.tax_id, "use_count": row.use_count}
                       for row in merged],
            "invoices_repointed": repointed})
    return _entry(keep_id)


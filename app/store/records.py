"""Between the domain's Invoice and the store's rows."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import peewee

from app.core.codec import invoice_to_body
from app.core.invoice import Invoice, InvoiceKind, Line, LineNature, Medium, Party, Rules
from app.store import models
from app.store.audit import canonical_json

# INSERT statements built once per table and set of columns (insert_row, insert_rows), with the fields
# whose db_value converts each value: what peewee would build for Model.insert each time, built once.
_InsertPlan = tuple[str, tuple[peewee.Field, ...]]
_INSERTS: dict[tuple[type[peewee.Model], tuple[str, ...]], _InsertPlan] = {}


def content_hash(invoice: Invoice) -> str:
    """sha256 of the protocol body: what the paper, the platform and the store must agree on."""
    return body_hash(invoice_to_body(invoice))


def body_hash(body: dict[str, Any]) -> str:
    """sha256 of a protocol body as given (JSON values): content_hash of the invoice it is the body of."""
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _form_number(form_uuid: str | None, db: peewee.Database | None = None) -> str | None:
    """The red-letter form's number, read from `db` (None: the store): a check of a backup reads the backup's."""
    if not form_uuid:
        return None
    query = models.RedLetterForm.select(models.RedLetterForm.form_number).where(models.RedLetterForm.uuid == form_uuid)
    form = (query.bind(db) if db is not None else query).first()
    return form.form_number if form is not None and form.form_number else None


def invoice_from_row(row: models.Invoice, lines: list[models.InvoiceLine] | None = None,
                     db: peewee.Database | None = None) -> Invoice:
    """The domain's invoice of a row and its lines; db: the database they were read from (None: the store)."""
    if lines is None:
        lines = list(row.lines.order_by(models.InvoiceLine.position))
    return Invoice(
        rules=Rules(row.rules),
        medium=Medium(row.medium),
        kind=InvoiceKind(row.kind),
        number=row.provisional_number,
        issued_at=datetime.fromisoformat(row.issued_at),
        offline=row.offline,
        seller=Party(row.seller_name, row.seller_tax_id, row.seller_address, row.seller_phone, row.seller_bank,
                     row.seller_account),
        buyer=Party(row.buyer_name, row.buyer_tax_id, row.buyer_address, row.buyer_phone, row.buyer_bank,
                    row.buyer_account, natural_person=row.buyer_natural_person, id_type=row.buyer_id_type,
                    id_number=row.buyer_id_number),
        lines=tuple(
            Line(name=line.name, spec=line.spec, unit=line.unit, quantity=line.quantity, unit_price=line.unit_price,
                 tax_rate=line.tax_rate, amount=line.amount, tax=line.tax, nature=LineNature(line.nature),
                 tax_code=line.tax_code, short_name=line.short_name, item_name=line.item_name, policy=line.policy,
                 original_line_no=line.original_line_no, item_id=line.item_id)
            for line in lines
        ),
        remarks=row.remarks,
        payee=row.payee,
        reviewer=row.reviewer,
        drawer=row.drawer,
        original_number=row.original_number,
        prices_include_tax=row.prices_include_tax,
        confirmed_tax_ids=frozenset(row.confirmed_tax_ids.split()),
        drawer_id_type=row.drawer_id_type,
        drawer_id_number=row.drawer_id_number,
        show_seller_bank=row.show_seller_bank,
        show_buyer_bank=row.show_buyer_bank,
        red_form_uuid=row.red_form_uuid,
        red_form_number=_form_number(row.red_form_uuid, db),
        red_reason=row.red_reason_code,
        confirmed_short_name=row.confirmed_short_name,
    )


def invoice_row_fields(invoice: Invoice) -> dict[str, Any]:
    """The invoice row's columns that come from the invoice itself (status, buyer and numbers from the
    platform are the caller's), by field name, for Invoice.create or insert_many."""
    assert invoice.issued_at is not None
    return {
        "provisional_number": invoice.number,
        "rules": invoice.rules.value,
        "medium": invoice.medium.value,
        "kind": invoice.kind.value,
        "issued_at": invoice.issued_at.isoformat(),
        "issued_date": invoice.issued_at.date().isoformat(),
        "offline": invoice.offline,
        "seller_name": invoice.seller.name,
        "seller_tax_id": invoice.seller.tax_id,
        "seller_address": invoice.seller.address,
        "seller_phone": invoice.seller.phone,
        "seller_bank": invoice.seller.bank,
        "seller_account": invoice.seller.account,
        "buyer_name": invoice.buyer.name,
        "buyer_tax_id": invoice.buyer.tax_id,
        "buyer_address": invoice.buyer.address,
        "buyer_phone": invoice.buyer.phone,
        "buyer_bank": invoice.buyer.bank,
        "buyer_account": invoice.buyer.account,
        "buyer_natural_person": invoice.buyer.natural_person,
        "buyer_id_type": invoice.buyer.id_type,
        "buyer_id_number": invoice.buyer.id_number,
        "total_amount": invoice.total_amount,
        "total_tax": invoice.total_tax,
        "total_with_tax": invoice.total_with_tax,
        "prices_include_tax": invoice.prices_include_tax,
        "remarks": invoice.remarks,
        "payee": invoice.payee,
        "reviewer": invoice.reviewer,
        "drawer": invoice.drawer,
        "drawer_id_type": invoice.drawer_id_type,
        "drawer_id_number": invoice.drawer_id_number,
        "show_seller_bank": invoice.show_seller_bank,
        "show_buyer_bank": invoice.show_buyer_bank,
        "original_number": invoice.original_number,
        "red_form_uuid": invoice.red_form_uuid,
        "red_reason_code": invoice.red_reason,
        "confirmed_tax_ids": " ".join(sorted(invoice.confirmed_tax_ids)),
        "confirmed_short_name": invoice.confirmed_short_name,
        "content_hash": content_hash(invoice),
    }


def line_rows(invoice_id: int, invoice: Invoice) -> list[dict[str, Any]]:
    """The invoice's lines as InvoiceLine rows of the stored invoice invoice_id, for insert_many."""
    return [{"invoice": invoice_id, "position": position, "name": line.name, "spec": line.spec, "unit": line.unit,
             "quantity": line.quantity, "unit_price": line.unit_price, "tax_rate": line.tax_rate,
             "amount": line.amount, "tax": line.tax, "discount": line.discount, "nature": line.nature.value,
             "tax_code": line.tax_code, "short_name": line.short_name, "item_name": line.item_name,
             "policy": line.policy, "original_line_no": line.original_line_no, "item": line.item_id}
            for position, line in enumerate(invoice.lines)]


def _with_defaults(model: type[peewee.Model], fields: dict[str, Any]) -> dict[str, Any]:
    """The row as Model.create / Model.insert write it: the model's defaults for the fields not given."""
    meta = model._meta
    if not meta.defaults:
        return fields
    return {**meta.get_default_dict(), **fields}


def _insert_plan(model: type[peewee.Model], names: tuple[str, ...]) -> _InsertPlan:
    key = (model, names)
    plan = _INSERTS.get(key)
    if plan is None:
        meta = model._meta
        columns = tuple(meta.fields[name] for name in names)
        column_list = ", ".join(f'"{column.column_name}"' for column in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{meta.table_name}" ({column_list}) VALUES ({marks})'
        plan = _INSERTS[key] = (sql, columns)
    return plan


def insert_row(model: type[peewee.Model], fields: dict[str, Any]) -> int:
    """INSERT one row, by field name, exactly as Model.create(**fields) writes it (the model's defaults for
    the fields not given, each value through its field's db_value), from SQL built once. Returns its id."""
    row = _with_defaults(model, fields)
    sql, columns = _insert_plan(model, tuple(row))
    values = [column.db_value(value) for column, value in zip(columns, row.values(), strict=True)]
    cursor = model._meta.database.execute_sql(sql, values)
    return int(cursor.lastrowid)


def insert_rows(model: type[peewee.Model], rows: Sequence[dict[str, Any]]) -> None:
    """Rows (an invoice's lines), each as insert_row writes it, in their order."""
    for row in rows:
        insert_row(model, row)

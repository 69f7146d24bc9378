"""The customer book on a real store: its rules, edits, merges, confirmations remembered, completion."""

from __future__ import annotations

import json

import pytest

from app.core.errors import ValidationFailed
from app.services.customers import create_customer, edit_customer, merge_customers
from app.services.issuing import issue_invoice
from app.store.catalog_queries import complete_customers, get_customer, list_customers
from app.store.models import AuditEntry, Buyer, Invoice
from tests.catalogs.helpers import counts
from tests.helpers.bodies import BUYER_TAX_ID, invoice_body

# A unified social credit code whose check character fails (it should be 3): real ones like it exist.
FAILING_TAX_ID = "91110105MA01ABCD10"


def fields_of(failed: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.field for e in failed.value.errors]


def test_a_customer_is_kept_with_its_initials(store):
    entry = create_customer({"name": "北京客户贸易有限公司", "tax_id": " 9111 0000 6000 37341l ",
                             "address": "北京市朝阳区建国路88号", "phone": "010-85551234", "email": "cw@example.cn"},
                            clerk="张三")
    assert entry.tax_id == BUYER_TAX_ID and entry.use_count == 0 and not entry.tax_id_confirmed
    assert "bjkhmyyxgs" in entry.initials.split()
    last = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
    assert last.action == "customer_created" and json.loads(last.detail)["tax_id"] == BUYER_TAX_ID


@pytest.mark.parametrize(("fields", "field"), [
    ({"name": ""}, "customer.name"),
    ({"name": "名" * 301}, "customer.name"),
    ({"name": "张", "natural_person": True}, "customer.name"),
    ({"name": "北京某公司", "tax_id": "12345"}, "customer.tax_id"),
    ({"name": "北京某公司", "tax_id": FAILING_TAX_ID}, "customer.tax_id"),
    ({"name": "张三", "natural_person": True, "id_type": "201"}, "customer.id_number"),
    ({"name": "张三", "natural_person": True, "id_number": "110101199001011234"}, "customer.id_type"),
    ({"name": "张三", "natural_person": True, "id_type": "999", "id_number": "1"}, "customer.id_type"),
    ({"name": "北京某公司", "email": "not-an-address"}, "customer.email"),
    ({"name": "北京某公司", "phone": "1" * 101}, "customer.phone"),
    ({"name": "北京某公司", "natural_person": "perhaps"}, "customer.natural_person"),
])
def test_a_bad_customer_is_refused_naming_its_field_and_nothing_is_stored(store, fields, field):
    before = counts()
    with pytest.raises(ValidationFailed) as failed:
        create_customer(fields)
    assert field in fields_of(failed)
    assert counts() == before


def test_a_natural_person_with_an_id(store):
    entry = create_customer({"name": "张三", "natural_person": True, "id_type": "居民身份证",
                             "id_number": "110101199003077777"})
    assert (entry.natural_person, entry.id_type) == (True, "201")


def test_a_failed_check_character_confirmed_is_remembered(store):
    with pytest.raises(ValidationFailed) as failed:
        create_customer({"name": "北京某某有限公司", "tax_id": FAILING_TAX_ID})
    assert failed.value.errors[0].overridable
    entry = create_customer({"name": "北京某某有限公司", "tax_id": FAILING_TAX_ID, "tax_id_confirmed": True})
    assert entry.tax_id_confirmed
    # An edit of something else keeps it; a different failing id needs its own confirmation.
    assert edit_customer(entry.id, {"phone": "010-1234"}).tax_id_confirmed
    with pytest.raises(ValidationFailed):
        edit_customer(entry.id, {"tax_id": "91110105MA01ABCD11"})
    # A good id needs none, and says so.
    assert not edit_customer(entry.id, {"tax_id": BUYER_TAX_ID}).tax_id_confirmed


def test_a_confirmation_given_at_issue_is_remembered_by_the_customer(store, seller):
    body = invoice_body(buyer={"name": "北京某某有限公司", "tax_id": FAILING_TAX_ID})
    with pytest.raises(ValidationFailed) as refused:
        issue_invoice(body)
    assert fields_of(refused) == ["buyer.tax_id"]
    issue_invoice(body, confirmed_tax_ids=[FAILING_TAX_ID])
    (customer,) = list_customers()
    assert customer.tax_id_confirmed and customer.use_count == 1
    second = issue_invoice(body)  # not asked again: the book remembers
    assert second.number == "LX-0000002"
    again = get_customer(customer.id)
    assert again is not None and again.use_count == 2


def test_a_confirmation_in_the_book_lets_the_form_issue(store, seller):
    create_customer({"name": "北京某某有限公司", "tax_id": FAILING_TAX_ID, "tax_id_confirmed": True})
    issued = issue_invoice(invoice_body(buyer={"name": "北京某某有限公司", "tax_id": FAILING_TAX_ID}))
    assert issued.invoice.buyer.tax_id == FAILING_TAX_ID


def test_edit_keeps_what_is_not_given_and_refuses_a_duplicate(store):
    first = create_customer({"name": "北京甲公司", "tax_id": BUYER_TAX_ID, "address": "朝阳区"})
    second = create_customer({"name": "北京乙公司", "tax_id": BUYER_TAX_ID})
    edited = edit_customer(first.id, {"phone": "010-1", "name": "北京甲贸易公司"}, clerk="李四")
    assert (edited.name, edited.address, edited.phone) == ("北京甲贸易公司", "朝阳区", "010-1")
    assert "bjjmygs" in edited.initials.split()
    before = counts()
    with pytest.raises(ValidationFailed) as failed:
        edit_customer(second.id, {"name": "北京甲贸易公司"})
    assert fields_of(failed) == ["customer.name"] and "merge" in failed.value.describe("en")
    assert counts() == before


def test_merge_repoints_invoices_sums_use_and_keeps_their_history(store, seller):
    a = issue_invoice(invoice_body(buyer={"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID}))
    issue_invoice(invoice_body(buyer={"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID}))
    b = issue_invoice(invoice_body(buyer={"name": "北京客户贸易公司", "tax_id": BUYER_TAX_ID}))
    c = issue_invoice(invoice_body(buyer={"name": "北京客户贸易有限公司"}))
    keep = Buyer.get(Buyer.name == "北京客户贸易有限公司", Buyer.tax_id == BUYER_TAX_ID)
    others = [int(Invoice.get_by_id(i.id).buyer_id or 0) for i in (b, c)]
    kept = merge_customers(keep.id, others, clerk="张三")
    assert kept.use_count == 4 and [e.id for e in list_customers()] == [keep.id]
    assert {i.buyer_id for i in Invoice.select()} == {keep.id}
    assert Invoice.get_by_id(b.id).buyer_name == "北京客户贸易公司"  # what was issued stays as issued
    assert Invoice.get_by_id(c.id).buyer_tax_id == "" and Invoice.get_by_id(a.id).buyer_name == "北京客户贸易有限公司"
    last = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
    detail = json.loads(last.detail)
    assert last.action == "customers_merged" and detail["invoices_repointed"] == 2
    assert [m["id"] for m in detail["merged"]] == others


def test_a_bad_merge_stores_nothing(store):
    a = create_customer({"name": "北京甲公司"})
    b = create_customer({"name": "北京乙公司"})
    before = counts()
    for keep, ids in ((a.id, []), (a.id, [a.id, b.id]), (a.id, [b.id, 99]), (99, [b.id])):
        with pytest.raises(ValidationFailed) as failed:
            merge_customers(keep, ids)
        assert fields_of(failed)[0] in ("merge", "customer")
    assert counts() == before


def test_completion_by_name_tax_id_and_initials(store):
    busy = create_customer({"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID})
    quiet = create_customer({"name": "上海某某科技有限公司"})
    Buyer.update(use_count=7).where(Buyer.id == busy.id).execute()
    assert [e.id for e in complete_customers("客户")] == [busy.id]
    assert [e.id for e in complete_customers("911100")] == [busy.id]
    assert [e.id for e in complete_customers("shmm")] == [quiet.id]
    assert [e.id for e in complete_customers("有限公司")] == [busy.id, quiet.id]
    assert [e.id for e in complete_customers("", limit=1)] == [busy.id]

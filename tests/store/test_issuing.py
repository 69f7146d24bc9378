"""The issue service on the real SQLite file: one transaction, nothing half-written."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import peewee
import pytest

from app.core import status
from app.core.errors import ValidationFailed
from app.services.issuing import NoSellerProfile, issue_invoice, issue_invoices
from app.store import audit, queries
from app.store.catalog_queries import complete_customers
from app.store.models import AuditEntry, Buyer, Invoice, InvoiceLine, UploadQueueEntry
from tests.helpers.bodies import PRINTER, SOFTWARE, invoice_body


def table_counts():
    return {m.__name__: m.select().count() for m in (Invoice, InvoiceLine, AuditEntry, UploadQueueEntry, Buyer)}


def test_store_is_set_up_for_safety(store):
    assert store.db.pragma("journal_mode") == "wal"
    assert store.db.pragma("foreign_keys") == 1
    assert store.db.pragma("synchronous") == 2  # FULL
    assert store.db.pragma("busy_timeout") >= 5000
    assert store.db.pragma("user_version") >= 1


def test_issue_writes_invoice_lines_audit_and_queue_together(seller):
    issued = issue_invoice(invoice_body(lines=[
        {"tax_code": SOFTWARE, "item_name": "软件开发", "quantity": "2", "unit_price": "500", "tax_rate": "0.06"},
        {"tax_code": PRINTER, "item_name": "打印纸", "unit": "箱",
         "quantity": "3", "unit_price": "113", "tax_rate": "13%"}],
        prices_include_tax=True))
    assert issued.number == "LX-0000001"
    row = Invoice.get(Invoice.provisional_number == issued.number)
    # The platform channel (the default): a pre-issue record until the platform issues it.
    assert row.status == status.PRE_ISSUE and row.offline and row.channel == "platform" and row.official_number is None
    assert row.total_with_tax == Decimal("1339.00")
    lines = list(row.lines.order_by(InvoiceLine.position))
    assert [line.amount + line.tax for line in lines] == [Decimal("1000.00"), Decimal("339.00")]
    entry = UploadQueueEntry.get(UploadQueueEntry.invoice == row)
    assert entry.state == status.Q_PENDING and len(entry.idempotency_key) == 36
    issued_entries = list(AuditEntry.select().where(AuditEntry.invoice == row))
    assert [e.action for e in issued_entries] == ["issued"]
    assert entry.idempotency_key in issued_entries[0].detail  # queued under this key, in the same entry
    assert audit.verify_chain() is None
    # What the store gives back is what was issued, to the fen and the 8th decimal.
    assert queries.get_invoice(issued.number) == issued.invoice


def test_numbers_are_sequential_per_seller(seller):
    numbers = [issue_invoice(invoice_body()).number for _ in range(3)]
    assert numbers == ["LX-0000001", "LX-0000002", "LX-0000003"]


def test_bad_input_stores_nothing_and_takes_no_number(seller):
    before = table_counts()
    with pytest.raises(ValidationFailed) as caught:
        issue_invoice(invoice_body(buyer={"name": "测试客户有限公司", "tax_id": "9111000060003734"}))
    assert caught.value.errors[0].field == "buyer.tax_id"
    assert table_counts() == before
    assert issue_invoice(invoice_body()).number == "LX-0000001"


def test_a_list_is_issued_all_or_nothing(seller):
    before = table_counts()
    with pytest.raises(ValidationFailed) as caught:
        issue_invoices([invoice_body(), invoice_body(lines=[{"tax_code": SOFTWARE, "item_name": "x", "quantity": "1",
                                                             "unit_price": "1", "tax_rate": "0.2"}])])
    assert [e.field for e in caught.value.errors] == ["[1]lines[0].tax_rate"]
    assert table_counts() == before


def test_a_failure_inside_the_transaction_rolls_everything_back(seller, monkeypatch):
    def broken_append(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(audit, "append", broken_append)
    before = table_counts()
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        issue_invoice(invoice_body())
    assert table_counts() == before


def test_confirmed_check_character_is_recorded(seller):
    odd_id = "91110000600037341A"
    with pytest.raises(ValidationFailed):
        issue_invoice(invoice_body(buyer={"name": "试点企业有限公司", "tax_id": odd_id}))
    issued = issue_invoice(invoice_body(buyer={"name": "试点企业有限公司", "tax_id": odd_id}),
                           confirmed_tax_ids=[odd_id])
    row = Invoice.get(Invoice.provisional_number == issued.number)
    assert row.confirmed_tax_ids == odd_id
    entry = AuditEntry.get(AuditEntry.invoice == row)
    assert odd_id in entry.detail


def test_seller_comes_from_the_profile_and_must_match_it(seller):
    issued = issue_invoice(invoice_body())
    assert issued.invoice.seller.name == "北京某某科技有限公司"
    assert issued.invoice.drawer == "张三"
    with pytest.raises(ValidationFailed) as caught:
        issue_invoice(invoice_body(seller={"name": "别家", "tax_id": "91110000600037341L"}))
    assert caught.value.errors[0].field == "seller.tax_id"


def test_numbers_are_assigned_by_the_desk(seller):
    with pytest.raises(ValidationFailed) as caught:
        issue_invoice(invoice_body(number="12345"))
    assert caught.value.errors[0].field == "number"


def test_issuing_needs_a_seller_profile(store):
    with pytest.raises(NoSellerProfile):
        issue_invoice(invoice_body())


def test_buyer_directory_fills_as_invoices_are_issued(seller):
    issue_invoice(invoice_body(buyer={"name": "北京甲公司", "tax_id": "91110000600037341L", "address": "朝阳区"}))
    issue_invoice(invoice_body(buyer={"name": "北京甲公司", "tax_id": "91110000600037341L", "phone": "010-1"}))
    (buyer,) = complete_customers("甲")
    assert (buyer.use_count, buyer.address, buyer.phone) == (2, "朝阳区", "010-1")
    assert complete_customers("9111000060") == [buyer]
    assert complete_customers("乙") == []


def test_list_is_newest_first_and_paged(seller):
    for i in range(25):
        issue_invoice(invoice_body(buyer={"name": f"北京客户{i}号有限公司"}))
    assert queries.count_invoices() == 25
    first = queries.list_invoices(offset=0, limit=10)
    assert [r.number for r in first][:2] == ["LX-0000025", "LX-0000024"]
    assert [r.number for r in queries.list_invoices(offset=20, limit=10)][-1] == "LX-0000001"
    assert queries.count_invoices(status.ACCEPTED) == 0


def test_issued_invoices_cannot_be_deleted_while_their_rows_refer_to_them(seller):
    issued = issue_invoice(invoice_body())
    with pytest.raises(peewee.IntegrityError):
        Invoice.delete().where(Invoice.provisional_number == issued.number).execute()
    assert Invoice.select().count() == 1

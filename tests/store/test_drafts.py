"""Drafts (app/services/drafts.py): saved, replaced, listed and discarded, each write in its own transaction; never
a number, a number block, quota or an audit entry; the invoice issued from a draft deletes it in the issuing
transaction, both or neither, and a draft gone already (issued elsewhere) is not issued a second time."""

from __future__ import annotations

import logging
import re
import sqlite3
from decimal import Decimal

import peewee
import pytest
from playhouse.migrate import SqliteMigrator

from app.core.errors import ValidationFailed
from app.services import drafts as draft_service
from app.services import issuing
from app.services.drafts import DraftGone, discard_draft, replace_draft, save_draft
from app.services.integrity import verify_store
from app.services.issuing import issue_invoice
from app.store import migrations
from app.store.drafts import count_drafts, get_draft, list_drafts
from app.store.models import AuditEntry, Draft, Invoice, NumberCounter
from tests.helpers.bodies import SELLER_TAX_ID, invoice_body
from tests.helpers.platform import draw_direct_stock

# What the desk's number, stock and history live in: a draft never writes or even reads them.
GUARDED = ("number_counter", "number_block", "quota_slice", "quota_use", "audit_entry", "invoice", "invoice_line",
           "upload_queue_entry", "setting")


def _tables(store) -> dict[str, list[tuple[object, ...]]]:
    connection = sqlite3.connect(str(store.path))
    try:
        return {table: connection.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall() for table in GUARDED}
    finally:
        connection.close()


def _counter() -> int:
    row = NumberCounter.get_or_none(NumberCounter.seller_tax_id == SELLER_TAX_ID)
    return row.last_value if row is not None else 0


def test_save_replace_list_and_discard(store, seller):
    first = save_draft(invoice_body(remarks="合同 A"), total_with_tax=Decimal("1060.00"))
    second = save_draft({"buyer": {"name": "  上海某某有限公司 "}, "lines": []})
    assert count_drafts() == 2 and count_drafts(frozenset({first})) == 1
    listed = {d.id: d for d in list_drafts()}
    assert (listed[first].buyer_name, listed[first].total_with_tax, listed[first].line_count) == (
        "北京客户贸易有限公司", Decimal("1060.00"), 1)
    assert listed[second].buyer_name == "上海某某有限公司" and listed[second].line_count == 0
    content = get_draft(first)
    assert content is not None and content.body == invoice_body(remarks="合同 A")
    replace_draft(first, invoice_body(remarks="合同 B", lines=[]), total_with_tax=Decimal("0"),
                  confirmed_tax_id=True)
    content = get_draft(first)
    assert content is not None and content.body["remarks"] == "合同 B" and content.confirmed_tax_id
    assert not content.confirmed_short_name
    assert list_drafts()[0].id == first  # saved last, listed first
    assert discard_draft(first) and not discard_draft(first)
    assert get_draft(first) is None and count_drafts() == 1
    with pytest.raises(DraftGone) as gone:
        replace_draft(first, invoice_body())  # deleted elsewhere: not made again
    assert "已不在" in gone.value.message_zh
    assert count_drafts() == 1


def test_an_unreadable_draft_still_lists_and_opens_empty(store, seller):
    draft_id = save_draft(invoice_body())
    Draft.update(content="{not json").where(Draft.id == draft_id).execute()
    content = get_draft(draft_id)
    assert content is not None and content.body == {} and [d.id for d in list_drafts()] == [draft_id]
    assert discard_draft(draft_id)


def test_drafts_take_no_number_no_stock_and_write_no_history(store, seller, v2, caplog):
    """On the direct channel, with a block of numbers and quota drawn: saving, replacing and discarding drafts
    leaves every table of numbers, stock and history as it was, and no statement of theirs even names one."""
    draw_direct_stock(v2)
    before = _tables(store)
    caplog.set_level(logging.DEBUG, logger="peewee")
    ids = [save_draft(invoice_body(remarks=f"草稿 {i}"), total_with_tax=Decimal("1060.00")) for i in range(3)]
    replace_draft(ids[0], invoice_body(remarks="改过"))
    discard_draft(ids[1])
    statements = [str(record.msg[0]) for record in caplog.records
                  if record.name == "peewee" and isinstance(record.msg, tuple)]
    caplog.set_level(logging.WARNING, logger="peewee")
    assert statements, "the statements were not seen"
    named = {name for sql in statements for name in re.findall(r'"([a-z_]+)"', sql)}
    assert "draft" in named and not named & set(GUARDED), named
    assert _tables(store) == before
    assert count_drafts() == 2
    assert verify_store().ok  # the history check has nothing to say about drafts


def test_issuing_from_a_draft_deletes_it_in_the_same_transaction(store, seller):
    issue_invoice(invoice_body())
    draft_id = save_draft(invoice_body(remarks="从草稿开具"))
    other = save_draft(invoice_body(remarks="另一份"))
    issued = issue_invoice(invoice_body(remarks="从草稿开具"), draft_id=draft_id)
    assert issued.number == "LX-0000002"  # the draft took none of the numbers
    assert get_draft(draft_id) is None and get_draft(other) is not None
    assert verify_store().ok


def test_an_issue_that_fails_keeps_the_draft_and_takes_no_number(store, seller, monkeypatch):
    """The deletion is in the issuing transaction: a failure after it rolls both back, whatever fails."""
    issue_invoice(invoice_body())
    draft_id = save_draft(invoice_body(remarks="保留"))
    counted, invoices, entries = _counter(), Invoice.select().count(), AuditEntry.select().count()
    real = draft_service.take_for_issue

    def delete_then_fail(draft: int) -> None:
        real(draft)
        assert get_draft(draft) is None  # deleted, inside the transaction
        raise ValidationFailed([])

    monkeypatch.setattr(issuing, "take_for_issue", delete_then_fail)
    with pytest.raises(ValidationFailed):
        issue_invoice(invoice_body(remarks="保留"), draft_id=draft_id)
    assert get_draft(draft_id) is not None
    assert (_counter(), Invoice.select().count(), AuditEntry.select().count()) == (counted, invoices, entries)
    monkeypatch.undo()
    assert issue_invoice(invoice_body(remarks="保留"), draft_id=draft_id).number == "LX-0000002"
    assert get_draft(draft_id) is None


def test_a_draft_gone_already_is_not_issued_again(store, seller):
    """Issued (or deleted) in another window or desk meanwhile: refused, nothing written, no number taken."""
    draft_id = save_draft(invoice_body())
    issue_invoice(invoice_body(), draft_id=draft_id)
    counted, invoices = _counter(), Invoice.select().count()
    with pytest.raises(DraftGone):
        issue_invoice(invoice_body(), draft_id=draft_id)
    assert (_counter(), Invoice.select().count()) == (counted, invoices)
    assert issue_invoice(invoice_body()).number == "LX-0000002"  # without the draft: a deliberate new invoice


def test_take_for_issue_runs_only_inside_a_transaction(store, seller):
    draft_id = save_draft(invoice_body())
    with pytest.raises(AssertionError):
        draft_service.take_for_issue(draft_id)
    assert get_draft(draft_id) is not None


def test_schema_step_7_adds_the_draft_table_to_a_schema_6_store():
    db = peewee.SqliteDatabase(":memory:")
    for step in migrations.STEPS[:6]:
        step(db, SqliteMigrator(db))
    db.pragma("user_version", 6)
    db.execute_sql("INSERT INTO setting (key, value) VALUES ('kept', '1')")
    assert migrations.STEPS[6] is migrations.schema_steps.v7_drafts
    assert migrations.migrate_to_latest(db) == migrations.LATEST >= 7  # later steps may follow
    columns = [row[1] for row in db.execute_sql('PRAGMA table_info("draft")')]
    assert columns == ["id", "content", "buyer_name", "total_with_tax", "line_count", "created_at", "updated_at"]
    assert db.execute_sql("SELECT value FROM setting WHERE key = 'kept'").fetchone() == ("1",)

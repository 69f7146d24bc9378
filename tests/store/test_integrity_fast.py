"""The history check writes each invoice's protocol body in SQLite (app.services.integrity._BODY_SQL) and rebuilds
the domain Invoice only for a row whose body does not give the recorded hash. These hold the two bodies equal on
every kind of value, show that a row SQL would read otherwise than the domain is rebuilt (and so reported as
before), that an equivalent value the domain reads the same raises no alarm, and that the quick check still reads
the content of every invoice waiting to upload."""

from __future__ import annotations

import sqlite3

import pytest

from app.services import integrity
from app.services.integrity import check_history, verify_store
from app.services.issuing import issue_invoices
from app.store.audit import canonical_json
from app.store.models import Invoice
from app.store.records import content_hash, invoice_from_row
from tests.helpers.bodies import full_body, invoice_body


def _issue(n: int, **overrides) -> list[str]:
    return [i.number for i in issue_invoices([full_body(**overrides) for _ in range(n)], clerk="李四")]


def _raw(store) -> sqlite3.Connection:
    connection = sqlite3.connect(str(store.path), isolation_level=None)
    connection.execute("PRAGMA foreign_keys = OFF")
    return connection


def _sql_body(store, invoice_id: int) -> str | None:
    with _raw(store) as c:
        return c.execute(f"SELECT (SELECT {integrity._BODY_SQL} FROM invoice_line WHERE invoice_id = i.id) "
                         "FROM invoice i WHERE i.id = ?", (invoice_id,)).fetchone()[0]


def _domain_body(invoice_id: int) -> str:
    from app.core.codec import invoice_to_body

    return canonical_json(invoice_to_body(invoice_from_row(Invoice.get_by_id(invoice_id))))


TEXT = 'a"b\\c\nd\re\tf\bg\fh\x00i\x01\x1f\x7fj\u2028k\u2029l\ufeffm😀n中文'


@pytest.mark.parametrize("change", [
    {},
    {"remarks": TEXT, "payee": TEXT, "reviewer": "", "drawer": TEXT, "buyer_name": TEXT, "seller_address": TEXT},
    {"original_number": "01100212345678901234", "red_form_uuid": "f-1", "red_reason_code": "01"},
    {"buyer_natural_person": 1, "buyer_id_type": "201", "buyer_id_number": "110101199003077777",
     "show_seller_bank": 1, "show_buyer_bank": 1, "kind": "special", "medium": "paper"},
    {"drawer_id_type": "201", "drawer_id_number": "X1", "issued_at": "2026-01-02T03:04:05.123456+08:00"},
])
def test_sqlites_body_is_the_domains_on_every_kind_of_value(store, seller, change):
    _issue(1)
    with _raw(store) as c:
        invoice_id = c.execute("SELECT max(id) FROM invoice").fetchone()[0]
        if change:
            c.execute(f"UPDATE invoice SET {', '.join(f'{k} = ?' for k in change)} WHERE id = ?",
                      (*change.values(), invoice_id))
    assert _sql_body(store, invoice_id) == _domain_body(invoice_id)


@pytest.mark.parametrize("line", [
    {"amount": -123456, "tax": -5, "quantity": "-2", "unit_price": "617.28"},
    {"amount": 0, "tax": 0, "quantity": None, "unit_price": None, "nature": "discount"},
    {"amount": 5, "tax": -5, "quantity": "0.00000001", "unit_price": "123456789.12345678"},
    {"tax_rate": "exempt", "policy": "03"}, {"tax_rate": "not_taxed", "policy": "04", "original_line_no": 2},
    {"name": TEXT, "spec": TEXT, "unit": TEXT, "short_name": TEXT, "item_name": TEXT, "tax_code": ""},
    {"quantity": "", "unit_price": ""},
])
def test_sqlites_line_body_is_the_domains(store, seller, line):
    _issue(1)
    with _raw(store) as c:
        invoice_id = c.execute("SELECT max(id) FROM invoice").fetchone()[0]
        c.execute(f"UPDATE invoice_line SET {', '.join(f'{k} = ?' for k in line)} WHERE invoice_id = ? "
                  "AND position = 1", (*line.values(), invoice_id))
    assert _sql_body(store, invoice_id) == _domain_body(invoice_id)


def test_the_check_confirms_issued_invoices_without_rebuilding_them(store, seller, rebuilt):
    numbers = _issue(3) + [i.number for i in issue_invoices([invoice_body() for _ in range(2)], clerk="李四")]
    report = verify_store()
    assert report.ok and report.invoices == len(numbers)
    assert rebuilt == []
    assert check_history().ok and check_history(sample=10_000).ok and rebuilt == []


def _tamper(store, sql: str, *params) -> int:
    with _raw(store) as c:
        invoice_id = c.execute("SELECT min(id) FROM invoice").fetchone()[0]
        c.execute(sql, (*params, invoice_id))
    return invoice_id


@pytest.mark.parametrize("sql, found", [
    # A zero tax made text: the domain reads '1e2' fen as 1.00 (SQL's printf would not read it so).
    ("UPDATE invoice_line SET tax = '1e2' WHERE position = 2 AND invoice_id = ?", "differ from what was issued"),
    # A flag the domain reads as True (bool of any non-empty text), SQL as false.
    ("UPDATE invoice SET buyer_natural_person = 'no' WHERE id = ?", "differ from what was issued"),
    ("UPDATE invoice SET rules = 'legacy' WHERE id = ?", "differ from what was issued"),
    ("UPDATE invoice SET rules = 'other' WHERE id = ?", "cannot be read back"),
    ("UPDATE invoice SET status = CAST('accepted' AS BLOB) WHERE id = ?", "no accepted entry"),
    # The row's total alone: the lines (and so the body) are as issued.
    ("UPDATE invoice SET total_amount = total_amount + 1 WHERE id = ?", "total_amount"),
])
def test_a_row_sql_would_read_otherwise_is_rebuilt_and_reported(store, seller, rebuilt, sql, found):
    numbers = _issue(2)
    invoice_id = _tamper(store, sql)
    for report in (verify_store(), check_history(sample=10_000, record=False)):
        assert not report.ok and report.first is not None
        assert report.first.invoice_number == numbers[0] and found in report.first.reason, report.first.reason
    assert invoice_id in rebuilt


@pytest.mark.parametrize("sql", [
    "UPDATE invoice_line SET quantity = quantity || '.000' WHERE position = 1 AND invoice_id = ?",  # same Decimal
    "UPDATE invoice_line SET position = position + 10 WHERE invoice_id = ?",  # same order
    "UPDATE invoice SET remarks = CAST(remarks AS BLOB) WHERE id = ?",  # not for JSON: the whole chunk rebuilt
])
def test_a_value_the_domain_reads_the_same_raises_no_alarm(store, seller, rebuilt, sql):
    _issue(2)
    invoice_id = _tamper(store, sql)
    report = verify_store()
    assert report.ok, [f.describe() for f in report.findings]
    assert invoice_id in rebuilt


def test_the_body_with_its_hash_recomputed_is_still_caught(store, seller):
    """Rows changed and the row's content_hash set to theirs: the issued entry's hash still differs."""
    numbers = _issue(2)
    with _raw(store) as c:
        c.execute("UPDATE invoice_line SET amount = amount + 100 WHERE position = 0 AND invoice_id = 1")
        c.execute("UPDATE invoice SET total_amount = total_amount + 100, total_with_tax = total_with_tax + 100 "
                  "WHERE id = 1")
    forged = content_hash(invoice_from_row(Invoice.get_by_id(1)))
    with _raw(store) as c:
        c.execute("UPDATE invoice SET content_hash = ? WHERE id = 1", (forged,))
    first = verify_store().first
    assert first is not None and first.invoice_number == numbers[0] and "differ from what was issued" in first.reason


def test_the_quick_check_reads_the_content_of_every_invoice_waiting_before_the_head(store, seller):
    """Before the head and outside the sample, a waiting invoice's content still goes to the platform: the check
    at start reads it (an accepted one only the full check and the sample read)."""
    numbers = _issue(4)
    assert check_history().ok  # the head recorded after the four, all waiting
    with _raw(store) as c:
        c.execute("UPDATE invoice_line SET amount = amount + 1 WHERE position = 0 AND invoice_id = "
                  "(SELECT id FROM invoice WHERE provisional_number = ?)", (numbers[1],))
        c.execute("UPDATE invoice SET total_amount = total_amount + 1, total_with_tax = total_with_tax + 1 "
                  "WHERE provisional_number = ?", (numbers[1],))
    report = check_history(sample=0, record=False)
    assert report.quick and report.first is not None and report.first.invoice_number == numbers[1]
    assert "differ from what was issued" in report.first.reason


def test_the_quick_check_reads_waiting_invoices_between_settled_ones(store, seller):
    """Waiting invoices not one run of ids (accepted ones between): read one by one, content and all."""
    from app.services.queue import Outcome, record_outcomes
    from app.store.models import UploadQueueEntry

    numbers = _issue(5)
    for i, number in enumerate(numbers[1::2]):
        entry = UploadQueueEntry.select().join(Invoice).where(Invoice.provisional_number == number).get()
        record_outcomes([Outcome(entry.id, True, f"2611000000000000{i + 1:04d}",
                                 accepted_at="2026-11-29T10:00:00+08:00")])
    assert check_history().ok
    with _raw(store) as c:
        c.execute("UPDATE invoice SET buyer_name = 'someone else' WHERE provisional_number = ?", (numbers[2],))
    report = check_history(sample=0, record=False)
    assert report.first is not None and report.first.invoice_number == numbers[2]
    assert "differ from what was issued" in report.first.reason


@pytest.mark.parametrize(("table", "column"), [("invoice", "total_tax"), ("invoice_line", "amount")])
def test_text_in_a_money_column_is_a_finding_not_a_crash(store, seller, table, column):
    """A value SQLite holds but the app cannot read (text where fen belong) is a change behind the app's back:
    both checks name the invoice, neither raises."""
    numbers = _issue(3)
    raw = _raw(store)
    key = "id" if table == "invoice" else "invoice_id"
    raw.execute(f"UPDATE {table} SET {column} = 'abc' WHERE {key} = 2")
    raw.commit()
    raw.close()
    for report in (verify_store(), check_history(full=False)):
        assert not report.ok
        assert any(f.invoice_number == numbers[1] and "无法读出" in f.reason for f in report.findings), report.findings

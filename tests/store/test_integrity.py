"""The history catches what is done to the SQLite file behind the app's back."""

from __future__ import annotations

import sqlite3

import pytest

from app.services.integrity import Anchor, Finding, IntegrityReport, verify_store
from app.services.issuing import issue_invoices
from app.store import audit
from tests.helpers.bodies import invoice_body
from tests.helpers.cli import run_cli


def _issue(n: int) -> list[str]:
    return [i.number for i in issue_invoices([invoice_body() for _ in range(n)], clerk="李四")]


def _first(report: IntegrityReport) -> Finding:
    """The first finding of a report that must have one."""
    assert report.first is not None, "the tampering went unnoticed"
    return report.first


def _raw(store) -> sqlite3.Connection:
    """A second connection, as someone with the file and the sqlite3 shell would have."""
    return sqlite3.connect(str(store.path), isolation_level=None)


def _entry_of(connection, number: str, action: str = "issued") -> int:
    return connection.execute(
        "SELECT a.id FROM audit_entry a JOIN invoice i ON i.id = a.invoice_id "
        "WHERE i.provisional_number = ? AND a.action = ?", (number, action)).fetchone()[0]


def test_whole_store_verifies(store, seller):
    _issue(3)
    report = verify_store()
    assert report.ok
    assert report.invoices == 3 and report.entries == 5  # tax_codes_loaded + seller_created + 3 issued


def test_invoice_total_changed_is_caught(store, seller):
    numbers = _issue(3)
    with _raw(store) as c:
        c.execute("UPDATE invoice SET total_with_tax = total_with_tax + 100000 WHERE provisional_number = ?",
                  (numbers[1],))
        entry = _entry_of(c, numbers[1])
    first = _first(verify_store())
    assert first.entry_id == entry and first.action == "issued" and first.invoice_number == numbers[1]
    assert "total_with_tax" in first.reason


def test_line_amount_changed_is_caught(store, seller):
    numbers = _issue(2)
    with _raw(store) as c:
        c.execute("UPDATE invoice_line SET amount = 1, tax = 0 WHERE invoice_id = "
                  "(SELECT id FROM invoice WHERE provisional_number = ?)", (numbers[0],))
        entry = _entry_of(c, numbers[0])
    first = _first(verify_store())
    assert first.entry_id == entry and first.invoice_number == numbers[0]
    assert "differ from what was issued" in first.reason


def test_amount_changed_with_its_content_hash_recomputed_is_still_caught(store, seller):
    """Editing the row's content_hash too does not help: the issued entry's hash covers the recorded one."""
    from app.store.models import Invoice
    from app.store.records import content_hash, invoice_from_row

    numbers = _issue(1)
    with _raw(store) as c:
        c.execute("UPDATE invoice_line SET quantity = '2', amount = 200000, tax = 12000")
        c.execute("UPDATE invoice SET total_amount = 200000, total_tax = 12000, total_with_tax = 212000")
    forged = content_hash(invoice_from_row(Invoice.get()))
    with _raw(store) as c:
        c.execute("UPDATE invoice SET content_hash = ?", (forged,))
    assert _first(verify_store()).invoice_number == numbers[0]


def test_entry_deleted_is_caught(store, seller):
    numbers = _issue(3)
    with _raw(store) as c:
        gone = _entry_of(c, numbers[1])
        c.execute("DELETE FROM audit_entry WHERE id = ?", (gone,))
    report = verify_store()
    assert _first(report).entry_id == gone + 1
    assert "removed or inserted" in _first(report).reason
    # ... and the invoice whose entry went is named as having none.
    assert any(f.invoice_number == numbers[1] and "no issued entry" in f.reason for f in report.findings)


def test_last_entry_deleted_is_caught_by_its_invoice(store, seller):
    numbers = _issue(2)
    with _raw(store) as c:
        c.execute("DELETE FROM audit_entry WHERE id = (SELECT max(id) FROM audit_entry)")
    first = _first(verify_store())
    assert first.entry_id is None and first.invoice_number == numbers[-1] and "no issued entry" in first.reason


def test_entry_inserted_is_caught(store, seller):
    _issue(2)
    with _raw(store) as c:
        prev, = c.execute("SELECT hash FROM audit_entry WHERE id = 2").fetchone()
        # A "printed" entry slipped in before entry 3, linked to entry 2 with a well-formed hash of its own.
        forged = audit.entry_hash(prev, "2026-01-01T00:00:00.000+08:00", "x", "printed", "", "{}")
        c.execute("UPDATE audit_entry SET id = id + 100 WHERE id > 2")
        c.execute("INSERT INTO audit_entry (id, at, clerk, action, invoice_id, detail, prev_hash, hash) "
                  "VALUES (3, '2026-01-01T00:00:00.000+08:00', 'x', 'printed', NULL, '{}', ?, ?)", (prev, forged))
    first = _first(verify_store())
    assert first.entry_id == 103 and "removed or inserted" in first.reason


def test_invoice_inserted_without_entry_is_caught(store, seller):
    numbers = _issue(1)
    with _raw(store) as c:
        columns = [r[1] for r in c.execute("PRAGMA table_info(invoice)") if r[1] != "id"]
        c.execute(f"INSERT INTO invoice ({', '.join(columns)}) SELECT "
                  + ", ".join("'LX-0999999'" if k == "provisional_number" else k for k in columns)
                  + " FROM invoice WHERE provisional_number = ?", (numbers[0],))
    first = _first(verify_store())
    assert first.invoice_number == "LX-0999999" and "no issued entry" in first.reason


def test_entry_edited_is_caught(store, seller):
    numbers = _issue(2)
    with _raw(store) as c:
        entry = _entry_of(c, numbers[0])
        c.execute("UPDATE audit_entry SET clerk = 'someone else' WHERE id = ?", (entry,))
    first = _first(verify_store())
    assert first.entry_id == entry and "edited" in first.reason


def test_chain_rewritten_consistently_is_caught_only_by_a_backup_head(store, seller):
    """The honest limit: a consistent rewrite passes the chain, and fails against an anchor kept outside."""
    _issue(2)
    head = verify_store()
    anchor = Anchor(head.head_id, head.head_hash, "backup-x")
    with _raw(store) as c:
        rows = c.execute("SELECT id, at, clerk, action, invoice_id, detail FROM audit_entry ORDER BY id").fetchall()
        numbers = dict(c.execute("SELECT id, provisional_number FROM invoice"))
        prev = audit.GENESIS
        for id_, at, clerk, action, invoice_id, detail in rows:
            clerk = "rewritten"
            digest = audit.entry_hash(prev, at, clerk, action, numbers.get(invoice_id, ""), detail)
            c.execute("UPDATE audit_entry SET clerk = ?, prev_hash = ?, hash = ? WHERE id = ?",
                      (clerk, prev, digest, id_))
            prev = digest
    assert verify_store().ok
    report = verify_store(anchors=[anchor])
    assert not report.ok and "backup-x" in _first(report).reason and _first(report).entry_id == head.head_id


@pytest.mark.parametrize("tamper", ["total", "delete", "insert"])
def test_audit_verify_cli_names_the_first_broken_entry(store, seller, data_dir, tamper):
    numbers = _issue(3)
    with _raw(store) as c:
        entry = _entry_of(c, numbers[1])
        if tamper == "total":
            c.execute("UPDATE invoice SET total_amount = 1 WHERE provisional_number = ?", (numbers[1],))
            named = entry
        elif tamper == "delete":
            c.execute("DELETE FROM audit_entry WHERE id = ?", (entry,))
            named = entry + 1
        else:
            c.execute("INSERT INTO audit_entry (at, clerk, action, invoice_id, detail, prev_hash, hash) "
                      "VALUES ('2026-01-01T00:00:00.000+08:00', 'x', 'accepted', 1, '{}', 'f', 'f')")
            named = c.execute("SELECT max(id) FROM audit_entry").fetchone()[0]
    store.close()
    result = run_cli(data_dir, "audit", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"#{named}" in result.stderr and f"id: {named}" in result.stderr
    assert "reason:" in result.stderr and "time: 20" in result.stderr


def test_audit_verify_cli_whole_and_log(store, seller, data_dir):
    numbers = _issue(2)
    store.close()
    result = run_cli(data_dir, "audit", "verify")
    assert result.returncode == 0 and "4 entries, 2 invoices" in result.stdout
    log = run_cli(data_dir, "audit", "log", numbers[0])
    assert log.returncode == 0
    assert "issued" in log.stdout and numbers[0] in log.stdout and numbers[1] not in log.stdout
    everything = run_cli(data_dir, "audit", "log")
    assert everything.stdout.count("issued") == 2 and "seller_created" in everything.stdout
    assert run_cli(data_dir, "audit", "log", "LX-9999999").returncode == 2


def test_audit_verify_cli_checks_the_heads_recorded_by_backups(store, seller, data_dir, tmp_path):
    """A consistent rewrite of the whole chain passes the chain, and fails against the backups' heads."""
    from app.services import backup
    _issue(2)
    backup.set_backup_settings(data_dir, folder=str(tmp_path / "usb"))
    taken = backup.backup_store(data_dir)
    with _raw(store) as c:
        rows = c.execute("SELECT id, at, clerk, action, invoice_id, detail FROM audit_entry ORDER BY id").fetchall()
        numbers = dict(c.execute("SELECT id, provisional_number FROM invoice"))
        prev = audit.GENESIS
        for id_, at, _clerk, action, invoice_id, detail in rows:
            digest = audit.entry_hash(prev, at, "forger", action, numbers.get(invoice_id, ""), detail)
            c.execute("UPDATE audit_entry SET clerk = 'forger', prev_hash = ?, hash = ? WHERE id = ?",
                      (prev, digest, id_))
            prev = digest
    store.close()
    assert run_cli(data_dir, "audit", "verify", "--no-anchors").returncode == 0
    result = run_cli(data_dir, "audit", "verify")
    assert result.returncode == 1 and taken.file in result.stderr and "rewritten" in result.stderr

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


# --- the verified head and the quick check ------------------------------------------------------

def _accept(numbers: list[str]) -> None:
    """Accepted by the platform, recorded as the worker records it: settled invoices, which the quick check
    reads only in its sample (it reads every invoice still waiting, rejected or cancelled)."""
    from app.services.queue import Outcome, record_outcomes
    from app.store.models import Invoice, UploadQueueEntry

    for i, number in enumerate(numbers):
        entry = UploadQueueEntry.select().join(Invoice).where(Invoice.provisional_number == number).get()
        record_outcomes([Outcome(entry.id, True, f"2611000000000000{i + 1:04d}",
                                 accepted_at="2026-11-29T10:00:00+08:00")])


def _tamper_total(store, number: str) -> None:
    with _raw(store) as c:
        c.execute("UPDATE invoice SET total_amount = total_amount + 100 WHERE provisional_number = ?", (number,))


def test_a_passing_check_records_the_head_and_the_quick_check_starts_from_it(store, seller):
    from app.services.integrity import check_history, head_anchor, recorded_head

    _issue(3)
    assert recorded_head() is None and head_anchor() is None
    first = check_history()  # no head yet: the full check
    assert first.ok and not first.quick
    head = recorded_head()
    assert head is not None and (head.entry_id, head.hash) == (first.head_id, first.head_hash)
    assert head.invoices == 3 and head.entries == first.entries
    _issue(2)
    quick = check_history()
    assert quick.ok and quick.quick and quick.entries == first.entries + 2 and quick.invoices == 5
    assert recorded_head().entry_id == quick.head_id > head.entry_id  # type: ignore[union-attr]
    assert head_anchor() is not None and head_anchor().hash == quick.head_hash  # type: ignore[union-attr]


def test_a_tampered_old_row_is_found_by_the_full_check(store, seller, data_dir):
    from app.services.integrity import check_history

    numbers = _issue(3)
    _accept(numbers)
    assert check_history().ok  # head recorded after the three
    _tamper_total(store, numbers[0])
    # Before the head and outside the sample (sample=0): the quick check does not read it ...
    assert check_history(sample=0, record=False).ok
    # ... the full check does, and so does the command line's --full.
    report = check_history(full=True)
    assert _first(report).invoice_number == numbers[0] and "total_amount" in _first(report).reason
    store.close()
    result = run_cli(data_dir, "audit", "verify", "--full", "--no-anchors")
    assert result.returncode == 1 and numbers[0] in result.stderr


def test_a_tampered_old_row_is_found_by_the_rolling_sample_when_it_falls_in_the_window(store, seller):
    from app.services.integrity import check_history

    numbers = _issue(4)
    assert check_history().ok
    _tamper_total(store, numbers[1])
    report = check_history(sample=10_000)  # the window covers the whole older part
    assert _first(report).invoice_number == numbers[1] and report.sampled is not None


def test_a_tampered_new_row_after_the_head_is_found_by_the_quick_check(store, seller):
    from app.services.integrity import check_history

    _issue(2)
    assert check_history().ok
    numbers = _issue(2)
    _tamper_total(store, numbers[1])
    report = check_history(sample=0)
    assert report.quick and _first(report).invoice_number == numbers[1]
    with _raw(store) as c:
        assert _first(report).entry_id == _entry_of(c, numbers[1])


def test_an_old_entry_edited_is_found_by_the_full_check_and_the_sample(store, seller):
    from app.services.integrity import check_history

    numbers = _issue(3)
    assert check_history().ok
    with _raw(store) as c:
        entry = _entry_of(c, numbers[0])
        c.execute("UPDATE audit_entry SET clerk = 'someone else' WHERE id = ?", (entry,))
    assert _first(check_history(full=True, record=False)).entry_id == entry
    assert _first(check_history(sample=10_000)).entry_id == entry


def test_an_invoice_inserted_after_the_head_without_entry_is_found_by_the_quick_check(store, seller):
    from app.services.integrity import check_history

    numbers = _issue(1)
    assert check_history().ok
    with _raw(store) as c:
        columns = [r[1] for r in c.execute("PRAGMA table_info(invoice)") if r[1] != "id"]
        c.execute(f"INSERT INTO invoice ({', '.join(columns)}) SELECT "
                  + ", ".join("'LX-0999999'" if k == "provisional_number" else k for k in columns)
                  + " FROM invoice WHERE provisional_number = ?", (numbers[0],))
    first = _first(check_history(sample=0))
    assert first.invoice_number == "LX-0999999" and "no issued entry" in first.reason


@pytest.mark.parametrize("move", ["other_hash", "other_entry", "gone", "old_entry_removed", "old_invoice_removed",
                                  "unreadable"])
def test_a_moved_head_is_refused(store, seller, move):
    import json

    from app.services.integrity import HEAD_SETTING, check_history, recorded_head

    numbers = _issue(3)
    assert check_history().ok
    head = recorded_head()
    assert head is not None
    with _raw(store) as c:
        value = json.loads(c.execute("SELECT value FROM setting WHERE key = ?", (HEAD_SETTING,)).fetchone()[0])
        if move == "other_hash":
            value["hash"] = "f" * 64
        elif move == "other_entry":
            value["entry_id"] = head.entry_id - 1  # the head moved back, keeping its hash
        elif move == "gone":
            c.execute("DELETE FROM audit_entry WHERE id = ?", (head.entry_id,))
        elif move == "old_entry_removed":
            c.execute("PRAGMA foreign_keys = OFF")
            c.execute("DELETE FROM audit_entry WHERE id = ?", (_entry_of(c, numbers[0]),))
        elif move == "old_invoice_removed":
            c.execute("PRAGMA foreign_keys = OFF")
            c.execute("DELETE FROM invoice_line WHERE invoice_id = (SELECT id FROM invoice WHERE provisional_number "
                      "= ?)", (numbers[0],))
            c.execute("DELETE FROM invoice WHERE provisional_number = ?", (numbers[0],))
        c.execute("UPDATE setting SET value = ? WHERE key = ?",
                  ("not json" if move == "unreadable" else json.dumps(value), HEAD_SETTING))
    report = check_history(sample=0)
    reason = _first(report).reason
    assert "head" in reason or "verified" in reason
    assert recorded_head() is not None and not check_history(sample=0).ok  # refused again: never moved on


def test_the_full_check_refuses_a_consistent_rewrite_against_the_recorded_head(store, seller):
    from app.services.integrity import STORE_HEAD_SOURCE, check_history

    _issue(2)
    assert check_history().ok
    with _raw(store) as c:
        rows = c.execute("SELECT id, at, clerk, action, invoice_id, detail FROM audit_entry ORDER BY id").fetchall()
        numbers = dict(c.execute("SELECT id, provisional_number FROM invoice"))
        prev = audit.GENESIS
        for id_, at, _clerk, action, invoice_id, detail in rows:
            digest = audit.entry_hash(prev, at, "forger", action, numbers.get(invoice_id, ""), detail)
            c.execute("UPDATE audit_entry SET clerk = 'forger', prev_hash = ?, hash = ? WHERE id = ?",
                      (prev, digest, id_))
            prev = digest
    assert verify_store().ok  # the chain alone holds
    assert STORE_HEAD_SOURCE in _first(check_history(full=True)).reason
    assert not check_history().ok


@pytest.mark.parametrize("edit", [
    'UPDATE invoice_tally SET "count" = "count" + 5',
    "DELETE FROM invoice_tally",
    'UPDATE waiting_totals SET "count" = 0, amount = 0',
    "UPDATE waiting_totals SET amount = amount - 1",
])
def test_the_triggers_totals_edited_behind_their_back_are_found_by_the_full_check(store, seller, edit):
    _issue(3)
    assert verify_store().ok
    with _raw(store) as c:
        c.execute(edit)
    first = _first(verify_store())
    assert ("tally" in first.reason) if "tally" in edit else ("waiting totals" in first.reason and "离线限额" in
                                                             first.reason)


def test_a_red_letter_invoice_of_a_backup_is_read_with_the_backups_own_form(store, seller, tmp_path):
    """invoice_from_row with db reads the red-letter form from that database, not the store's (a backup is checked
    while the store may be another, or not open at all)."""
    import sqlite3 as raw

    from app.store.database import make_database
    from app.store.models import Invoice, InvoiceLine, RedLetterForm
    from app.store.records import invoice_from_row
    from tests.helpers.platform import accept
    from tests.helpers.red import red_on_form

    blue = _issue(1)[0]
    accept(blue, "26110000000000000301")
    red = red_on_form(blue).number
    copy_path = tmp_path / "backup.sqlite3"
    source = raw.connect(store.path)
    target = raw.connect(copy_path)
    source.backup(target)
    target.execute("UPDATE red_letter_form SET form_number = '202612020000000099'")
    target.commit()
    source.close()
    target.close()
    copy = make_database(copy_path)
    try:
        row = Invoice.select().where(Invoice.provisional_number == red).bind(copy).get()
        lines = list(InvoiceLine.select().where(InvoiceLine.invoice == row.id).bind(copy))
        assert invoice_from_row(row, lines, copy).red_form_number == "202612020000000099"
        live = RedLetterForm.get(RedLetterForm.uuid == row.red_form_uuid).form_number
        assert live != "202612020000000099" and invoice_from_row(row, lines).red_form_number == live
    finally:
        copy.close()

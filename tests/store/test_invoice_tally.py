"""The triggers' tally of invoices by status (schema 11) stays what a count of the rows says, whatever path
changes an invoice: issuing, the upload worker's status updates, a cancellation, a raw UPDATE, a migration."""

from __future__ import annotations

import sqlite3

from app.core import status
from app.services.issuing import issue_invoice
from app.store import migrations, queries
from app.store.database import STORE_FILE, open_store
from app.store.models import Invoice, database
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import issue_many, make_worker


def _tally_matches_the_rows() -> None:
    assert queries.count_invoices() == queries.counted_invoices()
    for (name,) in database.execute_sql('SELECT DISTINCT "status" FROM "invoice"').fetchall():
        assert queries.count_invoices(name) == queries.counted_invoices(name), name
    assert queries.count_invoices("no_such_status") == 0


def test_the_tally_follows_issuing_uploads_and_any_status_change(store, seller, direct):
    assert queries.count_invoices() == 0
    issue_many(7)
    _tally_matches_the_rows()
    assert queries.count_invoices() == 7
    report = make_worker(direct).run_once()
    assert report.accepted == 7, report
    _tally_matches_the_rows()
    assert queries.count_invoices(status.ACCEPTED) == 7
    # A status changed by hand (outside every service) is counted too: SQLite keeps the tally, not Python.
    first = Invoice.select().order_by(Invoice.id).first()
    database.execute_sql('UPDATE "invoice" SET "status" = ? WHERE "id" = ?', (status.CANCELLED, first.id))
    _tally_matches_the_rows()
    assert queries.count_invoices(status.CANCELLED) == 1 and queries.count_invoices(status.ACCEPTED) == 6
    database.execute_sql('UPDATE "invoice" SET "status" = "status" WHERE "id" = ?', (first.id,))  # no change
    _tally_matches_the_rows()


# Schema 12 dropped the indexes that are prefixes of others: put back, as schema 11 had them.
UNDO_STEP_12 = (
    'CREATE INDEX "invoice_line_invoice_id" ON "invoice_line" ("invoice_id")',
    'CREATE INDEX "upload_queue_entry_state" ON "upload_queue_entry" ("state")',
    'CREATE INDEX "outage_error_outage_id" ON "outage_error" ("outage_id")',
)


def test_a_store_of_schema_10_gets_its_tally_from_its_invoices(store, seller, data_dir):
    for i in range(3):
        issue_invoice(invoice_body(remarks=f"#{i}"))
    store.close()
    connection = sqlite3.connect(str(data_dir / STORE_FILE))
    for statement in (*UNDO_STEP_12, "DROP TRIGGER invoice_tally_insert", "DROP TRIGGER invoice_tally_delete",
                      "DROP TRIGGER invoice_tally_update", "DROP TABLE invoice_tally", "PRAGMA user_version = 10"):
        connection.execute(statement)
    connection.commit()
    connection.close()
    reopened = open_store(data_dir, before_migration=lambda db, version: None)
    try:
        assert migrations.current_version(reopened.db) == migrations.LATEST
        assert queries.count_invoices() == 3
        _tally_matches_the_rows()
    finally:
        reopened.close()

"""The status bar's counts after every pass read what waits, not every entry ever sent (issue 13)."""

from __future__ import annotations

from app.core import status
from app.services import queue
from app.services.issuing import issue_invoice
from app.store.models import database
from tests.helpers.bodies import invoice_body


def test_waiting_counts_agree_with_the_full_counts(store, seller):
    numbers = [issue_invoice(invoice_body()).number for _ in range(5)]
    # States as the worker leaves them: one accepted, one rejected, one waiting its back-off.
    for number, state in zip(numbers, (status.Q_ACCEPTED, status.Q_REJECTED, status.Q_RETRY_WAIT), strict=False):
        database.execute_sql("UPDATE upload_queue_entry SET state = ? WHERE invoice_id = "
                             "(SELECT id FROM invoice WHERE provisional_number = ?)", (state, number))
    database.execute_sql("UPDATE invoice SET status = ? WHERE provisional_number = ?", (status.REJECTED, numbers[1]))
    full, quick = queue.counts(), queue.waiting_counts()
    assert (quick.waiting, quick.rejected) == (full.waiting, full.rejected) == (3, 1)


def test_waiting_counts_read_ranges_of_the_state_index(store, seller):
    issue_invoice(invoice_body())
    seen: list[str] = []
    connection = store.db.connection()
    connection.set_trace_callback(seen.append)
    try:
        queue.waiting_counts()
    finally:
        connection.set_trace_callback(None)
    plans = [" ".join(str(row[3]) for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql))
             for sql in seen if sql.lstrip().upper().startswith("SELECT")]
    # SEARCH: a range of an index (peewee names the queue t1); a SCAN would read every entry ever sent.
    assert plans and all("SEARCH" in plan and "SCAN" not in plan for plan in plans), plans

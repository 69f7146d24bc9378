"""Issuing one invoice runs a fixed, small number of SQL statements (issue 13: its latency must not grow with
the store or the invoices waiting): each read once, the inserts prepared once, no read back after a write.

A statement count is deterministic where a time is not; tests/benchmarks/bench_issue_latency.py times it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest

from app.services.issuing import issue_invoice
from app.store.models import Buyer, database
from tests.helpers.bodies import invoice_body

# Before the transaction: the seller, the taxpayer's state, the customer book's confirmations, the tax codes.
# In it (BEGIN IMMEDIATE ... COMMIT): limits + waiting totals, the channel, the number, the quota or the counter,
# the buyer, the invoice, its line, the search index (2), the queue entry, the audit entry (2).
DIRECT_STATEMENTS = 20
PLATFORM_STATEMENTS = 18


@contextmanager
def statements() -> Iterator[list[str]]:
    """The statements SQLite runs on the store's connection. A trigger's subprogram is reported again under its
    statement's text (or as a '--' comment): those repeats are not statements of their own."""
    seen: list[str] = []

    def trace(sql: str) -> None:
        if sql.startswith("--") or (seen and seen[-1] == sql):
            return
        seen.append(sql)

    connection = database.connection()
    connection.set_trace_callback(trace)
    try:
        yield seen
    finally:
        connection.set_trace_callback(None)


def counted(issue: Callable[[], Any]) -> list[str]:
    with statements() as seen:
        issue()
    return seen


def _checked_shape(seen: list[str]) -> None:
    assert seen.count("BEGIN IMMEDIATE") == 1 and seen[-1] == "COMMIT"
    begin = seen.index("BEGIN IMMEDIATE")
    # Nothing is written before the write lock is taken.
    assert not [s for s in seen[:begin] if not s.lstrip().upper().startswith("SELECT")]


def test_a_direct_issue_runs_a_fixed_small_number_of_statements(direct):
    issue_invoice(invoice_body(remarks="first"))  # the buyer is new once
    counts = []
    for n in range(3):
        seen = counted(partial(issue_invoice, invoice_body(remarks=f"#{n}")))
        _checked_shape(seen)
        counts.append(len(seen))
    assert counts == [counts[0]] * 3
    assert counts[0] <= DIRECT_STATEMENTS, "\n".join(seen)


def test_a_platform_issue_runs_a_fixed_small_number_of_statements(seller):
    issue_invoice(invoice_body(remarks="first"))
    counts = []
    for n in range(3):
        seen = counted(partial(issue_invoice, invoice_body(remarks=f"#{n}")))
        _checked_shape(seen)
        counts.append(len(seen))
    assert counts == [counts[0]] * 3
    assert counts[0] <= PLATFORM_STATEMENTS, "\n".join(seen)


def test_a_new_buyer_costs_one_statement_more(seller):
    issue_invoice(invoice_body(remarks="first"))
    known = len(counted(lambda: issue_invoice(invoice_body(remarks="known"))))
    new = len(counted(lambda: issue_invoice(invoice_body(buyer={"name": "北京新客户有限公司"}))))
    assert new == known + 1


@pytest.mark.parametrize("natural_person", [False, True])
def test_a_known_buyer_is_refreshed_as_before(seller, natural_person):
    """The newest details win, a blank one keeps the known one, confirmations given once stay, the use is
    counted; the name's initials and the book's own edit time are left as they were."""
    odd_id = "91110000600037341A"  # fails its check character: confirmed by the clerk
    first = {"name": "试点企业有限公司", "tax_id": odd_id, "address": "朝阳区", "phone": "010-1"}
    issue_invoice(invoice_body(buyer=first), confirmed_tax_ids=[odd_id])
    before = Buyer.get(Buyer.name == first["name"])
    again: dict[str, Any] = {"name": first["name"], "tax_id": odd_id, "phone": "010-2", "bank": "某银行"}
    if natural_person:
        again.update(natural_person=True)
    issue_invoice(invoice_body(buyer=again, remarks="again"))  # remembered: no confirmation given again
    after = Buyer.get(Buyer.id == before.id)
    assert Buyer.select().count() == 1
    assert (after.address, after.phone, after.bank, after.account) == ("朝阳区", "010-2", "某银行", "")
    assert after.natural_person is natural_person
    assert after.tax_id_confirmed is True and before.tax_id_confirmed is True
    assert after.use_count == 2 and after.last_used_at >= before.last_used_at
    assert (after.initials, after.updated_at, after.email) == (before.initials, before.updated_at, before.email)

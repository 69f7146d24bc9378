"""The list's search index kept whole: its state, and a rebuild from the invoices (app.store.invoice_search).

The index is derived from the invoices (never the other way), so a rebuild loses nothing: it is the answer
to a search that misses an invoice the list shows, after a damaged file was repaired or an outside tool
wrote invoices."""

from __future__ import annotations

from app.store import invoice_search
from app.store.invoice_search import IndexState
from app.store.models import database


def search_index_state() -> IndexState:
    return invoice_search.index_state()


def rebuild_search_index() -> IndexState:
    """Built again in one write transaction: a search during it sees the old index, after it the new one."""
    with database.atomic("IMMEDIATE"):
        invoice_search.rebuild_index()
    return invoice_search.index_state()


def tidy_search_index(pages: int = invoice_search.MERGE_PAGES) -> bool:
    """The daily round's (and the app's idle) merge of the index's segments, in its own short write
    transaction; whether there was anything to merge."""
    with database.atomic("IMMEDIATE"):
        return invoice_search.tidy(pages) > 0

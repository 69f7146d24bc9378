"""Many invoices fast, for list tests and the benchmark: peewee insert_many in one transaction.

The rows are what the issue service writes for the list (numbers, dates, buyers, totals,
status), without lines: the list never reads lines. Row i has number LX-{i:07d}.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from app.core.status import ACCEPTED, PENDING_UPLOAD
from app.store import invoice_search
from app.store.models import Invoice, database

SELLER = ("北京某某科技有限公司", "91110108MA0123456G")
BUYERS = ("北京客户贸易有限公司", "上海某某咨询有限公司", "天津港务物流有限公司", "ACME Trading Co")
CHUNK = 900  # 12 columns a row stays under SQLite's 32766 bound parameters
FIELDS = [Invoice.provisional_number, Invoice.status, Invoice.kind, Invoice.issued_at, Invoice.issued_date,
          Invoice.seller_name, Invoice.seller_tax_id, Invoice.buyer_name, Invoice.total_amount,
          Invoice.total_tax, Invoice.total_with_tax, Invoice.drawer, Invoice.content_hash]


def _row(i: int, start: datetime, accepted_every: int):
    at = start + timedelta(minutes=i)
    amount = Decimal(i % 9973) + Decimal("0.50")
    tax = (amount * Decimal("0.06")).quantize(Decimal("0.01"))
    status = ACCEPTED if accepted_every and i % accepted_every == 0 else PENDING_UPLOAD
    return (f"LX-{i:07d}", status, "normal", at.isoformat(), at.date().isoformat(), SELLER[0], SELLER[1],
            BUYERS[i % len(BUYERS)], amount, tax, amount + tax, "张三", f"{i:064x}")


def insert_invoices(count: int, first: int = 1, accepted_every: int = 0) -> None:
    """Insert invoices LX-{first} .. LX-{first + count - 1}; every accepted_every-th one accepted."""
    start = datetime.fromisoformat("2020-01-01T09:00:00+08:00")
    with database.atomic():
        for chunk_start in range(first, first + count, CHUNK):
            chunk_end = min(chunk_start + CHUNK, first + count)
            rows = [_row(i, start, accepted_every) for i in range(chunk_start, chunk_end)]
            Invoice.insert_many(rows, fields=FIELDS).execute()
        invoice_search.index_new_invoices()  # as every writer does, so the list's search finds them

"""What the catalog tests share: counting what the store holds, writing a spreadsheet."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]

from app.store.models import AuditEntry, Buyer, Item


def counts() -> tuple[int, int, int]:
    """(items, customers, audit entries) in the store."""
    return Item.select().count(), Buyer.select().count(), AuditEntry.select().count()


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path

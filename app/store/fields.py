"""Exact columns: money as integer fen, quantities and prices as decimal text.

SQLite has no decimal type; peewee's DecimalField would land in a REAL column and
lose fen, so amounts are stored as whole fen and unit prices as their exact digits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import peewee

from app.core.money import format_plain, to_money

if TYPE_CHECKING:
    # The stubs make fields generic in the Python value they hold; peewee's classes are not
    # subscriptable at run time, so the typed bases exist for the checker only.
    _MoneyBase = peewee.IntegerField[Decimal]
    _DecimalTextBase = peewee.TextField[Decimal | None]
else:
    _MoneyBase = peewee.IntegerField
    _DecimalTextBase = peewee.TextField


class MoneyField(_MoneyBase):
    """An amount in yuan (Decimal, two places), stored as whole fen in an INTEGER column."""

    if TYPE_CHECKING:
        def __new__(cls, *args: Any, **kwargs: Any) -> MoneyField: ...

    def db_value(self, value: Decimal | int | str | None) -> int | None:
        if value is None:
            return None
        return int(to_money(value) * 100)

    def python_value(self, value: int | str | None) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(Decimal("0.01"))


class DecimalTextField(_DecimalTextBase):
    """A quantity or unit price as its exact digits in a TEXT column; blank reads as None."""

    if TYPE_CHECKING:
        def __new__(cls, *args: Any, **kwargs: Any) -> DecimalTextField: ...

    def db_value(self, value: Decimal | int | str | None) -> str | None:
        if value is None:
            return None
        return format_plain(Decimal(value))

    def python_value(self, value: str | None) -> Decimal | None:
        if value is None or value == "":
            return None
        return Decimal(value)

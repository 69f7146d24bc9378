"""Exact columns: money as integer fen, quantities and prices as decimal text.

SQLite has no decimal type; peewee's DecimalField would land in a REAL column and
lose fen, so amounts are stored as whole fen and unit prices as their exact digits.
"""

from __future__ import annotations

from decimal import Decimal

import peewee

from app.core.money import format_plain, to_money


class MoneyField(peewee.IntegerField):
    def db_value(self, value):
        if value is None:
            return None
        return int(to_money(value) * 100)

    def python_value(self, value):
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(Decimal("0.01"))


class DecimalTextField(peewee.TextField):
    def db_value(self, value):
        if value is None:
            return None
        return format_plain(Decimal(value))

    def python_value(self, value):
        if value is None or value == "":
            return None
        return Decimal(value)

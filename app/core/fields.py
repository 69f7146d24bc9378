"""Field parsers shared by the 数电 rules (app.core.validation) and the legacy rules (app.core.legacy).

Each one reads a value as typed or sent, adds a FieldError naming the field when it is wrong,
and gives back what it could read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.core.clock import BEIJING
from app.core.errors import FieldError
from app.core.money import parse_decimal, to_money
from app.core.taxid import check_tax_id, normalize_tax_id

# What is sent carries real characters, never a \uXXXX escape (shudian-rules.md section 3).
UNICODE_ESCAPE = re.compile(r"\\[uU][0-9a-fA-F]{4}")
# C0 and C1 controls other than tab and line breaks, and lone surrogates (JSON can spell "\ud800").
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Either of the two: one search tells the (usual) clean text from one that needs the two above to say which.
SUSPECT = re.compile(f"{UNICODE_ESCAPE.pattern}|{UNPRINTABLE.pattern}")
# Quantities and unit prices: up to 13 decimals and 25 characters (platform-api-v2.md, shudian-rules.md section 3).
MAX_DECIMALS = 13
MAX_NUMBER_TEXT = 25
# No figure on an invoice reaches 10^15 (the capitals stop below it): refuse before arithmetic overflows.
MAX_INTEGER_DIGITS = 15


class Collector:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, zh: str, en: str, overridable: bool = False) -> None:
        self.errors.append(FieldError(field, zh, en, overridable))


def text(value: Any, field: str, out: Collector, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        out.add(field, "应为文本", "must be text")
        return ""
    cleaned = value.strip()
    if required and not cleaned:
        out.add(field, "不能为空", "is required")
    elif len(cleaned) > limit:
        out.add(field, f"不能超过{limit}个字", f"must be at most {limit} characters")
    elif not cleaned or SUSPECT.search(cleaned) is None:
        pass  # neither an escape nor an unprintable character: nothing more to look for
    elif UNICODE_ESCAPE.search(cleaned):
        out.add(field, "含有 \\uXXXX 形式的转义，请直接输入文字",
                "holds a \\uXXXX escape: type the characters themselves")
    elif (bad := UNPRINTABLE.search(cleaned)) is not None:
        # NUL and the other controls break the XML and the printed face; a lone surrogate cannot be stored as UTF-8.
        out.add(field, f"含有不可打印的字符（U+{ord(bad.group()):04X}）",
                f"holds a character that cannot be printed (U+{ord(bad.group()):04X})")
    return cleaned


def decimal(value: Any, field: str, out: Collector, required: bool) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            out.add(field, "不能为空", "is required")
        return None
    if isinstance(value, str) and len(value.strip()) > MAX_NUMBER_TEXT:
        out.add(field, f"不能超过{MAX_NUMBER_TEXT}个字符", f"must be at most {MAX_NUMBER_TEXT} characters")
        return None
    number = parse_decimal(value)
    if number is None:
        shown = value if isinstance(value, str) else type(value).__name__
        out.add(field, f"“{shown}”不是有效的数字", f"{shown!r} is not a number")
        return None
    if number != 0 and number.adjusted() >= MAX_INTEGER_DIGITS:
        out.add(field, "数值过大", "is too large")
        return None
    exponent = number.as_tuple().exponent  # an int: parse_decimal gives finite numbers only
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        out.add(field, f"最多{MAX_DECIMALS}位小数", f"at most {MAX_DECIMALS} decimal places")
        return None
    return number


def money(value: Any, field: str, out: Collector) -> Decimal | None:
    """A given amount: at most two places, as the protocol sends money."""
    number = decimal(value, field, out, required=False)
    if number is not None and number != to_money(number):
        out.add(field, "金额最多两位小数", "money has at most two decimal places")
        return None
    return number


def tax_id_field(value: Any, field: str, out: Collector, required: bool, confirmed: Iterable[str]) -> str:
    typed = text(value, field, out, 20 + 10)
    tax_id = normalize_tax_id(typed)
    if not tax_id:
        if required:
            out.add(field, "不能为空", "is required")
        return ""
    check = check_tax_id(tax_id)
    if check.ok:
        return tax_id
    if check.check_char_failed:
        if tax_id in confirmed:
            return tax_id
        out.add(field, check.message_zh, check.message_en, overridable=True)
    else:
        out.add(field, check.message_zh, check.message_en)
    return tax_id


def issued_at_field(value: Any, out: Collector) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=BEIJING)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        out.add("issued_at", "应为 ISO 8601 时间（如 2026-11-28T09:30:00+08:00）",
                "must be an ISO 8601 time (e.g. 2026-11-28T09:30:00+08:00)")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)



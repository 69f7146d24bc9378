"""Rules for correcting an issued invoice: cancellation (作废) and red-letter reversal (红字).

An issued invoice is never edited. Under 数电 rules (shudian-rules.md section 4) only a paper invoice may be
cancelled, within the calendar month it was issued in (Beijing time); everything else is reversed by a
red-letter invoice on a confirmation form (app/services/red_forms.py), whose total never exceeds what
remains of the original. Pure functions: the services apply them (app/services/lifecycle.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.core.clock import BEIJING
from app.core.errors import FieldError
from app.core.money import ZERO

# The reasons the tax-control systems offer for a red-letter invoice (红字发票开具原因).
RED_REASONS: dict[str, tuple[str, str]] = {
    "销货退回": ("销货退回", "goods returned"),
    "开票有误": ("开票有误", "issued in error"),
    "服务中止": ("服务中止", "service discontinued"),
    "销售折让": ("销售折让", "sales allowance"),
}
MAX_REASON_LENGTH = 200


def red_reason_label(reason: str, lang: str = "zh") -> str:
    """The label of a reason as stored on a red invoice (its Chinese name)."""
    labels = RED_REASONS.get(reason)
    if labels is None:
        return reason
    return labels[0] if lang == "zh" else labels[1]


def cancel_reason_error(reason: str | None) -> FieldError | None:
    if reason is None or not reason.strip():
        return FieldError("cancel_reason", "作废须填写原因", "a cancellation needs a reason")
    if len(reason.strip()) > MAX_REASON_LENGTH:
        return FieldError("cancel_reason", f"不能超过{MAX_REASON_LENGTH}个字",
                          f"must be at most {MAX_REASON_LENGTH} characters")
    return None


def same_month(issued_at: datetime, when: datetime) -> bool:
    """Both in one calendar month, reckoned in Beijing time (a month closes at midnight CST)."""
    a, b = issued_at.astimezone(BEIJING), when.astimezone(BEIJING)
    return (a.year, a.month) == (b.year, b.month)


def cancellation_window_error(issued_at: datetime, when: datetime) -> FieldError | None:
    if same_month(issued_at, when):
        return None
    month = issued_at.astimezone(BEIJING).strftime("%Y-%m")
    return FieldError("cancel", f"只能作废本月开具的发票（此发票开具于 {month}）；跨月的请开具红字发票",
                      f"only an invoice of the current month can be cancelled (this one is of {month}); "
                      "issue a red-letter invoice instead")


@dataclass(frozen=True)
class ReversalRoom:
    """How much of an original is left to reverse: its total less earlier red-letter invoices."""

    original_total: Decimal  # total with tax, positive
    reversed_so_far: Decimal  # sum of earlier red totals, as a positive number

    @property
    def remaining(self) -> Decimal:
        return max(self.original_total - self.reversed_so_far, ZERO)

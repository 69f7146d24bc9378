"""Rules for correcting an issued invoice: cancellation (作废) and red-letter reversal (红字).

An issued invoice is never edited. Before the platform has accepted it, and only within
the calendar month it was issued in (Beijing time), it may be cancelled; after acceptance
it can only be reversed by a red-letter invoice, whose total never exceeds what remains
of the original. Pure functions: the store's services apply them (app/store/lifecycle.py).
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
# Short ASCII aliases, so a script (or a keyboard without an IME) can name a reason.
RED_REASON_ALIASES = {"return": "销货退回", "error": "开票有误", "stopped": "服务中止", "allowance": "销售折让"}
MAX_REASON_LENGTH = 200


def red_reason_label(reason: str, lang: str = "zh") -> str:
    labels = RED_REASONS.get(reason)
    if labels is None:
        return reason
    return labels[0] if lang == "zh" else labels[1]


def normalize_red_reason(reason: str | None) -> str | None:
    """The reason as stored (Chinese), or None when it is not one of the four."""
    if reason is None:
        return None
    text = reason.strip()
    text = RED_REASON_ALIASES.get(text.lower(), text)
    return text if text in RED_REASONS else None


def red_reason_error(reason: str | None) -> FieldError | None:
    if reason is None or not reason.strip():
        return FieldError("red_reason", "请选择红字发票开具原因（销货退回 / 开票有误 / 服务中止 / 销售折让）",
                          "is required (goods returned / issued in error / service discontinued / sales allowance)")
    if normalize_red_reason(reason) is None:
        return FieldError("red_reason", f"“{reason}”不是红字发票开具原因（销货退回 / 开票有误 / 服务中止 / 销售折让）",
                          f"{reason!r} is not a reason (销货退回 return / 开票有误 error / 服务中止 stopped / "
                          "销售折让 allowance)")
    return None


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


def reversal_error(room: ReversalRoom, red_total: Decimal) -> FieldError | None:
    """red_total is the new red invoice's total with tax (negative)."""
    if red_total >= 0:
        return FieldError("total_with_tax", "红字发票价税合计应为负数", "must be negative on a red-letter invoice")
    if -red_total > room.remaining:
        return FieldError("total_with_tax",
                          f"红字金额 {-red_total} 超过原发票可冲红余额 {room.remaining}"
                          f"（原发票 {room.original_total}，已冲红 {room.reversed_so_far}）",
                          f"reverses {-red_total}, more than the {room.remaining} left of the original "
                          f"({room.original_total}, already reversed {room.reversed_so_far})")
    return None

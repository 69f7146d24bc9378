"""Time in Beijing, as the invoices and the audit log record it."""

from __future__ import annotations

from datetime import datetime

from app.core.invoice import BEIJING


def now() -> datetime:
    return datetime.now(BEIJING).replace(microsecond=0)


def now_iso() -> str:
    return datetime.now(BEIJING).isoformat(timespec="milliseconds")

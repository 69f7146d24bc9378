"""The platform client: an interface (PlatformClient, protocol v2) and what it raises and returns.

Everything that talks to the online platform (queue worker, connectivity monitor,
reconciliation, cancellation look-ups, stock, months) goes through a PlatformClient. The adapter
over HTTP is app.platform.http_client.HttpPlatformClient; another platform gets another adapter
behind this same interface.

Failures, as the contract classifies them (docs/platform-api-v2.md):

- TransientFailure: 429/500/502/503/504, a timeout, a refused or reset connection, a body
  that is not the protocol's JSON. Retry later, never a rejection. `outcome_unknown` is True
  when the request may have reached the platform (a timeout or a dropped connection after
  it was sent, or a garbled answer): the write is asked again under the same key or request id,
  which the platform answers with its first answer.
  `retry_after` (seconds) is the platform's Retry-After, when it gave one.
- Unauthorized: 401, a missing, wrong or expired token. Stop sending; nothing was done.
- KeyConflict (409) and Rejected (422): permanent; Rejected.details names the fields.
- TaxpayerRefused (403 taxpayer_blocked): the taxpayer may not issue now; nothing was done.
- ResultsExpired (410 on upload results): look each invoice up by number; MonthClosed (410 on a
  monthly summary): the month's figures are fixed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.errors import DeskError, field_label, split_message
from app.core.taxcodes import TaxCode


class PlatformError(DeskError):
    """Any failure talking to the platform."""


class TransientFailure(PlatformError):
    def __init__(self, message: str, message_en: str = "", *, outcome_unknown: bool = False,
                 retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message, message_en)
        self.outcome_unknown = outcome_unknown
        self.retry_after = retry_after
        self.status = status


class Unauthorized(PlatformError):
    """401: the token is missing, wrong or expired."""


class KeyConflict(PlatformError):
    """409: this idempotency key was used before with a different body."""


class Rejected(PlatformError):
    """422: the invoice breaks a rule; details is [{"field": F, "message": M}, ...]."""

    code: str = ""  # the platform's code of the rule broken (invalid, month_closed, ...), when it gave one

    def __init__(self, details: list[dict[str, str]]) -> None:
        self.details = details
        # Each field by the clerk's name for it (the ids stay in details); the platform's "中文 (English)" split.
        zh, en = [], []
        for d in details:
            field = str(d.get("field") or "")
            said_zh, said_en = split_message(str(d.get("message") or ""))
            said_en = str(d.get("message_en") or "") or said_en
            zh.append(f"{field_label(field)}：{said_zh}" if field else said_zh)
            en.append(f"{field_label(field, 'en')}: {said_en}" if field else said_en)
        super().__init__("；".join(zh) or "不符合平台规则", "; ".join(en) or "invalid")


class ResultsExpired(TransientFailure):
    """410 expired: the results of an upload are kept 12 hours; look each invoice up by its number."""


class QuotaExceeded(Rejected):
    """422 quota_exceeded: more than the month has left to download."""


class MonthClosed(PlatformError):
    """410 month_closed: the month's figures are fixed (at 00:00 on the 13th); `platform` holds them when given."""

    def __init__(self, message: str, platform: dict[str, Any] | None = None, *, message_en: str = "") -> None:
        super().__init__(message, message_en)
        self.platform = platform


class TaxpayerRefused(PlatformError):
    """403 taxpayer_blocked: the taxpayer may not issue now (status or risk); nothing was done. Asked again
    later, like a transient failure, while the desk shows why (app/services/taxpayer.py)."""

    retry_after: float | None = None


@dataclass(frozen=True)
class Taxpayer:
    tax_id: str
    name: str
    status: str  # "03" normal
    taxpayer_type: str  # general / small
    channels: tuple[str, ...]
    risk: str  # none / blocked
    kinds: tuple[str, ...]

    @property
    def may_issue(self) -> bool:
        """A taxpayer not in status 03 (or 09), or flagged high risk, may not issue."""
        return self.status in ("03", "09") and self.risk != "blocked"


@dataclass(frozen=True)
class NumberGrant:
    request_id: str
    first: str
    last: str
    count: int
    year: int


@dataclass(frozen=True)
class QuotaStatus:
    period: str
    month_total: Decimal
    available: Decimal
    downloaded: Decimal
    downloaded_unused: Decimal
    suspended: bool


@dataclass(frozen=True)
class QuotaGrant:
    request_id: str
    valid_from: date
    valid_to: date
    downloaded_unused: Decimal


@dataclass(frozen=True)
class UploadResult:
    number: str
    status: str  # accepted / processing / rejected / duplicate
    accepted_at: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""  # the code of the rule a rejected invoice broke (upload_too_late, month_closed, ...)

    @property
    def is_accepted(self) -> bool:
        return self.status in ("accepted", "duplicate")


@dataclass(frozen=True)
class SummaryAnswer:
    confirmed: bool
    platform: dict[str, Any] | None = None  # the platform's figures on a mismatch


@dataclass(frozen=True)
class RecordPage:
    items: list[dict[str, Any]]  # records: the invoice body as sent + key, platform_id, official_number, accepted_at
    next: str | None  # cursor for the next page (pass as `after`), None on the last page


@dataclass(frozen=True)
class TaxCodeUpdate:
    """The answer of GET /v2/tax-codes, checked: the whole table or what changed since the version asked about."""

    version: str  # the version of the platform's table
    codes: tuple[TaxCode, ...]  # rows to insert or replace (each with version = this version)
    withdrawn: tuple[str, ...]  # codes no longer usable


RED_FORM_STATUSES = tuple(f"{i:02d}" for i in range(1, 11))  # 01 .. 10 (shudian-rules.md section 4)
RED_FORM_REASONS = ("01", "02", "03", "04")
RED_FORM_DECISIONS = ("agree", "disagree", "revoke")


@dataclass(frozen=True)
class RedFormLine:
    original_line_no: int  # the blue line it reverses
    quantity: str | None  # negative, or None (销售折让, 开票有误 by amount)
    amount: Decimal  # negative
    tax: Decimal  # zero or negative


@dataclass(frozen=True)
class RedForm:
    """A red-letter confirmation form (红字确认单) as the platform answered it, checked."""

    uuid: str
    form_number: str  # 20 digits
    status: str  # 01 .. 10
    raised_by: str  # seller / buyer
    original_number: str  # the blue invoice
    reason: str  # 01 .. 04
    lines: tuple[RedFormLine, ...]
    total_amount: Decimal  # negative
    total_tax: Decimal  # zero or negative
    created_at: str
    updated_at: str
    expires_at: str | None  # while it waits (02, 03)
    red_number: str | None  # the red invoice issued on it
    request_id: str | None = None

    @property
    def usable(self) -> bool:
        """A red invoice may be issued on it: 01 or 04, none issued yet."""
        return self.status in ("01", "04") and self.red_number is None


class PlatformClient(ABC):
    """What the desk needs from the platform (protocol v2). Methods raise the PlatformError subclasses above,
    and return only answers they have checked against what was asked.

    An instance is safe to use from one thread at a time; give each thread (worker, monitor,
    reconciliation) its own instance (see app.services.settings.make_client()).
    """

    @abstractmethod
    def health(self) -> dict[str, Any]:
        """GET /v2/health: {"status": "ok", "time": T}. Raises TransientFailure when not healthy."""

    @abstractmethod
    def taxpayer(self) -> Taxpayer:
        """GET /v2/taxpayer."""

    @abstractmethod
    def tax_codes(self, since: str | None) -> TaxCodeUpdate:
        """GET /v2/tax-codes?since=VERSION: the classification table in force, or what changed since VERSION;
        one row that does not fit makes the whole answer a TransientFailure."""

    @abstractmethod
    def draw_numbers(self, request_id: str, count: int) -> NumberGrant:
        """POST /v2/number-blocks (direct channel)."""

    @abstractmethod
    def quota(self) -> QuotaStatus:
        """GET /v2/quota (direct channel)."""

    @abstractmethod
    def change_quota(self, request_id: str, action: str, amount: Decimal) -> QuotaGrant:
        """POST /v2/quota: download or return a slice (direct channel)."""

    @abstractmethod
    def upload(self, request_id: str, invoices: Sequence[dict[str, Any]]) -> str:
        """POST /v2/uploads, 1 to 100 invoices: the acceptance id (direct channel)."""

    @abstractmethod
    def upload_results(self, acceptance_id: str, numbers: Sequence[str]) -> list[UploadResult]:
        """GET /v2/uploads/{A}: one result per number sent, in order; ResultsExpired after 12 hours."""

    @abstractmethod
    def invoice_by_number(self, number: str) -> dict[str, Any] | None:
        """GET /v2/invoices/{NUMBER}: the record, or None when the platform holds no such invoice."""

    @abstractmethod
    def issue(self, key: str, invoice: dict[str, Any]) -> dict[str, Any]:
        """POST /v2/issue under Idempotency-Key (platform channel): the record, with the platform's number."""

    @abstractmethod
    def list_invoices(self, seller_tax_id: str, date_from: str, date_to: str, *, after: str | None = None,
                      limit: int = 500) -> RecordPage:
        """GET /v2/invoices: one page of the seller's invoices issued in [date_from, date_to]."""

    @abstractmethod
    def confirm_month(self, period: str, count: int, total_amount: Decimal, total_tax: Decimal) -> SummaryAnswer:
        """POST /v2/monthly-summaries; MonthClosed once the month is closed."""

    @abstractmethod
    def withdraw_month(self, period: str) -> None:
        """DELETE /v2/monthly-summaries/{YYYYMM}."""

    @abstractmethod
    def raise_red_form(self, request_id: str, original_number: str, reason: str,
                       lines: Sequence[dict[str, Any]]) -> RedForm:
        """POST /v2/red-forms: the form raised (01, or 02 when the buyer must confirm); the same request id
        answers the first form again."""

    @abstractmethod
    def red_forms(self, status: str | None = None) -> list[RedForm]:
        """GET /v2/red-forms[?status=S]: this seller's forms, the buyer's included, oldest first."""

    @abstractmethod
    def red_form(self, form_uuid: str) -> RedForm | None:
        """GET /v2/red-forms/{U}: the form, or None when the platform holds no such form."""

    @abstractmethod
    def decide_red_form(self, form_uuid: str, request_id: str, decision: str) -> RedForm:
        """POST /v2/red-forms/{U}/decision: agree / disagree a 03 form, revoke the seller's own."""

    def iter_invoices(self, seller_tax_id: str, date_from: str, date_to: str, *, page_size: int = 500
                      ) -> Iterator[dict[str, Any]]:
        """Every record of the period, page after page."""
        after: str | None = None
        while True:
            page = self.list_invoices(seller_tax_id, date_from, date_to, after=after, limit=page_size)
            yield from page.items
            if not page.next:
                return
            after = page.next

    def close(self) -> None:  # noqa: B027  (optional: a client without connections need not override it)
        """Release connections; the client may be used again afterwards."""


def mask_token(token: str | None) -> str:
    """A token as it may be shown or logged: never in full."""
    if not token:
        return "(none)"
    if len(token) <= 8:
        return "*" * len(token)
    return f"{token[:3]}…{token[-2:]}"

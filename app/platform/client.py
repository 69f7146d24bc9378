"""The platform client: an interface (PlatformClient) and what it raises and returns.

Everything that talks to the online platform (queue worker, connectivity monitor,
reconciliation, cancellation look-ups) goes through a PlatformClient. The adapter for
protocol v1 over HTTP is app.platform.http_client.HttpPlatformClient; another platform gets
another adapter behind this same interface.

Failures, as the spec classifies them (docs/platform-api-v1.md):

- TransientFailure: 429/500/502/503/504, a timeout, a refused or reset connection, a body
  that is not the protocol's JSON. Retry later, never a rejection. `outcome_unknown` is True
  when the request may have reached the platform (a timeout or a dropped connection after
  it was sent, or a garbled answer): ask with lookup() before sending it again.
  `retry_after` (seconds) is the platform's Retry-After, when it gave one.
- Unauthorized: 401, a missing, wrong or expired token. Stop sending; nothing was done.
- KeyConflict (409) and Rejected (422): permanent; Rejected.details names the fields.
- BatchUnsupported: the platform has no batch endpoint (404/405): send one by one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import DeskError
from app.core.taxcodes import TaxCode

ACCEPTED = "accepted"
DUPLICATE = "duplicate"  # a replay of a key the platform accepted before: counts as accepted
REJECTED = "rejected"

MAX_BATCH = 500  # the protocol's limit on items per batch


class PlatformError(DeskError):
    """Any failure talking to the platform."""


class TransientFailure(PlatformError):
    def __init__(self, message: str, *, outcome_unknown: bool = False, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.outcome_unknown = outcome_unknown
        self.retry_after = retry_after
        self.status = status


class Unauthorized(PlatformError):
    """401: the token is missing, wrong or expired."""


class KeyConflict(PlatformError):
    """409: this idempotency key was used before with a different body."""


class Rejected(PlatformError):
    """422: the invoice breaks a rule; details is [{"field": F, "message": M}, ...]."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        self.details = details
        super().__init__("; ".join(f"{d.get('field', '?')}: {d.get('message', '')}" for d in details) or "invalid")


class BatchUnsupported(PlatformError):
    """The platform does not offer /v1/invoices/batch."""


@dataclass(frozen=True)
class SubmitResult:
    """The platform's answer for one invoice (from submit or one item of submit_batch)."""

    key: str
    status: str  # ACCEPTED, DUPLICATE or REJECTED
    platform_id: str | None = None
    official_number: str | None = None
    accepted_at: str | None = None
    details: list[dict[str, str]] = field(default_factory=list)  # why, when rejected

    @property
    def is_accepted(self) -> bool:
        return self.status in (ACCEPTED, DUPLICATE)


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


class PlatformClient(ABC):
    """What the desk needs from the platform. Methods raise the PlatformError subclasses above.

    An instance is safe to use from one thread at a time; give each thread (worker, monitor,
    reconciliation) its own instance (see make_client()).
    """

    @abstractmethod
    def health(self) -> dict[str, Any]:
        """GET /v1/health: {"status": "ok", "time": T}. Raises TransientFailure when not healthy."""

    @abstractmethod
    def submit(self, key: str, invoice: dict[str, Any]) -> SubmitResult:
        """POST /v1/invoices with Idempotency-Key. Accepted or replay: a SubmitResult; else raises."""

    @abstractmethod
    def submit_batch(self, items: list[tuple[str, dict[str, Any]]]) -> list[SubmitResult]:
        """POST /v1/invoices/batch, at most MAX_BATCH (key, invoice) pairs: one result per item, in order."""

    @abstractmethod
    def lookup(self, key: str) -> dict[str, Any] | None:
        """GET /v1/invoices/{key}: the platform's record, or None when it does not hold that key."""

    @abstractmethod
    def list_invoices(self, seller_tax_id: str, date_from: str, date_to: str, *, after: str | None = None,
                      limit: int = 500) -> RecordPage:
        """GET /v1/invoices: one page of the seller's accepted invoices issued in [date_from, date_to]."""

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

    def tax_codes(self, since: str | None) -> TaxCodeUpdate:
        """GET /v2/tax-codes?since=VERSION: the classification table in force, or what changed since VERSION.

        Checked in full: one row that does not fit makes the whole answer a TransientFailure. A client
        for a platform without this call keeps this default, which says so."""
        raise TransientFailure("平台不提供税收分类编码表 (the platform does not offer the tax classification table)")

    def close(self) -> None:  # noqa: B027  (optional: a client without connections need not override it)
        """Release connections; the client may be used again afterwards."""


def mask_token(token: str | None) -> str:
    """A token as it may be shown or logged: never in full."""
    if not token:
        return "(none)"
    if len(token) <= 8:
        return "*" * len(token)
    return f"{token[:3]}…{token[-2:]}"

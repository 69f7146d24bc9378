"""Protocol v2's calls (docs/platform-api-v2.md) over the same transport as HttpPlatformClient.

Every answer is checked against what was asked before anything of it is returned: the request id
echoed, the count and the numbers of a block, one upload result per invoice sent and in the order
sent, the formats of numbers, money and times. An answer that does not fit is a TransientFailure
(never an acceptance): the caller asks again later under the same request id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from app.core.money import parse_decimal, to_money
from app.core.official_numbers import CHANNEL_DIRECT, MAX_BLOCK, block_count, is_official_number, parse_number
from app.platform.client import KeyConflict, Rejected, TransientFailure
from app.platform.http_client import HttpPlatformClient

MAX_UPLOAD = 100  # invoices a call (shudian-rules.md section 5)
UPLOAD_STATUSES = ("accepted", "processing", "rejected", "duplicate")
TAXPAYER_FIELDS = ("tax_id", "name", "status", "taxpayer_type", "channels", "risk", "kinds")


class ResultsExpired(TransientFailure):
    """410 expired: the results of an upload are kept 12 hours; look each invoice up by its number."""


class QuotaExceeded(Rejected):
    """422 quota_exceeded: more than the month has left to download."""


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

    @property
    def is_accepted(self) -> bool:
        return self.status in ("accepted", "duplicate")


@dataclass(frozen=True)
class SummaryAnswer:
    confirmed: bool
    platform: dict[str, Any] | None = None  # the platform's figures on a mismatch


def _money(value: Any) -> Decimal | None:
    if not isinstance(value, str):
        return None
    amount = parse_decimal(value)
    return amount if amount is not None and amount == to_money(amount) else None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _moment(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


class HttpV2Client(HttpPlatformClient):
    """The desk's client of protocol v2: both channels."""

    def _unfit(self, status: int, what: str, write: bool) -> TransientFailure:
        return self._garbled(status, what, write)

    @staticmethod
    def _refused(status: int, data: Any) -> None:
        """The final refusals every write may get: 409 and 422 with details."""
        if status == 409:
            raise KeyConflict("the request id was used with a different body (409 key_conflict)")
        if status == 422 and isinstance(data, dict):
            details = list(data.get("details") or [])
            if data.get("error") == "quota_exceeded":
                raise QuotaExceeded(details or [{"field": "amount", "message": str(data.get("message", ""))}])
            raise Rejected(details or [{"field": "", "message": str(data.get("message", ""))}])

    # --- the taxpayer -----------------------------------------------------------------------

    def taxpayer(self) -> Taxpayer:
        status, data, _ = self._request("GET", "/v2/taxpayer")
        if status == 200 and isinstance(data, dict) and all(k in data for k in TAXPAYER_FIELDS):
            texts = [data[k] for k in ("tax_id", "name", "status", "taxpayer_type", "risk")]
            lists = [data[k] for k in ("channels", "kinds")]
            if all(isinstance(t, str) for t in texts) and all(
                    isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists):
                return Taxpayer(tax_id=data["tax_id"], name=data["name"], status=data["status"],
                                taxpayer_type=data["taxpayer_type"], channels=tuple(data["channels"]),
                                risk=data["risk"], kinds=tuple(data["kinds"]))
        raise self._unfit(status, "taxpayer", False)

    # --- numbers and quota (direct channel) ---------------------------------------------------

    def draw_numbers(self, request_id: str, count: int) -> NumberGrant:
        if not 0 < count <= MAX_BLOCK:
            raise ValueError(f"a block holds 1 to {MAX_BLOCK} numbers, not {count}")
        status, data, _ = self._request("POST", "/v2/number-blocks", {"request_id": request_id, "count": count})
        self._refused(status, data)
        if status in (200, 201) and isinstance(data, dict):
            first, last = data.get("first"), data.get("last")
            if (data.get("request_id") == request_id and data.get("count") == count
                    and is_official_number(first) and is_official_number(last)
                    and block_count(str(first), str(last)) == count):
                parts = parse_number(str(first))
                assert parts is not None
                if parts.channel == CHANNEL_DIRECT and data.get("year") == parts.year:
                    return NumberGrant(request_id, str(first), str(last), count, parts.year)
        raise self._unfit(status, "number-blocks", True)

    def quota(self) -> QuotaStatus:
        status, data, _ = self._request("GET", "/v2/quota")
        if status == 200 and isinstance(data, dict):
            figures = [_money(data.get(k)) for k in ("month_total", "available", "downloaded", "downloaded_unused")]
            period = data.get("period")
            if (isinstance(period, str) and len(period) == 6 and period.isdigit()
                    and all(f is not None for f in figures) and isinstance(data.get("suspended"), bool)):
                total, available, downloaded, unused = (f for f in figures if f is not None)
                return QuotaStatus(period, total, available, downloaded, unused, data["suspended"])
        raise self._unfit(status, "quota", False)

    def change_quota(self, request_id: str, action: str, amount: Decimal) -> QuotaGrant:
        if action not in ("download", "return"):
            raise ValueError(f"quota action {action!r}")
        body = {"request_id": request_id, "action": action, "amount": f"{to_money(amount):f}"}
        status, data, _ = self._request("POST", "/v2/quota", body)
        self._refused(status, data)
        if status in (200, 201) and isinstance(data, dict) and data.get("request_id") == request_id:
            start, end, unused = _date(data.get("valid_from")), _date(data.get("valid_to")), _money(
                data.get("downloaded_unused"))
            if start is not None and end is not None and unused is not None and start <= end:
                return QuotaGrant(request_id, start, end, unused)
        raise self._unfit(status, "quota", True)

    # --- uploads (direct channel) --------------------------------------------------------------

    def upload(self, request_id: str, invoices: Sequence[dict[str, Any]]) -> str:
        """POST /v2/uploads: the acceptance id (受理流水号) under which the results are read."""
        if not 0 < len(invoices) <= MAX_UPLOAD:
            raise ValueError(f"1 to {MAX_UPLOAD} invoices a call, not {len(invoices)}")
        body = {"request_id": request_id, "invoices": list(invoices)}
        status, data, _ = self._request("POST", "/v2/uploads", body, timeout=self.batch_timeout)
        self._refused(status, data)
        if status in (200, 202) and isinstance(data, dict) and data.get("request_id") == request_id:
            acceptance = data.get("acceptance_id")
            if isinstance(acceptance, str) and 0 < len(acceptance) <= 64:
                return acceptance
        raise self._unfit(status, "uploads", True)

    def upload_results(self, acceptance_id: str, numbers: Sequence[str]) -> list[UploadResult]:
        """One result per number sent, in the order sent; anything else is not believed."""
        status, data, _ = self._request("GET", f"/v2/uploads/{quote(acceptance_id, safe='')}")
        if status == 410:
            raise ResultsExpired(f"平台已不保留受理结果 (results of {acceptance_id} expired): look them up by number")
        if status == 200 and isinstance(data, dict) and data.get("acceptance_id") == acceptance_id:
            raw = data.get("results")
            if isinstance(raw, list) and len(raw) == len(numbers):
                results = [self._upload_result(item, number) for item, number in zip(raw, numbers, strict=True)]
                if all(r is not None for r in results):
                    return [r for r in results if r is not None]
        raise self._unfit(status, "upload results", False)

    @staticmethod
    def _upload_result(item: Any, number: str) -> UploadResult | None:
        if not isinstance(item, dict) or item.get("number") != number or item.get("status") not in UPLOAD_STATUSES:
            return None
        accepted_at = item.get("accepted_at")
        if item["status"] in ("accepted", "duplicate") and not _moment(accepted_at):
            return None
        details = item.get("details") or []
        if not isinstance(details, list):
            return None
        return UploadResult(number, item["status"], accepted_at if isinstance(accepted_at, str) else None,
                            [d for d in details if isinstance(d, dict)])

    def invoice_by_number(self, number: str) -> dict[str, Any] | None:
        """GET /v2/invoices/{NUMBER}: the platform's record, or None when it holds no such invoice."""
        if not is_official_number(number):
            raise ValueError(f"{number!r} is not an official number")
        status, data, _ = self._request("GET", f"/v2/invoices/{number}")
        if status == 404:
            return None
        if status == 200 and isinstance(data, dict) and data.get("number") == number \
                and data.get("status") in ("accepted", "reversed_in_full", "reversed_in_part"):
            return data
        raise self._unfit(status, "invoice look-up", False)

    # --- the platform channel ----------------------------------------------------------------

    def issue(self, key: str, invoice: dict[str, Any]) -> dict[str, Any]:
        """POST /v2/issue: the platform's record of the invoice it issued, its number in `number`."""
        status, data, _ = self._request("POST", "/v2/issue", invoice, headers={"Idempotency-Key": key})
        self._refused(status, data)
        if status in (200, 201) and isinstance(data, dict):
            number = data.get("number")
            same = all(data.get(k) == invoice.get(k) for k in ("total_amount", "total_tax", "total_with_tax"))
            seller, ours = data.get("seller"), invoice.get("seller")
            same_seller = isinstance(seller, dict) and isinstance(ours, dict) and seller.get("tax_id") == ours.get(
                "tax_id")
            if (is_official_number(number) and same and data.get("key", key) == key and same_seller
                    and _moment(data.get("accepted_at"))):
                return data
        raise self._unfit(status, "issue", True)

    # --- the monthly summary ------------------------------------------------------------------

    def confirm_month(self, period: str, count: int, total_amount: Decimal, total_tax: Decimal) -> SummaryAnswer:
        body = {"period": period, "count": count, "total_amount": f"{to_money(total_amount):f}",
                "total_tax": f"{to_money(total_tax):f}"}
        status, data, _ = self._request("POST", "/v2/monthly-summaries", body)
        if status == 200 and isinstance(data, dict) and data.get("status") == "confirmed":
            return SummaryAnswer(True)
        if status == 409 and isinstance(data, dict) and data.get("error") == "mismatch" \
                and isinstance(data.get("platform"), dict):
            return SummaryAnswer(False, data["platform"])
        self._refused(status, data)
        raise self._unfit(status, "monthly summary", True)

    def withdraw_month(self, period: str) -> None:
        status, data, _ = self._request("DELETE", f"/v2/monthly-summaries/{quote(period, safe='')}")
        if status in (200, 204):
            return
        self._refused(status, data)
        raise self._unfit(status, "monthly summary withdrawal", True)

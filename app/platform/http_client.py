"""HttpPlatformClient: protocol v2 (docs/platform-api-v2.md), both channels, over HttpTransport.

Every answer is checked against what was asked before anything of it is returned: the request id
echoed, the count and the numbers of a block, one upload result per invoice sent and in the order
sent, the formats of numbers, money and times. An answer that does not fit is a TransientFailure
(never an acceptance): the caller asks again later under the same request id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from app.core.clock import in_beijing
from app.core.errors import split_message
from app.core.money import parse_decimal, to_money
from app.core.official_numbers import CHANNEL_DIRECT, MAX_BLOCK, block_count, is_official_number, parse_number
from app.core.taxcodes import CODE_LENGTH, TaxCode, code_from_wire
from app.platform.client import (
    RED_FORM_DECISIONS,
    RED_FORM_REASONS,
    RED_FORM_STATUSES,
    KeyConflict,
    MonthClosed,
    NumberGrant,
    PlatformClient,
    QuotaExceeded,
    QuotaGrant,
    QuotaStatus,
    RecordPage,
    RedForm,
    RedFormLine,
    Rejected,
    ResultsExpired,
    SummaryAnswer,
    TaxCodeUpdate,
    Taxpayer,
    TaxpayerRefused,
    TransientFailure,
    UploadResult,
)
from app.platform.transport import HttpTransport

MAX_UPLOAD = 100  # invoices a call (shudian-rules.md section 5)
MAX_PAGE = 1000  # records a page of GET /v2/invoices
MAX_VERSION_LENGTH = 40  # a table version ("32.0") as the platform names it: short, printable, one word
UPLOAD_STATUSES = ("accepted", "processing", "rejected", "duplicate")
RECORD_STATUSES = ("accepted", "reversed_in_full", "reversed_in_part")
MAX_UUID = 64
# What each decision leaves a form in (the platform's answer must say so).
DECIDED = {"agree": ("04",), "disagree": ("06",), "revoke": ("08", "09")}
TAXPAYER_FIELDS = ("tax_id", "name", "status", "taxpayer_type", "channels", "risk", "kinds")


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


def _protocol_error(data: Any) -> bool:
    """The protocol's error body: {"error": CODE, "message": TEXT, "details": [...]} (details may be left out)."""
    return (isinstance(data, dict) and isinstance(data.get("error"), str) and 0 < len(data["error"]) <= 40
            and isinstance(data.get("details", []), list))


def _same_moment(one: Any, other: Any) -> bool:
    """Two times with offset naming the same moment (the platform may write it another way)."""
    if one == other:
        return True
    if not (_moment(one) and _moment(other)):
        return False
    try:
        return bool(datetime.fromisoformat(one) == datetime.fromisoformat(other))
    except OverflowError:
        return False


def _number_year(number: str) -> int | None:
    parts = parse_number(number)
    return parts.year if parts is not None else None


def _issue_year(issued_at: Any) -> int | None:
    """The Beijing year of a time with offset, None when it is not one."""
    if not _moment(issued_at):
        return None
    try:
        return in_beijing(datetime.fromisoformat(issued_at)).year
    except OverflowError:
        return None


def _acceptance_id(value: Any) -> bool:
    """An acceptance id (受理流水号) is opaque but a word: letters, digits, `-_.:`, at most 64 characters."""
    return isinstance(value, str) and 0 < len(value) <= 64 and value.isascii() and all(
        c.isalnum() or c in "-_.:" for c in value)


class HttpPlatformClient(HttpTransport, PlatformClient):
    """The desk's client of protocol v2: both channels. Give each thread its own instance."""

    def health(self) -> dict[str, Any]:
        status, data, _ = self._request("GET", "/v2/health", auth=False)
        if status != 200 or not isinstance(data, dict) or data.get("status") != "ok":
            raise self._garbled(status, "health", False)
        return data

    def list_invoices(self, seller_tax_id: str, date_from: str, date_to: str, *, after: str | None = None,
                      limit: int = 500) -> RecordPage:
        query = {"from": date_from, "to": date_to, "limit": str(min(max(limit, 1), MAX_PAGE))}
        if after:
            query["after"] = after
        status, data, _ = self._request("GET", "/v2/invoices?" + urlencode(query))
        if status == 200 and isinstance(data, dict) and isinstance(data.get("items"), list) \
                and (data.get("next") is None or isinstance(data.get("next"), str)):
            items = data["items"]
            # Every record must be this seller's, of the period asked, under an official number.
            if all(isinstance(r, dict) and is_official_number(r.get("number")) and isinstance(r.get("seller"), dict)
                   and r["seller"].get("tax_id") == seller_tax_id
                   and date_from <= str(r.get("issued_at", ""))[:10] <= date_to for r in items):
                return RecordPage(items=items, next=data.get("next"))
        raise self._garbled(status, "list", False)

    def tax_codes(self, since: str | None) -> TaxCodeUpdate:
        path = "/v2/tax-codes" + ("?" + urlencode({"since": since}) if since else "")
        status, data, _ = self._request("GET", path)
        update = self._tax_code_update(data) if status == 200 else None
        if update is None:
            raise self._garbled(status, "tax-codes", False)
        return update

    @staticmethod
    def _tax_code_update(data: Any) -> TaxCodeUpdate | None:
        """The answer checked in full, or None: a row that does not fit makes all of it untrusted."""
        if not isinstance(data, dict):
            return None
        version, raw_codes, withdrawn = data.get("version"), data.get("codes"), data.get("withdrawn")
        if not (isinstance(version, str) and version.strip() and len(version) <= MAX_VERSION_LENGTH
                and version.isprintable() and not any(c.isspace() for c in version)):
            return None
        if not (isinstance(raw_codes, list) and isinstance(withdrawn, list)):
            return None
        if not all(isinstance(c, str) and len(c) == CODE_LENGTH and c.isascii() and c.isdigit() for c in withdrawn):
            return None
        codes: list[TaxCode] = []
        for raw in raw_codes:
            code = code_from_wire(raw, version)
            if code is None or not code.code.isascii():  # isdigit() alone lets full-width digits through
                return None
            codes.append(code)
        if len({code.code for code in codes}) != len(codes):  # the same code twice: which one is meant?
            return None
        return TaxCodeUpdate(version=version, codes=tuple(codes), withdrawn=tuple(dict.fromkeys(withdrawn)))

    def _unfit(self, status: int, what: str, write: bool) -> TransientFailure:
        return self._garbled(status, what, write)

    @staticmethod
    def _refused(status: int, data: Any) -> None:
        """The final refusals every write may get: 409 and 422 with details."""
        if status in (409, 422) and not _protocol_error(data):
            return  # not the protocol's error: the caller finds it unfit (transient), never a refusal
        if status == 409:
            raise KeyConflict("该请求号已用于内容不同的请求（409 key_conflict）",
                              "the request id was used with a different body (409 key_conflict)")
        if status == 403 and isinstance(data, dict) and data.get("error") == "taxpayer_blocked":
            said_zh, said_en = split_message(str(data.get("message", ""))[:200])
            raise TaxpayerRefused("平台拒绝：纳税人当前不能开票" + (f"（{said_zh}）" if said_zh else ""),
                                  "the platform refuses: the taxpayer may not issue now"
                                  + (f" ({said_en})" if said_en else ""))
        if status == 422 and isinstance(data, dict):
            raw = data.get("details")
            details = [d for d in raw if isinstance(d, dict)] if isinstance(raw, list) else []
            code = data.get("error") if isinstance(data.get("error"), str) else ""
            refusal = QuotaExceeded if code == "quota_exceeded" else Rejected
            fallback_field = "amount" if code == "quota_exceeded" else ""
            error = refusal(details or [{"field": fallback_field, "message": str(data.get("message", ""))[:500]}])
            error.code = str(code)[:40]
            raise error

    @staticmethod
    def _closed(status: int, data: Any, period: str) -> None:
        if status == 410 and isinstance(data, dict) and data.get("error") == "month_closed":
            figures = data.get("platform")
            raise MonthClosed(f"{period} 已结账", figures if isinstance(figures, dict) else None,
                              message_en=f"month {period} is closed")

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
            if _acceptance_id(acceptance):
                return str(acceptance)
        raise self._unfit(status, "uploads", True)

    def upload_results(self, acceptance_id: str, numbers: Sequence[str]) -> list[UploadResult]:
        """One result per number sent, in the order sent; anything else is not believed."""
        status, data, _ = self._request("GET", f"/v2/uploads/{quote(acceptance_id, safe='')}")
        if status == 410:
            raise ResultsExpired(f"平台已不保留受理结果（{acceptance_id}），改按号码查询",
                                 f"results of {acceptance_id} expired: look them up by number")
        if status == 404 and isinstance(data, dict) and data.get("error") == "not_found":
            # An acceptance id the platform gave and no longer knows: its results are gone all the same.
            raise ResultsExpired(f"平台不认识受理流水号 {acceptance_id}，改按号码查询",
                                 f"the platform does not know acceptance id {acceptance_id}: look them up by number")
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
        error = item.get("error") if isinstance(item.get("error"), str) else ""
        if item["status"] == "rejected" and not error:
            # A platform that names the rule only in the details: the too-late rules must still be seen.
            words = " ".join(str(d.get("message", "")) + " " + str(d.get("error", "")) for d in details
                             if isinstance(d, dict))
            error = next((code for code in ("upload_too_late", "month_closed", "month_confirmed") if code in words), "")
        return UploadResult(number, item["status"], accepted_at if isinstance(accepted_at, str) else None,
                            [d for d in details if isinstance(d, dict)], str(error)[:40])

    def invoice_by_number(self, number: str) -> dict[str, Any] | None:
        """GET /v2/invoices/{NUMBER}: the platform's record, or None when it holds no such invoice."""
        if not is_official_number(number):
            raise ValueError(f"{number!r} is not an official number")
        status, data, _ = self._request("GET", f"/v2/invoices/{number}")
        if status == 404 and isinstance(data, dict) and data.get("error") == "not_found":
            return None  # only the protocol's 404 says "not held" (a proxy's error page says nothing)
        if status == 200 and isinstance(data, dict) and data.get("number") == number \
                and data.get("status") in RECORD_STATUSES and isinstance(data.get("seller"), dict) \
                and _moment(data.get("issued_at")) and _moment(data.get("accepted_at")) \
                and all(_money(data.get(k)) is not None for k in ("total_amount", "total_tax", "total_with_tax")):
            return data
        raise self._unfit(status, "invoice look-up", False)

    # --- the platform channel ----------------------------------------------------------------

    def issue(self, key: str, invoice: dict[str, Any]) -> dict[str, Any]:
        """POST /v2/issue: the platform's record of the invoice it issued, its number in `number`."""
        status, data, _ = self._request("POST", "/v2/issue", invoice, headers={"Idempotency-Key": key})
        self._refused(status, data)
        if status in (200, 201) and isinstance(data, dict) and self._issued_fits(data, key, invoice):
            return data
        raise self._unfit(status, "issue", True)

    @staticmethod
    def _issued_fits(data: dict[str, Any], key: str, invoice: dict[str, Any]) -> bool:
        """The platform's record is of the invoice sent: an official number of the year it was issued in, our key,
        a record's status, our seller, our three totals, our date of issue (when we gave one), a time accepted."""
        number = data.get("number")
        if not is_official_number(number) or data.get("key") != key or data.get("status") not in RECORD_STATUSES:
            return False
        if any(_money(data.get(k)) is None or data.get(k) != invoice.get(k)
               for k in ("total_amount", "total_tax", "total_with_tax")):
            return False
        seller, ours = data.get("seller"), invoice.get("seller")
        if not (isinstance(seller, dict) and isinstance(ours, dict) and seller.get("tax_id") == ours.get("tax_id")):
            return False
        sent_at = invoice.get("issued_at")
        if sent_at not in (None, "") and not _same_moment(data.get("issued_at"), sent_at):
            return False
        year = _issue_year(data.get("issued_at"))
        return year is not None and _number_year(str(number)) == year and _moment(data.get("accepted_at"))

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
        self._closed(status, data, period)
        self._refused(status, data)
        raise self._unfit(status, "monthly summary", True)

    def withdraw_month(self, period: str) -> None:
        status, data, _ = self._request("DELETE", f"/v2/monthly-summaries/{quote(period, safe='')}")
        if status in (200, 204):
            return
        self._closed(status, data, period)
        self._refused(status, data)
        raise self._unfit(status, "monthly summary withdrawal", True)

    # --- red-letter confirmation forms ----------------------------------------------------------

    @staticmethod
    def _red_form(data: Any) -> RedForm | None:
        """A form checked field by field (None: not believed): its uuid, a 20-digit form number, a status 01-10,
        the blue invoice's official number, a reason 01-04, lines quoting blue line numbers once each with a
        negative amount and a tax of zero or less, and totals that are the sums of its lines."""
        if not isinstance(data, dict):
            return None
        form_uuid, form_number = data.get("uuid"), data.get("form_number")
        if not (isinstance(form_uuid, str) and 0 < len(form_uuid) <= MAX_UUID and form_uuid.isprintable()):
            return None
        if not (isinstance(form_number, str) and len(form_number) == 20 and form_number.isascii()
                and form_number.isdigit()):
            return None
        if data.get("status") not in RED_FORM_STATUSES or data.get("reason") not in RED_FORM_REASONS:
            return None
        if data.get("raised_by") not in ("seller", "buyer") or not is_official_number(data.get("original_number")):
            return None
        red_number = data.get("red_number")
        if red_number is not None and not is_official_number(red_number):
            return None
        raw_lines = data.get("lines")
        if not isinstance(raw_lines, list) or not raw_lines:
            return None
        lines: list[RedFormLine] = []
        for raw in raw_lines:
            if not isinstance(raw, dict):
                return None
            number, amount, tax = raw.get("original_line_no"), _money(raw.get("amount")), _money(raw.get("tax"))
            quantity = raw.get("quantity")
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                return None
            if amount is None or amount >= 0 or tax is None or tax > 0:
                return None
            if quantity not in (None, "") and (not isinstance(quantity, str) or parse_decimal(quantity) is None):
                return None
            lines.append(RedFormLine(number, quantity if quantity not in (None, "") else None, amount, tax))
        if len({line.original_line_no for line in lines}) != len(lines):
            return None
        total_amount, total_tax = _money(data.get("total_amount")), _money(data.get("total_tax"))
        if total_amount != sum((line.amount for line in lines), Decimal(0)) \
                or total_tax != sum((line.tax for line in lines), Decimal(0)):
            return None
        assert total_amount is not None and total_tax is not None
        created, updated, expires = data.get("created_at"), data.get("updated_at"), data.get("expires_at")
        if not (_moment(created) and _moment(updated)) or (expires is not None and not _moment(expires)):
            return None
        if data["status"] in ("02", "03") and expires is None:
            return None
        request_id = data.get("request_id")
        return RedForm(uuid=form_uuid, form_number=form_number, status=data["status"], raised_by=data["raised_by"],
                       original_number=str(data["original_number"]), reason=data["reason"], lines=tuple(lines),
                       total_amount=total_amount, total_tax=total_tax, created_at=str(created),
                       updated_at=str(updated), expires_at=str(expires) if expires is not None else None,
                       red_number=str(red_number) if red_number is not None else None,
                       request_id=request_id if isinstance(request_id, str) else None)

    def raise_red_form(self, request_id: str, original_number: str, reason: str,
                       lines: Sequence[dict[str, Any]]) -> RedForm:
        body = {"request_id": request_id, "original_number": original_number, "reason": reason,
                "lines": [dict(line) for line in lines]}
        status, data, _ = self._request("POST", "/v2/red-forms", body)
        self._refused(status, data)
        form = self._red_form(data) if status in (200, 201) else None
        if form is not None and form.request_id == request_id and form.original_number == original_number \
                and form.reason == reason and form.raised_by == "seller" and form.status in ("01", "02") \
                and len(form.lines) == len(lines) and all(
                    got.original_line_no == sent.get("original_line_no") and got.amount == _money(sent.get("amount"))
                    and got.tax == _money(sent.get("tax")) for got, sent in zip(form.lines, lines, strict=True)):
            return form
        raise self._unfit(status, "red-letter form", True)

    def red_forms(self, status: str | None = None) -> list[RedForm]:
        if status is not None and status not in RED_FORM_STATUSES:
            raise ValueError(f"a form status is 01 to 10, not {status!r}")
        path = "/v2/red-forms" + ("?" + urlencode({"status": status}) if status else "")
        code, data, _ = self._request("GET", path)
        if code == 200 and isinstance(data, dict) and isinstance(data.get("items"), list):
            forms = [self._red_form(item) for item in data["items"]]
            if all(form is not None and (status is None or form.status == status) for form in forms):
                return [form for form in forms if form is not None]
        raise self._unfit(code, "red-letter forms", False)

    def red_form(self, form_uuid: str) -> RedForm | None:
        status, data, _ = self._request("GET", f"/v2/red-forms/{quote(form_uuid, safe='')}")
        if status == 404 and isinstance(data, dict) and data.get("error") == "not_found":
            return None
        form = self._red_form(data) if status == 200 else None
        if form is not None and form.uuid == form_uuid:
            return form
        raise self._unfit(status, "red-letter form", False)

    def decide_red_form(self, form_uuid: str, request_id: str, decision: str) -> RedForm:
        if decision not in RED_FORM_DECISIONS:
            raise ValueError(f"a decision is agree, disagree or revoke, not {decision!r}")
        status, data, _ = self._request("POST", f"/v2/red-forms/{quote(form_uuid, safe='')}/decision",
                                        {"request_id": request_id, "decision": decision})
        self._refused(status, data)
        if status == 404 and isinstance(data, dict) and data.get("error") == "not_found":
            raise Rejected([{"field": "uuid", "message": "平台没有该红字确认单",
                             "message_en": "no such red-letter form"}])
        form = self._red_form(data) if status == 200 else None
        if form is not None and form.uuid == form_uuid and form.status in DECIDED[decision]:
            return form
        raise self._unfit(status, "red-letter form decision", True)

"""Protocol v2's rules and state on the reference platform (docs/platform-api-v2.md; what it adds or
decides where the contract is silent: docs/platform-api-v2-reference.md).

V2Platform serves one taxpayer (the seller every write must come from) and answers one request at
a time: each public method takes the store's lock, brings the platform up to its clock (settle:
uploads whose check is due are checked, months past their close are closed) and then acts, all in
one transaction. Every deadline is measured on the platform's own clock (PlatformClock), Beijing.

Uploads are checked afterwards, lazily: an upload is kept as received and checked, in the order
received, by the first request that comes in once `result_delay_ms` has passed on the platform's
clock. Every deadline of an uploaded invoice is measured at the moment the upload was received.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.core.clock import in_beijing
from app.core.deadlines import (
    filing_deadline,
    first_day,
    has_ended,
    latest_close,
    parse_period,
    period_of,
)
from app.core.deadlines import month_close as close_moment
from app.core.errors import FieldError
from app.core.fields import Collector
from app.core.fields import money as money_field
from app.core.invoice import Invoice, Medium
from app.core.money import format_money, to_money
from app.core.official_numbers import CHANNEL_DIRECT, CHANNEL_PLATFORM, LAST_SEQUENCE, make_number
from app.core.official_numbers import parse_number as split_number
from app.core.tax import RATES
from app.core.taxcodes import POLICIES, TaxCodeTable
from app.core.taxid import normalize_tax_id
from app.core.validation import SMALL_TAXPAYER_RATES, TAXPAYER_TYPES
from app.platform.answer import Answer, detail, error, field_details
from app.platform.checks import invoice_errors
from app.platform.v2.clock import PlatformClock, parse_stamp, shown, stamp
from app.platform.v2.red_forms import RedForms
from app.platform.v2.store import V2Store, content_hash, dumps

# The envelope's fields as keys of a JSON object's text (_record_text: a body holding one is not spliced).
_ENVELOPE_KEYS = ('"status":', '"accepted_at":', '"channel":', '"key":')
DEFAULT_TAX_ID = "91110108MA0123456G"
DEFAULT_NAME = "北京某某科技有限公司"
DEFAULT_QUOTA = Decimal("10000000.00")
DEFAULT_RESULT_DELAY_MS = 300

NORMAL_STATUSES = ("03", "09")  # 正常 and the other status shudian-rules.md section 5 lets issue
RISKS = ("none", "blocked")
MAX_BLOCK = 5000
MAX_UPLOAD = 100
MAX_KEY = 100  # the longest request_id or Idempotency-Key taken
MAX_PAGE = 1000
DEFAULT_PAGE = 100
UPLOAD_WINDOW = timedelta(hours=48)
RESULTS_KEPT = timedelta(hours=12)
FUTURE_TOLERANCE = timedelta(minutes=10)  # an invoice dated this far after the platform's time is refused

DIRECT = "direct"
PLATFORM = "platform"
V2_LINE_REQUIRED = ("amount", "tax", "amount_with_tax")
V2_REQUIRED = ("medium", "total_amount", "total_tax", "total_with_tax")
ZERO_RATE_LABEL = "0%"


@dataclass
class Taxpayer:
    tax_id: str = DEFAULT_TAX_ID
    name: str = DEFAULT_NAME
    taxpayer_type: str = "general"
    status: str = "03"
    risk: str = "none"

    def __post_init__(self) -> None:
        self.tax_id = normalize_tax_id(self.tax_id)
        if self.taxpayer_type not in TAXPAYER_TYPES:
            raise ValueError(f"taxpayer type {self.taxpayer_type!r}: general or small")

    @property
    def may_issue(self) -> bool:
        return self.status in NORMAL_STATUSES and self.risk != "blocked"

    def to_wire(self) -> dict[str, Any]:
        return {"tax_id": self.tax_id, "name": self.name, "status": self.status, "taxpayer_type": self.taxpayer_type,
                "channels": [DIRECT, PLATFORM], "risk": self.risk, "kinds": ["special", "normal"]}


@dataclass(frozen=True)
class Refusal:
    """Why an invoice is not accepted: a code (`upload_too_late`, ...) and the fields."""

    error: str
    details: list[dict[str, str]]


@dataclass(frozen=True)
class Checked:
    invoice: Invoice
    issued_at: datetime
    period: str
    amount_fen: int
    tax_fen: int
    with_tax_fen: int
    original: sqlite3.Row | None


def fen(value: Decimal) -> int:
    return int(to_money(value) * 100)


def money_text(value_fen: int) -> str:
    return format_money(Decimal(value_fen) / 100)


def _blocked() -> Answer:
    return error(403, "taxpayer_blocked", "纳税人状态非正常或被列为风险纳税人，暂停开票",
                 "the taxpayer's status is not normal or it is flagged as a risk: it may not issue")


def _invalid(field: str, zh: str, en: str) -> Answer:
    return error(422, "invalid", "请求不符合规则", "the request breaks a rule", [detail(field, zh, en)])


def _conflict() -> Answer:
    return error(409, "key_conflict", "该幂等键已用于另一请求", "the key was used before with a different body")


def _not_found(what_zh: str, what_en: str) -> Answer:
    return error(404, "not_found", f"{what_zh}不存在", f"no such {what_en}")


def _key(value: Any, field: str) -> tuple[str, Answer | None]:
    if not isinstance(value, str) or not value.strip():
        return "", _invalid(field, "不能为空", "is required")
    if len(value) > MAX_KEY:
        return "", _invalid(field, f"不能超过{MAX_KEY}个字符", f"must be at most {MAX_KEY} characters")
    return value, None


def _money(value: Any, field: str, positive: bool) -> tuple[Decimal, Answer | None]:
    if not isinstance(value, str):
        return Decimal(0), _invalid(field, "金额应为两位小数的文本（如 \"1234.56\"）",
                                    'money is a decimal string with two places ("1234.56")')
    out = Collector()
    amount = money_field(value, field, out)
    if out.errors or amount is None:
        return Decimal(0), error(422, "invalid", "请求不符合规则", "the request breaks a rule", field_details(
            out.errors or [FieldError(field, "不能为空", "is required")]))
    if positive and amount <= 0:
        return Decimal(0), _invalid(field, "应大于零", "must be greater than zero")
    return amount, None


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"v2:{seq}".encode()).decode().rstrip("=")


def _decode_cursor(text: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, seq = raw.partition(":")
    if prefix != "v2" or not seq.isdigit():
        return None
    return int(seq)


class V2Platform:
    def __init__(self, store: V2Store, codes: Callable[[], TaxCodeTable], *, taxpayer: Taxpayer | None = None,
                 quota: Decimal = DEFAULT_QUOTA, clock: PlatformClock | None = None,
                 result_delay_ms: int = DEFAULT_RESULT_DELAY_MS) -> None:
        if quota < 0 or quota != to_money(quota):
            raise ValueError(f"quota {quota}: money, not negative")
        if result_delay_ms < 0:
            raise ValueError("result_delay_ms must not be negative")
        self.store = store
        self.codes = codes
        self.taxpayer = taxpayer or Taxpayer()
        self.quota = to_money(quota)
        self.clock = clock or PlatformClock()
        self.result_delay = timedelta(milliseconds=result_delay_ms)
        self.red_forms = RedForms(self)

    # --- every request ---------------------------------------------------------------------------

    @contextmanager
    def _request(self, force: bool = False) -> Iterator[datetime]:
        """Hold the lock, open one transaction, bring the platform up to its clock; yield the time."""
        with self.store.lock, self.store.transaction():
            yield self._settle(force)

    @property
    def seller(self) -> str:
        return self.taxpayer.tax_id

    def settle(self, force: bool = False) -> None:
        """Check every upload that is due and close every month past its close (each request does it first)."""
        with self._request(force):
            pass

    def _settle(self, force: bool) -> datetime:
        now = self.clock.now()
        self.red_forms.expire(now)  # before any red invoice is checked against a form
        boundary = latest_close(now)
        for upload in self.store.all("SELECT * FROM v2_upload WHERE state = 'pending' ORDER BY seq"):
            # Those received before the last close are checked now, whether due or not: the month's figures
            # are fixed from what the platform holds, and it holds what reached it before the close.
            if not (force or parse_stamp(upload["ready_at"]) <= now or parse_stamp(upload["received_at"]) < boundary):
                break  # in the order received: the first upload of a number stands
            self._process(upload)
        for month in self.store.all("SELECT period FROM v2_month WHERE seller_tax_id = ? AND closed_at IS NULL",
                                    self.seller):
            period = month["period"]
            moment = close_moment(period)
            if moment <= now:
                self.store.run("UPDATE v2_month SET closed_at = ?, closed_figures = ? WHERE seller_tax_id = ? "
                               "AND period = ?", shown(moment), dumps(self._figures(period)), self.seller, period)
        return now

    # --- reads ----------------------------------------------------------------------------------

    def health(self) -> Answer:
        return Answer(200, {"status": "ok", "time": shown(self.clock.now())})

    def taxpayer_view(self) -> Answer:
        with self._request():
            return Answer(200, self.taxpayer.to_wire())

    def tax_rates(self) -> Answer:
        if self.taxpayer.taxpayer_type == "small":
            codes = [*SMALL_TAXPAYER_RATES, "0.015", "0"]
        else:
            codes = [r.code for r in RATES if r.code not in ("exempt", "not_taxed")]
        labels = {r.code: r.label_zh for r in RATES}
        rates = [{"rate": code, "label": labels.get(code, ZERO_RATE_LABEL)} for code in codes]
        return Answer(200, {"rates": rates, "policies": [{"flag": p.flag, "label": p.name} for p in POLICIES]})

    # --- number blocks --------------------------------------------------------------------------

    def draw_block(self, body: Mapping[str, Any]) -> Answer:
        with self._request() as now:
            request_id, bad = _key(body.get("request_id"), "request_id")
            if bad:
                return bad
            count = body.get("count")
            if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BLOCK:
                return _invalid("count", f"应为1至{MAX_BLOCK}的整数", f"must be a whole number from 1 to {MAX_BLOCK}")
            known = self.store.one("SELECT count, answer FROM v2_block WHERE seller_tax_id = ? AND request_id = ?",
                                   self.seller, request_id)
            if known is not None:
                return Answer(201, json.loads(known["answer"])) if known["count"] == count else _conflict()
            if not self.taxpayer.may_issue:
                return _blocked()
            year = in_beijing(now).year
            first = self.store.reserve(CHANNEL_DIRECT, year, count)
            last = first + count - 1
            if last > LAST_SEQUENCE:
                return error(422, "numbers_exhausted", f"{year}年的号码已用尽", f"no numbers are left for {year}")
            answer = {"request_id": request_id, "first": make_number(year, CHANNEL_DIRECT, first),
                      "last": make_number(year, CHANNEL_DIRECT, last), "count": count, "year": year}
            self.store.run("INSERT INTO v2_block (seller_tax_id, request_id, count, year, first_seq, last_seq, answer,"
                           " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self.seller, request_id, count, year, first,
                           last, dumps(answer), stamp(now))
            return Answer(201, answer)

    def _in_block(self, year: int, sequence: int) -> bool:
        return self.store.one("SELECT 1 FROM v2_block WHERE seller_tax_id = ? AND year = ? AND first_seq <= ? "
                              "AND last_seq >= ?", self.seller, year, sequence, sequence) is not None

    # --- quota ----------------------------------------------------------------------------------

    def _month(self, period: str) -> sqlite3.Row | None:
        return self.store.one("SELECT * FROM v2_month WHERE seller_tax_id = ? AND period = ?", self.seller, period)

    def _quota_figures(self, period: str) -> dict[str, Any]:
        month = self._month(period)
        downloaded = month["downloaded_fen"] if month else 0
        used_direct = month["used_direct_fen"] if month else 0
        used_platform = month["used_platform_fen"] if month else 0
        total = fen(self.quota)
        return {"period": period, "month_total": money_text(total),
                "available": money_text(max(0, total - downloaded - used_platform)),
                "downloaded": money_text(downloaded), "downloaded_unused": money_text(downloaded - used_direct),
                "suspended": not self.taxpayer.may_issue,
                "valid_from": first_day(period).isoformat(), "valid_to": filing_deadline(period).isoformat()}

    def quota_view(self, query: Mapping[str, str]) -> Answer:
        with self._request() as now:
            period = query.get("period") or period_of(now)
            if parse_period(period) is None:
                return _invalid("period", "应为月份 YYYYMM", "must be a month YYYYMM")
            return Answer(200, self._quota_figures(period))

    def change_quota(self, body: Mapping[str, Any]) -> Answer:
        with self._request() as now:
            request_id, bad = _key(body.get("request_id"), "request_id")
            if bad:
                return bad
            action = body.get("action")
            if action not in ("download", "return"):
                return _invalid("action", "应为 download（下载）或 return（退回）", "must be download or return")
            amount, bad = _money(body.get("amount"), "amount", positive=True)
            if bad:
                return bad
            digest = content_hash({"action": action, "amount": str(to_money(amount))})
            known = self.store.one("SELECT request_hash, answer FROM v2_quota_op WHERE seller_tax_id = ? AND "
                                   "request_id = ?", self.seller, request_id)
            if known is not None:
                return Answer(200, json.loads(known["answer"])) if known["request_hash"] == digest else _conflict()
            period = period_of(now)
            figures = self._quota_figures(period)
            amount_fen = fen(amount)
            if action == "download":
                if not self.taxpayer.may_issue:
                    return _blocked()
                available = fen(Decimal(figures["available"]))
                if amount_fen > available:
                    return error(422, "quota_exceeded", "下载额度超过本月可下载额度", "more than the quota available",
                                 [detail("amount", f"本月可下载额度为{figures['available']}",
                                         f"{figures['available']} can still be downloaded this month")])
                self.store.add_to_month(self.seller, period, "downloaded_fen", amount_fen)
            else:
                unused = fen(Decimal(figures["downloaded_unused"]))
                if amount_fen > unused:
                    return _invalid("amount", f"退回额度超过已下载未使用额度（{figures['downloaded_unused']}）",
                                    f"more than the downloaded, unused quota ({figures['downloaded_unused']})")
                self.store.add_to_month(self.seller, period, "downloaded_fen", -amount_fen)
            after = self._quota_figures(period)
            answer = {"request_id": request_id, "period": period, "valid_from": after["valid_from"],
                      "valid_to": after["valid_to"], "downloaded_unused": after["downloaded_unused"]}
            self.store.run("INSERT INTO v2_quota_op (seller_tax_id, request_id, request_hash, period, action,"
                           " amount_fen, answer, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self.seller, request_id,
                           digest, period, action, amount_fen, dumps(answer), stamp(now))
            return Answer(200, answer)

    # --- the check of one invoice -----------------------------------------------------------------

    def _check(self, body: Any, at: datetime, channel: str) -> Checked | Refusal:
        """An invoice against every rule, as of `at` (when the upload was received, or now)."""
        if not isinstance(body, dict):
            return Refusal("invalid", [detail("invoice", "应为 JSON 对象", "must be a JSON object")])
        required = V2_REQUIRED + (("number", "issued_at") if channel == DIRECT else ())
        extra: list[FieldError] = []
        if body.get("medium") in (None, ""):  # a v2 body says its medium: checked by the v2 rules, never legacy
            extra.append(FieldError("medium", "不能为空", "is required"))
            body = {**body, "medium": Medium.ELECTRONIC.value}
        invoice, errors = invoice_errors(body, self.codes(), self.taxpayer.taxpayer_type, required, V2_LINE_REQUIRED)
        if extra or errors or invoice is None:
            return Refusal("invalid", field_details(extra + errors))
        if channel == DIRECT and invoice.medium is Medium.PAPER:
            return Refusal("invalid", [detail("medium", "纸质发票只能由平台开具", "a paper invoice is issued by the "
                                              "platform channel only")])
        if invoice.seller.tax_id != self.seller:
            return Refusal("wrong_seller", [detail("seller.tax_id", f"销售方应为本纳税人{self.seller}",
                                                   f"the seller must be this taxpayer, {self.seller}")])
        if invoice.seller.name != self.taxpayer.name:
            return Refusal("wrong_seller", [detail("seller.name", f"销售方名称应为“{self.taxpayer.name}”",
                                                   f"the seller's name must be {self.taxpayer.name!r}")])
        assert invoice.issued_at is not None  # required above (the platform channel fills it in)
        try:
            issued_at = in_beijing(invoice.issued_at)
        except OverflowError:  # year 1 east of Beijing, year 9999 west of it: no moment of Beijing's calendar
            issued_at = None
        if issued_at is None or not 2000 <= issued_at.year <= 2099:
            return Refusal("invalid", [detail("issued_at", "开票日期不正确", "is not a date of issue")])
        if channel == DIRECT:
            number = split_number(invoice.number)
            if number is None or number.channel != CHANNEL_DIRECT or not self._in_block(number.year, number.sequence):
                return Refusal("unknown_number", [detail("number", "不是发给本纳税人的号码段中的号码",
                                                         "is not a number from a block given to this seller")])
            if issued_at.year != number.year:
                return Refusal("wrong_year", [detail("issued_at", f"开票日期不在号码所属年度（{number.year}年）内",
                                                     f"is outside the year of its number ({number.year})")])
        if issued_at > at + FUTURE_TOLERANCE:
            return Refusal("invalid", [detail("issued_at", "开票时间晚于平台当前时间",
                                              "is later than the platform's time")])
        period = period_of(issued_at)
        month = self._month(period)
        if (month is not None and month["closed_at"]) or at >= close_moment(period):
            return Refusal("month_closed", [detail("issued_at", f"{period}所属期已于下月13日结账，不再接收该月发票",
                                                   f"the month {period} closed on the 13th of the next month")])
        if channel == DIRECT and at - issued_at >= UPLOAD_WINDOW:
            return Refusal("upload_too_late", [detail("issued_at",
                                                      "开票后超过48小时才上传：该发票无效，请用新号码重新开具",
                                                      "uploaded 48 hours or more after it was issued: it never became "
                                                      "valid; invoice the sale again with a new number")])
        if month is not None and month["summary_status"] == "confirmed":
            return Refusal("month_confirmed", [detail("issued_at", f"{period}已汇总确认：请先撤销确认",
                                                      f"the month {period} is confirmed: withdraw the confirmation "
                                                      "first")])
        amount, tax, with_tax = fen(invoice.total_amount), fen(invoice.total_tax), fen(invoice.total_with_tax)
        original = None
        if invoice.is_red_letter:
            assert invoice.original_number is not None
            original = self.store.invoice(invoice.original_number)
            refusal = self._check_red(invoice, original, with_tax, amount, tax)
            if refusal is not None:
                return refusal
        else:
            figures = self._quota_figures(period)
            held = figures["downloaded_unused"] if channel == DIRECT else figures["available"]
            if amount > fen(Decimal(held)):
                what = ("已下载未使用的额度", "the downloaded, unused quota") if channel == DIRECT else (
                    "本月可用额度", "the quota available")
                return Refusal("quota_exceeded", [detail("total_amount", f"超过{period}{what[0]}（{held}）",
                                                         f"more than {what[1]} of {period} ({held})")])
        return Checked(invoice, issued_at, period, amount, tax, with_tax, original)

    def _check_red(self, invoice: Invoice, original: sqlite3.Row | None, with_tax: int, amount: int = 0,
                   tax: int = 0) -> Refusal | None:
        if original is None or original["seller_tax_id"] != self.seller:
            return Refusal("original_not_found", [detail("original_number", "平台没有该蓝字发票",
                                                         "the platform holds no such blue invoice of this seller")])
        if original["red"]:
            return Refusal("invalid", [detail("original_number", "是红字发票，不能红冲", "is a red-letter invoice")])
        if original["kind"] != invoice.kind.value:
            return Refusal("invalid", [detail("kind", "红字发票的种类应与蓝字发票相同",
                                              "a red-letter invoice is of the kind of the blue one")])
        if not invoice.red_form_uuid:
            return Refusal("invalid", [detail("red_form_uuid", "红字发票须依据红字确认单（01 或 04）开具",
                                              "a red-letter invoice needs a red-letter form in 01 or 04")])
        # On a form: it must be of this blue invoice, in 01 or 04, unused, with the same figures; what it
        # holds of the blue invoice is then this red invoice's to take.
        refused = self.red_forms.refusal_for_red(invoice.red_form_uuid, original["number"], amount, tax)
        if refused:
            return Refusal("invalid", refused)
        held = self.red_forms.taken_by_open_forms(original["number"], except_uuid=invoice.red_form_uuid)
        left = original["with_tax_fen"] + self.store.reds_of(original["number"]) + held
        if left + with_tax < 0:
            return Refusal("invalid", [detail("total_with_tax", f"超过蓝字发票尚可红冲的金额（{money_text(left)}）",
                                              f"more than what is left of the blue invoice ({money_text(left)})")])
        blue_lines = len(json.loads(original["body"]).get("lines") or [])
        for index, line in enumerate(invoice.lines):
            if line.original_line_no is not None and line.original_line_no > blue_lines:
                return Refusal("invalid", [detail(f"lines[{index}].original_line_no", f"蓝字发票只有{blue_lines}行",
                                                  f"the blue invoice has {blue_lines} lines")])
        return None

    def _accept(self, checked: Checked, body: dict[str, Any], channel: str, accepted_at: str,
                acceptance_id: str | None = None, key: str | None = None) -> dict[str, Any]:
        invoice = checked.invoice
        number = str(body["number"])
        self.store.month(self.seller, checked.period)
        self.store.run(
            "INSERT INTO v2_invoice (number, channel, seller_tax_id, body, body_hash, issued_at, issued_date, period,"
            " kind, red, original_number, amount_fen, tax_fen, with_tax_fen, status, accepted_at, key, acceptance_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'accepted', ?, ?, ?)",
            number, channel, self.seller, dumps(body), content_hash(body), stamp(checked.issued_at),
            checked.issued_at.date().isoformat(), checked.period, invoice.kind.value, int(invoice.is_red_letter),
            invoice.original_number, checked.amount_fen, checked.tax_fen, checked.with_tax_fen, accepted_at, key,
            acceptance_id)
        original = checked.original
        if invoice.red_form_uuid and original is not None:
            self.red_forms.mark_used(invoice.red_form_uuid, number, parse_stamp(accepted_at))
        if original is None:
            column = "used_direct_fen" if channel == DIRECT else "used_platform_fen"
            self.store.add_to_month(self.seller, checked.period, column, checked.amount_fen)
        else:
            left = original["with_tax_fen"] + self.store.reds_of(original["number"])
            status = "reversed_in_full" if left <= 0 else "reversed_in_part"
            self.store.run("UPDATE v2_invoice SET status = ? WHERE number = ?", status, original["number"])
            if original["period"] == checked.period:  # a red of the blue's own month gives its quota back
                column = "used_direct_fen" if original["channel"] == DIRECT else "used_platform_fen"
                self.store.add_to_month(self.seller, checked.period, column, checked.amount_fen)
        row = self.store.invoice(number)
        assert row is not None
        return self._record(row)

    @staticmethod
    def _record(row: sqlite3.Row) -> dict[str, Any]:
        record = {**json.loads(row["body"]), "status": row["status"], "accepted_at": row["accepted_at"],
                  "channel": row["channel"]}
        if row["channel"] == PLATFORM:
            record["key"] = row["key"]
        return record

    @staticmethod
    def _record_text(row: sqlite3.Row) -> str:
        """dumps(_record(row)), made of the stored body's text: the body was stored as dumps(body) (of a dict,
        which reads back to the same text), and the envelope's fields are appended after its own, as
        _record merges them, when none of them is a key in the body (which _record would overwrite in
        place). Otherwise, or for a text this platform did not write in that shape, the record is read
        and written again."""
        text = row["body"]
        if (not isinstance(text, str) or len(text) < 3 or text[0] != "{" or text[-1] != "}"
                or any(name in text for name in _ENVELOPE_KEYS)):
            return dumps(V2Platform._record(row))
        envelope = f',"status":{dumps(row["status"])},"accepted_at":{dumps(row["accepted_at"])},' \
                   f'"channel":{dumps(row["channel"])}'
        if row["channel"] == PLATFORM:
            envelope += f',"key":{dumps(row["key"])}'
        return f"{text[:-1]}{envelope}}}"

    # --- uploads (direct channel) -----------------------------------------------------------------

    def upload(self, body: Mapping[str, Any]) -> Answer:
        with self._request() as now:
            request_id, bad = _key(body.get("request_id"), "request_id")
            if bad:
                return bad
            invoices = body.get("invoices")
            if not isinstance(invoices, list) or not 1 <= len(invoices) <= MAX_UPLOAD:
                return _invalid("invoices", f"应为1至{MAX_UPLOAD}张发票的列表", f"must be a list of 1 to {MAX_UPLOAD} "
                                "invoices")
            digest = content_hash({"request_id": request_id, "invoices": invoices})
            known = self.store.one("SELECT acceptance_id, request_hash FROM v2_upload WHERE seller_tax_id = ? AND "
                                   "request_id = ?", self.seller, request_id)
            if known is not None:
                if known["request_hash"] != digest:
                    return _conflict()
                return Answer(202, {"request_id": request_id, "acceptance_id": known["acceptance_id"]})
            if not self.taxpayer.may_issue:
                return _blocked()
            local = in_beijing(now)
            acceptance_id = f"SL{local:%Y%m%d}{self.store.reserve('acceptance', 0, 1):012d}"
            self.store.run("INSERT INTO v2_upload (acceptance_id, seller_tax_id, request_id, request_hash, received_at,"
                           " ready_at, state, count) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)", acceptance_id,
                           self.seller, request_id, digest, stamp(now), stamp(now + self.result_delay), len(invoices))
            for index, invoice in enumerate(invoices):
                number = invoice.get("number") if isinstance(invoice, dict) else None
                self.store.run("INSERT INTO v2_upload_item (acceptance_id, idx, number, body, status) VALUES "
                               "(?, ?, ?, ?, 'processing')", acceptance_id, index,
                               number if isinstance(number, str) else None, dumps(invoice))
            return Answer(202, {"request_id": request_id, "acceptance_id": acceptance_id})

    def _process(self, upload: sqlite3.Row) -> None:
        received = parse_stamp(upload["received_at"])
        accepted_at = shown(parse_stamp(upload["ready_at"]))
        acceptance_id = upload["acceptance_id"]
        for item in self.store.all("SELECT idx, body FROM v2_upload_item WHERE acceptance_id = ? ORDER BY idx",
                                   acceptance_id):
            status, code, details, at = self._upload_one(json.loads(item["body"]), received, accepted_at,
                                                         acceptance_id)
            self.store.run("UPDATE v2_upload_item SET status = ?, error = ?, details = ?, accepted_at = ? WHERE "
                           "acceptance_id = ? AND idx = ?", status, code, dumps(details), at, acceptance_id,
                           item["idx"])
        self.store.run("UPDATE v2_upload SET state = 'done' WHERE seq = ?", upload["seq"])

    def _upload_one(self, body: Any, received: datetime, accepted_at: str, acceptance_id: str
                    ) -> tuple[str, str | None, list[dict[str, str]], str | None]:
        """(status, error code, details, accepted_at) of one uploaded invoice."""
        number = body.get("number") if isinstance(body, dict) else None
        known = self.store.invoice(number) if isinstance(number, str) and number else None
        if known is not None:
            if known["body_hash"] == content_hash(body):
                return "duplicate", None, [], known["accepted_at"]
            return "rejected", "number_used", [detail("number", f"号码{number}已用于平台上的另一张发票",
                                                      f"number {number} is already used by another invoice")], None
        checked = self._check(body, received, DIRECT)
        if isinstance(checked, Refusal):
            return "rejected", checked.error, checked.details, None
        self._accept(checked, body, DIRECT, accepted_at, acceptance_id=acceptance_id)
        return "accepted", None, [], accepted_at

    def upload_results(self, acceptance_id: str) -> Answer:
        with self._request() as now:
            upload = self.store.one("SELECT * FROM v2_upload WHERE acceptance_id = ? AND seller_tax_id = ?",
                                    acceptance_id, self.seller)
            if upload is None:
                return _not_found("受理流水号", "acceptance id")
            if now >= parse_stamp(upload["received_at"]) + RESULTS_KEPT:
                return error(410, "expired", "上传结果只保留12小时：请按发票号码查询",
                             "results are kept 12 hours: look each invoice up by its number")
            ready = upload["state"] == "done" and now >= parse_stamp(upload["ready_at"])
            results = []
            for item in self.store.all("SELECT * FROM v2_upload_item WHERE acceptance_id = ? ORDER BY idx",
                                       acceptance_id):
                if not ready:
                    results.append({"number": item["number"], "status": "processing", "details": [],
                                    "accepted_at": None})
                    continue
                result: dict[str, Any] = {"number": item["number"], "status": item["status"],
                                          "details": json.loads(item["details"]), "accepted_at": item["accepted_at"]}
                if item["error"]:
                    result["error"] = item["error"]
                results.append(result)
            return Answer(200, {"acceptance_id": acceptance_id, "request_id": upload["request_id"],
                                "results": results})

    # --- records --------------------------------------------------------------------------------

    def invoice(self, number: str) -> Answer:
        with self._request():
            row = self.store.invoice(number)
            if row is None or row["seller_tax_id"] != self.seller:
                return _not_found("发票", "invoice")
            return Answer(200, self._record(row))

    def invoices(self, query: Mapping[str, str]) -> Answer:
        with self._request():
            details = []
            dates: list[str] = []
            for name in ("from", "to"):
                value = query.get(name, "")
                try:
                    dates.append(date.fromisoformat(value).isoformat() if len(value) == 10 else "")
                except ValueError:
                    dates.append("")
                if not dates[-1]:
                    details.append(detail(name, "应为日期 YYYY-MM-DD", "must be a date YYYY-MM-DD"))
            after = 0
            if query.get("after"):
                decoded = _decode_cursor(query["after"])
                if decoded is None:
                    details.append(detail("after", "不是有效的游标", "is not a cursor this platform gave"))
                else:
                    after = decoded
            limit_text = query.get("limit") or str(DEFAULT_PAGE)
            limit = int(limit_text) if limit_text.isascii() and limit_text.isdigit() else 0
            if not 1 <= limit <= MAX_PAGE:
                details.append(detail("limit", f"应为1至{MAX_PAGE}的整数",
                                      f"must be a whole number from 1 to {MAX_PAGE}"))
            if details:
                return error(422, "invalid", "查询参数不正确", "the query breaks a rule", details)
            # An index range per date of the period (V2Store.listing): a page costs the page, whatever the period.
            rows = self.store.listing(self.seller, dates[0], dates[1], after, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            # The records' stored texts spliced in, not read and written again (_record_text): the same bytes.
            items = ",".join(self._record_text(row) for row in rows)
            cursor = _encode_cursor(rows[-1]["seq"]) if more else None
            return Answer(200, text=f'{{"items":[{items}],"next":{dumps(cursor)}}}')

    # --- the platform channel ---------------------------------------------------------------------

    def issue(self, key_header: str | None, body: Any) -> Answer:
        with self._request() as now:
            key, bad = _key(key_header, "Idempotency-Key")
            if bad:
                return bad
            digest = content_hash(body)
            known = self.store.one("SELECT request_hash, answer FROM v2_issue_key WHERE seller_tax_id = ? AND key = ?",
                                   self.seller, key)
            if known is not None:
                return Answer(200, json.loads(known["answer"])) if known["request_hash"] == digest else _conflict()
            if not self.taxpayer.may_issue:
                return _blocked()
            if not isinstance(body, dict):
                return _invalid("invoice", "应为 JSON 对象", "must be a JSON object")
            if body.get("number") not in (None, ""):
                return _invalid("number", "号码由平台赋予，请勿填写", "the platform assigns the number: leave it out")
            issued_at = body.get("issued_at") or shown(now)
            draft = {**body, "number": "", "issued_at": issued_at}
            checked = self._check(draft, now, PLATFORM)
            if isinstance(checked, Refusal):
                return error(422, checked.error, "发票不符合规则", "the invoice breaks a rule", checked.details)
            year = checked.issued_at.year
            number = make_number(year, CHANNEL_PLATFORM, self.store.reserve(CHANNEL_PLATFORM, year, 1))
            record = self._accept(checked, {**body, "number": number, "issued_at": issued_at}, PLATFORM, shown(now),
                                  key=key)
            self.store.run("INSERT INTO v2_issue_key (seller_tax_id, key, request_hash, number, answer) VALUES "
                           "(?, ?, ?, ?, ?)", self.seller, key, digest, number, dumps(record))
            return Answer(201, record)

    # --- monthly summaries ------------------------------------------------------------------------

    def _figures(self, period: str) -> dict[str, Any]:
        count, amount, tax = self.store.figures(self.seller, period)
        return {"count": count, "total_amount": money_text(amount), "total_tax": money_text(tax)}

    def confirm_month(self, body: Mapping[str, Any]) -> Answer:
        with self._request(force=True) as now:  # what reached the platform before counts, checked or not yet
            period = body.get("period")
            if parse_period(period) is None:
                return _invalid("period", "应为月份 YYYYMM", "must be a month YYYYMM")
            assert isinstance(period, str)
            if not has_ended(period, now):
                return _invalid("period", f"{period}尚未结束，不能汇总确认", f"the month {period} has not ended")
            count = body.get("count")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                return _invalid("count", "应为不小于0的整数", "must be a whole number, 0 or more")
            given: dict[str, Any] = {"count": count}
            for name in ("total_amount", "total_tax"):
                value, bad = _money(body.get(name), name, positive=False)
                if bad:
                    return bad
                given[name] = format_money(value)
            month = self.store.month(self.seller, period)
            if month["closed_at"]:
                return error(410, "month_closed", f"{period}已结账", f"the month {period} is closed",
                             platform=json.loads(month["closed_figures"]))
            platform = self._figures(period)
            differ = [name for name in ("count", "total_amount", "total_tax") if given[name] != platform[name]]
            if differ:
                return error(409, "mismatch", "汇总数据与平台不符", "the figures differ from what the platform holds",
                             [detail(name, f"平台为{platform[name]}", f"the platform holds {platform[name]}")
                              for name in differ], platform=platform)
            self.store.run("UPDATE v2_month SET summary_status = 'confirmed', summary = ?, summary_at = ? WHERE "
                           "seller_tax_id = ? AND period = ?", dumps(given), stamp(now), self.seller, period)
            return Answer(200, {"status": "confirmed", "period": period})

    def withdraw_month(self, period: str) -> Answer:
        with self._request(force=True):
            if parse_period(period) is None:
                return _invalid("period", "应为月份 YYYYMM", "must be a month YYYYMM")
            month = self.store.month(self.seller, period)
            if month["closed_at"]:
                return error(410, "month_closed", f"{period}已结账，不能撤销确认",
                             f"the month {period} is closed: its confirmation stands")
            if month["summary_status"] == "confirmed":
                self.store.run("UPDATE v2_month SET summary_status = 'withdrawn' WHERE seller_tax_id = ? AND "
                               "period = ?", self.seller, period)
            return Answer(200, {"status": "withdrawn", "period": period})

    def month_view(self, period: str) -> Answer:
        with self._request(force=True):
            if parse_period(period) is None:
                return _invalid("period", "应为月份 YYYYMM", "must be a month YYYYMM")
            month = self._month(period)
            closed = bool(month and month["closed_at"])
            confirmed = bool(month and month["summary_status"] == "confirmed")
            return Answer(200, {
                "period": period, "status": "closed" if closed else "confirmed" if confirmed else "open",
                "confirmed": confirmed, "closes_at": shown(close_moment(period)),
                "platform": json.loads(month["closed_figures"]) if closed and month else self._figures(period)})

    # --- reference-server hooks -------------------------------------------------------------------

    def set_clock(self, body: Mapping[str, Any]) -> Answer:
        with self._request():
            if len(body) > 1 or (body and next(iter(body)) not in ("now", "advance_hours", "reset")):
                return _invalid("clock", "只给 now、advance_hours 或 reset 之一",
                                "give one of now, advance_hours, reset")
            if "now" in body:
                value = body["now"]
                try:
                    moment = datetime.fromisoformat(value) if isinstance(value, str) else None
                except ValueError:
                    moment = None
                if moment is None:
                    return _invalid("now", "应为 ISO 8601 时间", "must be an ISO 8601 time")
                self.clock.set(moment)
            elif "advance_hours" in body:
                hours = body["advance_hours"]
                if isinstance(hours, bool) or not isinstance(hours, (int, float)) or abs(hours) > 24 * 366 * 10:
                    return _invalid("advance_hours", "应为小时数", "must be a number of hours")
                self.clock.advance(hours)
            elif body.get("reset") is True:
                self.clock.reset()
            elif "reset" in body:
                return _invalid("reset", "应为 true", "must be true")
        return self.clock_view()

    def clock_view(self) -> Answer:
        return Answer(200, {"now": shown(self.clock.now()), "offset_seconds": self.clock.offset_seconds})

    def set_taxpayer(self, body: Mapping[str, Any]) -> Answer:
        with self._request():
            for name in body:
                if name not in ("status", "risk"):
                    return _invalid(name, "未知设置（可设 status、risk）", "unknown setting (status, risk)")
            status = body.get("status", self.taxpayer.status)
            if not (isinstance(status, str) and len(status) == 2 and status.isascii() and status.isdigit()):
                return _invalid("status", "应为两位数字的纳税人状态（03 正常）",
                                "must be a two-digit status (03 normal)")
            risk = body.get("risk", self.taxpayer.risk)
            if risk not in RISKS:
                return _invalid("risk", "应为 none 或 blocked", "must be none or blocked")
            self.taxpayer.status, self.taxpayer.risk = status, risk
            return Answer(200, self.taxpayer.to_wire())

    # --- red-letter forms (app/platform/v2/red_forms.py) ------------------------------------------

    def raise_red_form(self, body: Mapping[str, Any]) -> Answer:
        with self._request() as now:
            return self.red_forms.raise_form(now, body)

    def red_form_list(self, query: Mapping[str, str]) -> Answer:
        with self._request():
            return self.red_forms.forms(query)

    def red_form(self, form_uuid: str) -> Answer:
        with self._request():
            return self.red_forms.form(form_uuid)

    def decide_red_form(self, form_uuid: str, body: Mapping[str, Any]) -> Answer:
        with self._request() as now:
            return self.red_forms.decide(now, form_uuid, body)

    def act_as_buyer(self, body: Mapping[str, Any]) -> Answer:
        with self._request() as now:
            action = body.get("action")
            if action == "raise":  # the buyer raises a form (03, waiting for the seller)
                return self.red_forms.buyer_raises(now, body)
            if action == "answer":  # the buyer answers a 02 form
                return self.red_forms.buyer_answers(now, body)
            if action != "use":
                return _invalid("action", "应为 use（购买方已用票）、raise（提出红字确认单）或 answer（答复确认单）",
                                "must be use (the buyer used the invoice), raise (a form) or answer (a 02 form)")
            number = body.get("number")
            row = self.store.invoice(number) if isinstance(number, str) else None
            if row is None:
                return _not_found("发票", "invoice")
            if row["red"]:
                return _invalid("number", "红字发票不能被购买方用于抵扣", "is a red-letter invoice")
            if not row["used_by_buyer"]:
                self.store.run("UPDATE v2_invoice SET used_by_buyer = 1, used_at = ? WHERE number = ?", stamp(now),
                               number)
                row = self.store.invoice(str(number))
                assert row is not None
            return Answer(200, {"number": number, "used": True, "used_at": shown(parse_stamp(row["used_at"]))})

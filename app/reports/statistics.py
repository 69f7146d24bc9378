"""Statistics (统计): the counts and amounts of a month or of any period, by kind, tax rate, tax code, buyer,
day or month, as read models for the command line (`python -m app stats`), the 统计 view and the files
(app/reports/statistics_pdf.py, statistics_xlsx.py).

The rules are the monthly summary's (app/services/months.py figures()), so a clerk can check before the 13th
what will be confirmed with the platform:

- an invoice belongs to the period of its Beijing date (issued_date, indexed);
- the summary counts the invoices the platform holds: status accepted, blue and red; a red invoice's amounts
  are negative as stored, so the 合计 (net) row is blue plus red and equals months.figures() for a month;
- a cancelled invoice (作废: a paper invoice cancelled in its month, it had its official number) is shown
  with its amounts as issued, out of the net figures;
- what is not an invoice, or not yet one, is shown apart: pre-issue records (预开单, status pre_issue) waiting
  for the platform, direct-channel invoices still to upload (their month cannot be confirmed until they
  are answered), pre-issue records withdrawn (cancelled without an official number) or rejected ones
  marked cancelled, and invoices the platform refused (rejected, too late to upload).

Every figure is summed by SQLite (GROUP BY over the issued_date range), never row by row in Python: a period
of a store of a million invoices returns as many rows as it has groups, in constant memory.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import peewee

from app.core import clock, status
from app.core.deadlines import MONTH_CLOSE_DAY, month_close, period_of
from app.core.errors import FieldError, ValidationFailed
from app.core.invoice import InvoiceKind
from app.core.money import ZERO
from app.core.tax import RATES, find_rate
from app.services import months
from app.store.models import Invoice as InvoiceRow
from app.store.models import InvoiceLine, TaxCode

# What an invoice row counts as.
BLUE = "blue"  # 蓝字发票: accepted, not reversing another
RED = "red"  # 红字发票: accepted, reversing a blue invoice (negative amounts)
CANCELLED = "cancelled"  # 作废发票: an invoice (it had its official number) cancelled
PENDING = "pending_upload"  # direct channel: issued, waiting for the platform's acceptance
PRE_ISSUE = "pre_issue"  # 预开单: not an invoice until the platform issues it
WITHDRAWN = "withdrawn"  # cancelled but never an invoice: a pre-issue record withdrawn, a rejected one marked
REFUSED = "refused"  # rejected by the platform, or too late to upload: never valid
CATEGORIES = (BLUE, RED, CANCELLED, PENDING, PRE_ISSUE, WITHDRAWN, REFUSED)
INVOICE_CATEGORIES = (BLUE, RED, CANCELLED)  # the table's columns
APART = (PRE_ISSUE, PENDING, WITHDRAWN, REFUSED)  # shown apart, never in the net figures
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    BLUE: ("蓝字发票", "blue invoices"),
    RED: ("红字发票", "red invoices"),
    CANCELLED: ("作废发票", "cancelled invoices"),
    PENDING: ("已开具待上传", "issued, to upload"),
    PRE_ISSUE: ("预开单（非发票）", "pre-issue records (not invoices)"),
    WITHDRAWN: ("已撤回预开单 / 被拒作废（非发票）", "withdrawn pre-issue / rejected, cancelled (not invoices)"),
    REFUSED: ("被拒绝或超期（无效）", "rejected or too late (not valid)"),
}
NET_LABEL = ("合计（蓝字+红字）", "net (blue + red)")

# Groupings.
BY_KIND, BY_RATE, BY_CODE, BY_BUYER, BY_DAY, BY_MONTH = "kind", "rate", "code", "buyer", "day", "month"
GROUPINGS = (BY_KIND, BY_RATE, BY_CODE, BY_BUYER, BY_DAY, BY_MONTH)
GROUPING_LABELS: dict[str, tuple[str, str]] = {
    BY_KIND: ("按发票种类", "by kind"),
    BY_RATE: ("按税率", "by tax rate"),
    BY_CODE: ("按税收分类编码", "by tax code"),
    BY_BUYER: ("按购买方", "by buyer"),
    BY_DAY: ("按日", "by day"),
    BY_MONTH: ("按月", "by month"),
}
KEY_HEADERS: dict[str, tuple[str, str]] = {
    BY_KIND: ("发票种类", "kind"),
    BY_RATE: ("税率", "rate"),
    BY_CODE: ("税收分类编码", "tax code"),
    BY_BUYER: ("购买方", "buyer"),
    BY_DAY: ("日期", "date"),
    BY_MONTH: ("月份", "month"),
}
SERIES_DAYS_MAX = 62  # a chart by day up to two months; by month beyond
KIND_SHORT = {InvoiceKind.NORMAL.value: ("普票", "ordinary"), InvoiceKind.SPECIAL.value: ("专票", "special")}


def label_of(labels: tuple[str, str], lang: str = "zh") -> str:
    return labels[0] if lang == "zh" else labels[1]


@dataclass(frozen=True)
class Figures:
    """A count and its amounts: 金额 excluding tax, 税额, and 价税合计."""

    count: int = 0
    amount: Decimal = ZERO
    tax: Decimal = ZERO

    @property
    def with_tax(self) -> Decimal:
        return self.amount + self.tax

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.count + other.count, self.amount + other.amount, self.tax + other.tax)

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "amount": f"{self.amount:f}", "tax": f"{self.tax:f}",
                "with_tax": f"{self.with_tax:f}"}


NONE = Figures()


def _net(figures: Mapping[str, Figures]) -> Figures:
    return figures.get(BLUE, NONE) + figures.get(RED, NONE)


@dataclass(frozen=True)
class GroupRow:
    """One group: its key (a kind, a rate code, a tax code, a buyer's tax id, a date), what the clerk reads, and
    its figures by category. `detail` is a buyer's tax id or a code's short name."""

    key: str
    label_zh: str
    label_en: str
    figures: Mapping[str, Figures]
    detail: str = ""
    day: date | None = None  # by day and by month: the first day

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def of(self, category: str) -> Figures:
        return self.figures.get(category, NONE)

    @property
    def net(self) -> Figures:
        return _net(self.figures)


@dataclass(frozen=True)
class SeriesPoint:
    """One bar of the chart: a day (or a month) and its net figures."""

    start: date
    label: str  # 11-03, or 2026-11
    net: Figures


@dataclass(frozen=True)
class MonthCheck:
    """For a whole month: what the monthly summary would send (app.services.months.figures), the state of the
    summary, and when the platform closes the month."""

    period: str  # YYYYMM
    count: int
    total_amount: Decimal
    total_tax: Decimal
    waiting: int  # invoices still without the platform's answer: the month cannot be confirmed yet
    state: str  # open / confirmed / mismatch / withdrawn / closed
    closes_at: datetime

    def state_label(self, lang: str = "zh") -> str:
        labels = {"open": ("未确认", "not confirmed"), months.CONFIRMED: ("已确认", "confirmed"),
                  months.MISMATCH: ("与平台不符", "differs from the platform"),
                  months.WITHDRAWN: ("已撤回，待重新确认", "withdrawn, to confirm again"),
                  months.CLOSED: ("已结账", "closed")}
        return label_of(labels.get(self.state, (self.state, self.state)), lang)


@dataclass(frozen=True)
class Statistics:
    start: date
    end: date  # inclusive
    by: str
    rows: tuple[GroupRow, ...]
    totals: Mapping[str, Figures]  # every category over the period
    series_unit: str  # day / month
    series: tuple[SeriesPoint, ...]
    month: MonthCheck | None = None  # when the period is one whole month
    made_at: datetime = field(default_factory=clock.now)

    def of(self, category: str) -> Figures:
        return self.totals.get(category, NONE)

    @property
    def net(self) -> Figures:
        return _net(self.totals)

    def period_label(self, lang: str = "zh") -> str:
        if self.month is not None:
            return f"{self.start.year}年{self.start.month:02d}月" if lang == "zh" else self.start.strftime("%Y-%m")
        return f"{self.start.isoformat()} — {self.end.isoformat()}"

    @property
    def matches_month(self) -> bool | None:
        """The net figures against what the monthly summary would confirm (None for a period not a month)."""
        if self.month is None:
            return None
        net = self.net
        return (net.count, net.amount, net.tax) == (self.month.count, self.month.total_amount, self.month.total_tax)


# --- periods ---------------------------------------------------------------------------------------------


def _period_error(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed([FieldError("period", zh, en)])


def month_period(text: str) -> tuple[date, date]:
    """'2026-11' (or 202611) -> its first and last day."""
    cleaned = text.strip().replace("-", "").replace("/", "")
    if not (len(cleaned) == 6 and cleaned.isascii() and cleaned.isdigit() and 1 <= int(cleaned[4:]) <= 12
            and 2000 <= int(cleaned[:4]) <= 2099):
        raise _period_error(f"月份应为 YYYY-MM（如 2026-11），不能是“{text}”",
                            f"the month must be YYYY-MM (e.g. 2026-11), not {text!r}")
    year, month = int(cleaned[:4]), int(cleaned[4:])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def parse_day(text: str, name: str = "period") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed([FieldError(name, f"日期应为 YYYY-MM-DD（如 2026-11-03），不能是“{text}”",
                                           f"a date must be YYYY-MM-DD (e.g. 2026-11-03), not {text!r}")]) from None


def default_month(today: date) -> date:
    """The month a clerk most likely checks: last month up to the 12th (its summary closes at 00:00 on the 13th),
    this month from the 13th on. Its first day."""
    if today.day < MONTH_CLOSE_DAY:
        return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return today.replace(day=1)


def check_period(start: date, end: date) -> None:
    if end < start:
        raise _period_error(f"结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}",
                            f"the end {end.isoformat()} is before the start {start.isoformat()}")


def whole_month(start: date, end: date) -> str | None:
    """YYYYMM when start..end is exactly one calendar month."""
    if start.day != 1 or (start.year, start.month) != (end.year, end.month):
        return None
    return period_of(start) if end.day == calendar.monthrange(end.year, end.month)[1] else None


# --- the queries ------------------------------------------------------------------------------------------


def _category(row_status: str, blue: int, numbered: int, direct: int) -> str:
    if row_status == status.ACCEPTED:
        return BLUE if blue else RED
    if row_status == status.CANCELLED:
        # A paper invoice cancelled in its month had its official number; a withdrawn pre-issue record never had
        # one; the direct channel takes its number at issue but cancels only what the platform rejected.
        return CANCELLED if numbered and not direct else WITHDRAWN
    if row_status == status.PENDING_UPLOAD:
        return PENDING
    if row_status == status.PRE_ISSUE:
        return PRE_ISSUE
    return REFUSED


def _fen(value: Any) -> Decimal:
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01")) if value else ZERO


def _in_period(start: date, end: date) -> Any:
    return (InvoiceRow.issued_date >= start.isoformat()) & (InvoiceRow.issued_date <= end.isoformat())


def _flags() -> list[Any]:
    """The columns a row's category is told by, grouped on (few values each)."""
    return [InvoiceRow.status, InvoiceRow.original_number.is_null().alias("blue"),
            InvoiceRow.official_number.is_null(False).alias("numbered"),
            (InvoiceRow.channel == "direct").alias("direct")]


def _invoice_groups(start: date, end: date, key: Any) -> Any:
    """(key, label, status, blue, numbered, direct, count, fen amount, fen tax) per group of invoices."""
    flags = _flags()
    return (InvoiceRow.select(key.alias("k"), peewee.SQL("''").alias("l"), *flags,
                              peewee.fn.COUNT(InvoiceRow.id),
                              peewee.fn.SUM(InvoiceRow.total_amount).coerce(False),
                              peewee.fn.SUM(InvoiceRow.total_tax).coerce(False))
            .where(_in_period(start, end))
            .group_by(key, *flags).tuples())


def _buyer_groups(start: date, end: date) -> Any:
    """By buyer as the invoice names it (name and tax id, as issued): key tax id, label name."""
    flags = _flags()
    return (InvoiceRow.select(InvoiceRow.buyer_tax_id, InvoiceRow.buyer_name, *flags,
                              peewee.fn.COUNT(InvoiceRow.id),
                              peewee.fn.SUM(InvoiceRow.total_amount).coerce(False),
                              peewee.fn.SUM(InvoiceRow.total_tax).coerce(False))
            .where(_in_period(start, end))
            .group_by(InvoiceRow.buyer_name, InvoiceRow.buyer_tax_id, *flags).tuples())


def _line_groups(start: date, end: date, key: Any) -> Any:
    """Per group of lines (a rate, a code): the invoices having such a line, and the lines' amounts."""
    flags = _flags()
    return (InvoiceLine.select(key.alias("k"), peewee.fn.MAX(InvoiceLine.short_name).alias("l"), *flags,
                               peewee.fn.COUNT(InvoiceRow.id.distinct()),
                               peewee.fn.SUM(InvoiceLine.amount).coerce(False),
                               peewee.fn.SUM(InvoiceLine.tax).coerce(False))
            .join(InvoiceRow, on=(InvoiceLine.invoice == InvoiceRow.id))
            .where(_in_period(start, end))
            .group_by(key, *flags).tuples())


def _collect(query: Any) -> dict[tuple[str, str], dict[str, Figures]]:
    """Rows of (key, label, status, blue, numbered, direct, count, amount, tax) summed by key and category, read
    one at a time (as many as there are groups); each key with the first label seen."""
    groups: dict[tuple[str, str], dict[str, Figures]] = {}
    labels: dict[tuple[str, str], str] = {}
    for key, label, row_status, blue, numbered, direct, count, amount, tax in query.iterator():
        ident = (str(key if key is not None else ""), "")
        labels.setdefault(ident, str(label or ""))
        category = _category(row_status, blue, numbered, direct)
        figures = groups.setdefault(ident, {})
        figures[category] = figures.get(category, NONE) + Figures(int(count), _fen(amount), _fen(tax))
    return {(k, labels[(k, "")]): v for (k, _), v in groups.items()}


def _collect_buyers(query: Any) -> dict[tuple[str, str], dict[str, Figures]]:
    groups: dict[tuple[str, str], dict[str, Figures]] = {}
    for tax_id, name, row_status, blue, numbered, direct, count, amount, tax in query.iterator():
        figures = groups.setdefault((str(tax_id or ""), str(name or "")), {})
        category = _category(row_status, blue, numbered, direct)
        figures[category] = figures.get(category, NONE) + Figures(int(count), _fen(amount), _fen(tax))
    return groups


def _kind_rows(groups: dict[tuple[str, str], dict[str, Figures]]) -> list[GroupRow]:
    order = [k.value for k in InvoiceKind]
    rows = []
    for (key, _), figures in sorted(groups.items(), key=lambda g: (order.index(g[0][0]) if g[0][0] in order
                                                                  else len(order), g[0][0])):
        try:
            kind = InvoiceKind(key)
            zh, en = f"{kind.label('zh')}（{KIND_SHORT[key][0]}）", kind.label("en")
        except ValueError:
            zh = en = key
        rows.append(GroupRow(key, zh, en, figures))
    return rows


def _rate_rows(groups: dict[tuple[str, str], dict[str, Figures]]) -> list[GroupRow]:
    order = [r.code for r in RATES]
    rows = []
    for (key, _), figures in sorted(groups.items(), key=lambda g: (order.index(g[0][0]) if g[0][0] in order
                                                                  else len(order), g[0][0])):
        rate = find_rate(key)
        rows.append(GroupRow(key, rate.label("zh") if rate else key, rate.label("en") if rate else key, figures))
    return rows


def _code_rows(groups: dict[tuple[str, str], dict[str, Figures]]) -> list[GroupRow]:
    codes = [key for key, _ in groups if key]
    names: dict[str, str] = {}
    for chunk in range(0, len(codes), 500):
        found = TaxCode.select(TaxCode.code, TaxCode.name).where(TaxCode.code.in_(codes[chunk:chunk + 500]))
        names.update((row.code, row.name) for row in found)
    rows = []
    for (key, short), figures in sorted(groups.items()):
        if not key:
            rows.append(GroupRow("", "（无编码，旧版发票）", "(no code: legacy invoices)", figures))
            continue
        name = names.get(key, "")
        shown = f"*{short}*{name}" if short and name else (name or short or key)
        rows.append(GroupRow(key, shown, shown, figures, detail=short))
    return rows


def _buyer_rows(groups: dict[tuple[str, str], dict[str, Figures]]) -> list[GroupRow]:
    ordered = sorted(groups.items(), key=lambda g: (-_net(g[1]).with_tax, g[0][1], g[0][0]))
    return [GroupRow(tax_id, name, name, figures, detail=tax_id) for (tax_id, name), figures in ordered]


def _day_rows(groups: dict[tuple[str, str], dict[str, Figures]], by_month: bool) -> list[GroupRow]:
    merged: dict[str, dict[str, Figures]] = {}
    for (key, _), figures in groups.items():
        bucket = merged.setdefault(key[:7] if by_month else key, {})
        for category, value in figures.items():
            bucket[category] = bucket.get(category, NONE) + value
    rows = []
    for key, figures in sorted(merged.items()):
        day = date.fromisoformat(f"{key}-01" if by_month else key)
        rows.append(GroupRow(key, key, key, figures, day=day))
    return rows


def _series(days: list[GroupRow], start: date, end: date) -> tuple[str, tuple[SeriesPoint, ...]]:
    """Every day (or month) of the period, the empty ones too, so the chart's axis is the calendar."""
    by_day = {row.key: row.net for row in days}
    if (end - start).days + 1 <= SERIES_DAYS_MAX:
        points = []
        day = start
        while day <= end:
            points.append(SeriesPoint(day, day.strftime("%m-%d"), by_day.get(day.isoformat(), NONE)))
            day += timedelta(days=1)
        return BY_DAY, tuple(points)
    by_month: dict[str, Figures] = {}
    for key, net in by_day.items():
        by_month[key[:7]] = by_month.get(key[:7], NONE) + net
    points = []
    month = date(start.year, start.month, 1)
    while month <= end:
        key = month.strftime("%Y-%m")
        points.append(SeriesPoint(month, key, by_month.get(key, NONE)))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return BY_MONTH, tuple(points)


def _month_check(period: str) -> MonthCheck:
    figures = months.figures(period)
    summary = months.summary(period)
    return MonthCheck(period, figures.count, figures.total_amount, figures.total_tax, figures.waiting,
                      summary.state if summary is not None else "open", month_close(period))


def statistics(start: date, end: date, by: str = BY_KIND) -> Statistics:
    """The figures of start..end (Beijing dates, both included), grouped `by`; two aggregate queries."""
    check_period(start, end)
    if by not in GROUPINGS:
        raise ValidationFailed([FieldError("by", f"分组应为 {'/'.join(GROUPINGS)} 之一，不能是“{by}”",
                                           f"group by one of {'/'.join(GROUPINGS)}, not {by!r}")])
    days = _day_rows(_collect(_invoice_groups(start, end, InvoiceRow.issued_date)), by_month=False)
    totals: dict[str, Figures] = {}
    for row in days:
        for category, value in row.figures.items():
            totals[category] = totals.get(category, NONE) + value
    if by == BY_DAY:
        rows = days
    elif by == BY_MONTH:
        rows = _day_rows({(r.key, ""): dict(r.figures) for r in days}, by_month=True)
    elif by == BY_KIND:
        rows = _kind_rows(_collect(_invoice_groups(start, end, InvoiceRow.kind)))
    elif by == BY_BUYER:
        rows = _buyer_rows(_collect_buyers(_buyer_groups(start, end)))
    elif by == BY_RATE:
        rows = _rate_rows(_collect(_line_groups(start, end, InvoiceLine.tax_rate)))
    else:
        rows = _code_rows(_collect(_line_groups(start, end, InvoiceLine.tax_code)))
    unit, series = _series(days, start, end)
    period = whole_month(start, end)
    return Statistics(start, end, by, tuple(rows), totals, unit, series,
                      _month_check(period) if period is not None else None)


def month_statistics(month: str, by: str = BY_KIND) -> Statistics:
    start, end = month_period(month)
    return statistics(start, end, by)


# --- what every output shares --------------------------------------------------------------------------------


def summary_lines(stats: Statistics, lang: str = "zh") -> list[str]:
    """The period's figures in words: the net, then each category, then the monthly summary's check."""
    zh = lang == "zh"

    def said(figures: Figures) -> str:
        if zh:
            return (f"{figures.count} 张，金额 {figures.amount:,.2f}，税额 {figures.tax:,.2f}，"
                    f"价税合计 {figures.with_tax:,.2f}")
        return (f"{figures.count}, amount {figures.amount:,.2f}, tax {figures.tax:,.2f}, "
                f"with tax {figures.with_tax:,.2f}")

    lines = [f"{label_of(NET_LABEL, lang)}：{said(stats.net)}" if zh else f"{label_of(NET_LABEL, lang)}: "
             f"{said(stats.net)}"]
    for category in (*INVOICE_CATEGORIES, *APART):
        figures = stats.of(category)
        if category in APART and not figures.count:
            continue
        name = label_of(CATEGORY_LABELS[category], lang)
        lines.append(f"{name}：{said(figures)}" if zh else f"{name}: {said(figures)}")
    if stats.by in (BY_RATE, BY_CODE):
        lines.append("按税率或编码分组时，一张发票有几种税率（编码）的行就在几组各计一张；金额按行计，总计按发票计"
                     if zh else "by rate or by code, an invoice with lines in several groups is counted once in each; "
                     "the amounts are the lines', the total counts each invoice once")
    check = stats.month
    if check is not None:
        closes = check.closes_at.strftime("%Y-%m-%d %H:%M")
        if zh:
            text = (f"月度汇总 {check.period}（{check.state_label('zh')}）：{check.count} 张，金额 "
                    f"{check.total_amount:,.2f}，税额 {check.total_tax:,.2f}；平台于 {closes} 结账")
            if check.waiting:
                text += f"；还有 {check.waiting} 张未得到平台结果，全部上传后才能确认"
        else:
            text = (f"monthly summary {check.period} ({check.state_label('en')}): {check.count}, amount "
                    f"{check.total_amount:,.2f}, tax {check.total_tax:,.2f}; the platform closes it at {closes}")
            if check.waiting:
                text += f"; {check.waiting} still wait for the platform: confirm once all are uploaded"
        lines.append(text)
    return lines


def as_json(stats: Statistics) -> dict[str, Any]:
    """What `stats --json` prints: amounts as exact decimal strings."""
    check = stats.month

    def row_json(row: GroupRow) -> dict[str, Any]:
        value: dict[str, Any] = {"key": row.key, "label": row.label_zh, "label_en": row.label_en}
        if row.detail:
            value["detail"] = row.detail
        value.update({c: row.of(c).as_json() for c in CATEGORIES if c in INVOICE_CATEGORIES or row.of(c).count})
        value["net"] = row.net.as_json()
        return value

    return {
        "from": stats.start.isoformat(), "to": stats.end.isoformat(), "by": stats.by,
        "totals": {**{c: stats.of(c).as_json() for c in CATEGORIES}, "net": stats.net.as_json()},
        "rows": [row_json(row) for row in stats.rows],
        "series_unit": stats.series_unit,
        "series": [{"start": p.start.isoformat(), "label": p.label, **p.net.as_json()} for p in stats.series],
        "month": None if check is None else {
            "period": check.period, "state": check.state, "count": check.count,
            "total_amount": f"{check.total_amount:f}", "total_tax": f"{check.total_tax:f}",
            "waiting": check.waiting, "closes_at": check.closes_at.isoformat(), "matches": stats.matches_month},
    }


# --- the table every output shows ----------------------------------------------------------------------------

NET = "net"
FIELDS: dict[str, tuple[str, str]] = {"count": ("张数", "count"), "amount": ("金额", "amount"),
                                      "tax": ("税额", "tax"), "with_tax": ("价税合计", "with tax")}
TABLE_GROUPS: dict[str, tuple[str, str]] = {BLUE: ("蓝字发票", "blue"), RED: ("红字发票", "red"),
                                            CANCELLED: ("作废发票", "cancelled"), NET: ("合计（蓝字+红字）", "net")}
# Every figure (files and JSON), and the shorter set a screen or an A4 page shows (with tax of the net only).
FULL_COLUMNS: tuple[tuple[str, str], ...] = tuple((g, f) for g in TABLE_GROUPS for f in FIELDS)
SHORT_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (g, f) for g in TABLE_GROUPS for f in FIELDS if f != "with_tax" or g == NET)


def key_headers(by: str, lang: str = "zh") -> list[str]:
    """The columns naming a group: one, or two for a code (code, name) and a buyer (name, tax id)."""
    if by == BY_CODE:
        return [label_of(KEY_HEADERS[by], lang), label_of(("名称", "name"), lang)]
    if by == BY_BUYER:
        return [label_of(KEY_HEADERS[by], lang), label_of(("纳税人识别号", "taxpayer id"), lang)]
    return [label_of(KEY_HEADERS[by], lang)]


def key_cells(row: GroupRow, by: str, lang: str = "zh") -> list[str]:
    if by == BY_CODE:
        return [row.key or "—", row.label(lang)]
    if by == BY_BUYER:
        return [row.label(lang), row.detail]
    return [row.label(lang)]


def figure_of(figures: Mapping[str, Figures], group: str, name: str) -> int | Decimal:
    chosen = _net(figures) if group == NET else figures.get(group, NONE)
    value: int | Decimal = getattr(chosen, name)
    return value


GROUPS_SHORT: dict[str, tuple[str, str]] = {BLUE: ("蓝字", "blue"), RED: ("红字", "red"),
                                            CANCELLED: ("作废", "cancelled"), NET: ("合计", "net")}


def column_header(column: tuple[str, str], lang: str = "zh", sep: str = " ", short: bool = False) -> str:
    group, name = column
    groups = GROUPS_SHORT if short else TABLE_GROUPS
    return f"{label_of(groups[group], lang)}{sep}{label_of(FIELDS[name], lang)}"


def total_label(lang: str = "zh") -> str:
    return label_of(("总计", "total"), lang)

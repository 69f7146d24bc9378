"""What a clerk asks of the invoice list: search words, filters and a sort (one query for the list,
the command line's `list` and the exports).

Pure data and its checks; the SQL is app.store.invoice_search's. Search words match any part of a
number (provisional or official), the buyer's name or tax id, an item's name or the remarks; words of
three characters or more go through the trigram index, shorter ones through the directory of buyer
and item names (a trigram index cannot hold them), so no word ever scans the invoices.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from app.core import status as statuses
from app.core.errors import FieldError, ValidationFailed
from app.core.invoice import InvoiceKind

# Where a word is looked for: everywhere (the search box), or in one field (the command line's options).
ANYWHERE, NUMBER, BUYER, ITEM, REMARKS = "text", "number", "buyer", "item", "remarks"
SEARCH_FIELDS: dict[str, tuple[str, str]] = {
    ANYWHERE: ("搜索", "search"),
    NUMBER: ("号码", "number"),
    BUYER: ("购买方", "buyer"),
    ITEM: ("项目名称", "item"),
    REMARKS: ("备注", "remarks"),
}
# Fields whose short words (one or two characters) the name directory answers.
DIRECTORY_FIELDS = (BUYER, ITEM)
SHORTEST_INDEXED = 3  # the trigram index holds words of three characters or more
LONGEST_WORD = 100

# Sortable columns: key -> (Chinese, English).
SORTS: dict[str, tuple[str, str]] = {
    "number": ("号码", "number"),
    "official_number": ("正式号码", "official number"),
    "issued_at": ("开票日期", "issue date"),
    "buyer_name": ("购买方", "buyer"),
    "buyer_tax_id": ("购买方税号", "buyer tax id"),
    "total_with_tax": ("价税合计", "total with tax"),
    "status": ("状态", "status"),
    "kind": ("发票种类", "kind"),
    "red": ("红字", "red-letter"),
}
DEFAULT_SORT = "number"

MEDIA = {"electronic": ("电子发票", "electronic"), "paper": ("纸质发票", "paper")}
CHANNELS = {"direct": ("直连（乐企）", "direct"), "platform": ("平台", "platform")}
# Upload states, as a clerk groups the queue's: key -> (label zh, label en, queue states).
UPLOAD_STATES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "waiting": ("待上传", "waiting", statuses.QUEUE_WAITING_STATES),
    "accepted": ("已上传", "accepted", (statuses.Q_ACCEPTED,)),
    "rejected": ("被拒绝", "rejected", (statuses.Q_REJECTED,)),
    "not_sent": ("不再上传", "never sent", (statuses.Q_WITHDRAWN, statuses.Q_TOO_LATE)),
}


def _choices(values: object) -> str:
    return ", ".join(str(v) for v in values)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class InvoiceQuery:
    """Search words by field (ANYWHERE for the search box), filters (None: any) and a sort.

    Ranges include both ends. red: True for red-letter invoices, False for blue ones."""

    words: tuple[tuple[str, str], ...] = ()  # (field, word)
    date_from: date | None = None
    date_to: date | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    status: str | None = None
    kind: str | None = None
    medium: str | None = None
    red: bool | None = None
    channel: str | None = None
    upload: str | None = None
    sort: str = DEFAULT_SORT
    descending: bool = True
    _checked: bool = field(default=False, compare=False, repr=False)

    @classmethod
    def searching(cls, text: str = "", **filters: object) -> InvoiceQuery:
        """The search box's text split into words (spaces, 全角 too), each looked for anywhere."""
        return cls(words=tuple((ANYWHERE, w) for w in split_words(text)), **filters)  # type: ignore[arg-type]

    def with_words(self, search_field: str, text: str) -> InvoiceQuery:
        return replace(self, words=self.words + tuple((search_field, w) for w in split_words(text)))

    @property
    def plain(self) -> bool:
        """Only a status (or nothing) and the default order: the list can count it and jump anywhere."""
        return (not self.words and self == InvoiceQuery(status=self.status))

    def check(self) -> InvoiceQuery:
        """Every bad value at once, each naming its field (nothing runs on a bad query)."""
        errors: list[FieldError] = []

        def bad(name: str, zh: str, en: str) -> None:
            errors.append(FieldError(name, zh, en))

        for search_field, word in self.words:
            # The messages leave out the field: the form shows its label, the command line its option.
            if search_field not in SEARCH_FIELDS:
                bad(search_field, f"不能按“{search_field}”搜索", f"cannot search by {search_field!r}")
            elif len(word) > LONGEST_WORD:
                bad(search_field, f"搜索词太长（最多 {LONGEST_WORD} 个字符）",
                    f"the search word is too long (at most {LONGEST_WORD} characters)")
            elif len(word) < SHORTEST_INDEXED and search_field not in (*DIRECTORY_FIELDS, ANYWHERE):
                bad(search_field, f"至少输入 {SHORTEST_INDEXED} 个字符",
                    f"type at least {SHORTEST_INDEXED} characters")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            bad("date_to", "结束日期早于开始日期", "the end date is before the start date")
        for name, amount in (("min_total", self.min_total), ("max_total", self.max_total)):
            if amount is not None and (not amount.is_finite() or abs(amount) >= Decimal("1e12")):
                bad(name, "金额不是有效数字", "the amount is not a usable number")
        if (self.min_total is not None and self.max_total is not None and self.min_total.is_finite()
                and self.max_total.is_finite() and self.min_total > self.max_total):
            bad("max_total", "最高金额小于最低金额", "the highest amount is below the lowest")
        for name, value, allowed, zh in (
                ("status", self.status, statuses.INVOICE_STATUSES, "发票状态"),
                ("kind", self.kind, tuple(k.value for k in InvoiceKind), "发票种类"),
                ("medium", self.medium, tuple(MEDIA), "发票介质"),
                ("channel", self.channel, tuple(CHANNELS), "开具通道"),
                ("upload", self.upload, tuple(UPLOAD_STATES), "上传状态"),
                ("sort", self.sort, tuple(SORTS), "排序列")):
            if value is not None and value not in allowed:
                bad(name, f"“{value}”不是{zh}（{_choices(allowed)}）", f"{value!r} is not one of {_choices(allowed)}")
        if errors:
            raise ValidationFailed(errors)
        return replace(self, _checked=True)


def split_words(text: str) -> list[str]:
    """Words of a search: split at spaces (ASCII or 全角), empty ones dropped, the same word once."""
    seen: list[str] = []
    for word in text.replace("\u3000", " ").split():
        if word not in seen:
            seen.append(word)
    return seen

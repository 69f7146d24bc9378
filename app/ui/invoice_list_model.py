"""The invoice list as a lazy table model: rows are read from the store a page at a time.

Only the pages the view asks for are loaded, and only a few are kept, so the list of a
million invoices costs a count and a few hundred rows of memory. Pages are read by key, never by
OFFSET (app.store.queries.list_page), so the deepest page costs what the first does: the page next
to a held one continues from its edge id; the first and the last page read from either end; a jump
into the middle computes its first id (row r of an unfiltered list without gaps is id newest - r;
otherwise one pass builds the first id of every page, kept until the next refresh).

A search, a filter beyond the status or another order (an InvoiceQuery that is not plain) is read the way
Qt reads a list of unknown length: the first page at once, the next as the view scrolls to the end
(canFetchMore / fetchMore), each by key from where the last ended (app.store.queries.search_page). Nothing
counts the matches first: the first page of a search of a million invoices costs a page.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from app.core import status
from app.core.invoice import InvoiceKind
from app.core.invoice_query import InvoiceQuery
from app.core.money import format_money_grouped
from app.core.status import status_label
from app.store import invoice_search, queries
from app.ui.i18n import language, tr
from app.ui.limits_panel import OVERDUE_COLOR, OverdueMarks

ROOT = QModelIndex()  # the invisible root: a table's rows have no other parent
PAGE_SIZE = 200
KEPT_PAGES = 12  # a screenful needs one or two; the rest make scrolling back cheap

# 号码 is the desk's provisional number (on the paper printed offline); 正式号码 the platform's.
COLUMNS = ("号码", "正式号码", "开票日期", "购买方", "价税合计", "状态", "种类", "购买方税号", "红字")
COLUMNS_EN = ("Number", "Official number", "Date", "Buyer", "Total with tax", "Status", "Kind", "Buyer tax id",
              "Red/blue")
NUMBER, OFFICIAL, DATE, BUYER, TOTAL, STATUS, KIND, TAX_ID, RED = range(len(COLUMNS))
# The InvoiceQuery sort of each column.
SORT_OF_COLUMN = ("number", "official_number", "issued_at", "buyer_name", "total_with_tax", "status", "kind",
                  "buyer_tax_id", "red")
KIND_SHORT = {InvoiceKind.NORMAL.value: ("普票", "ordinary"), InvoiceKind.SPECIAL.value: ("专票", "special")}

# Shorter words than app.core.status's where the column is narrow; the full label is the cell's tooltip.
# A pre-issue record says plainly it is not an invoice.
LIST_LABELS = {status.PRE_ISSUE: ("预开单（非发票）", "pre-issue (not an invoice)")}


def list_status(row_status: str, overdue: bool = False) -> str:
    """The status column's text: overdue is a held row past its offline deadline."""
    labels = LIST_LABELS.get(row_status)
    text = (labels[0] if language() == "zh" else labels[1]) if labels else status_label(row_status, language())
    if overdue:
        if row_status == status.PRE_ISSUE:
            return text + tr("，逾期", ", overdue")
        return tr("逾期未上传", "overdue upload")
    return text


class InvoiceListModel(QAbstractTableModel):
    def __init__(self, parent=None, page_size: int = PAGE_SIZE, kept_pages: int = KEPT_PAGES) -> None:
        super().__init__(parent)
        self.page_size = page_size
        self.kept_pages = kept_pages
        self.status: str | None = None
        self.query = InvoiceQuery()
        self._found: list[queries.InvoiceSummary] | None = None  # a search's rows so far (None: the plain list)
        self._after: tuple | None = None  # where a search's next page starts (None: all read)
        self._prepared: invoice_search.Prepared | None = None
        self._range = queries.id_range(None)
        self._count = self._range.count
        self._anchors: list[int] | None = None  # the first id of every page, for jumps into a filtered list
        self._pages: OrderedDict[int, list[queries.InvoiceSummary]] = OrderedDict()
        # What was read from the store, for the status bar, tests and the benchmark.
        self.rows_fetched = 0
        self.overdue_marks = OverdueMarks()
        self.pages_fetched = 0

    # --- loading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Count again and drop every cached page (after an invoice is issued or uploaded)."""
        self.beginResetModel()
        self._pages.clear()
        self._anchors = None
        if self.query.plain:
            self._found = self._after = self._prepared = None
            self._range = queries.id_range(self.status)
            self._count = self._range.count
        else:
            # Its words looked up once for every page this search reads as the view scrolls.
            self._prepared = invoice_search.prepare(self.query)
            page = queries.search_page(self._prepared, self.page_size)
            self._found, self._after = page.rows, page.after
            self._count = len(page.rows)
            self.rows_fetched += len(page.rows)
            self.pages_fetched += 1
        self.endResetModel()

    def set_query(self, query: InvoiceQuery) -> None:
        """Show what the query finds, in its order (checked first: a bad query raises ValidationFailed
        and the list stays as it was)."""
        self.query = query.check()
        self.status = self.query.status
        self.refresh()

    def set_status(self, status: str | None) -> None:
        self.set_query(replace(self.query, status=status or None))

    @property
    def searching(self) -> bool:
        return self._found is not None

    @property
    def complete(self) -> bool:
        """Every row is in the model (a search read to its end, or the plain list)."""
        return self._found is None or self._after is None

    # --- a search, read as the view scrolls ---------------------------------------------------

    def canFetchMore(self, parent=ROOT) -> bool:
        return not parent.isValid() and self._found is not None and self._after is not None

    def fetchMore(self, parent=ROOT) -> None:
        if not self.canFetchMore(parent) or self._found is None:
            return
        page = queries.search_page(self._prepared or self.query, self.page_size, self._after)
        self.rows_fetched += len(page.rows)
        self.pages_fetched += 1
        self._after = page.after
        if page.rows:
            first = len(self._found)
            self.beginInsertRows(ROOT, first, first + len(page.rows) - 1)
            self._found.extend(page.rows)
            self._count = len(self._found)
            self.endInsertRows()

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """A click on a header: the same search in that column's order (the id breaking ties)."""
        if not 0 <= column < len(SORT_OF_COLUMN):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        self.set_query(replace(self.query, sort=SORT_OF_COLUMN[column], descending=descending))

    def _page(self, number: int) -> list[queries.InvoiceSummary]:
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)
            return page
        page = self._read_page(number)
        self.rows_fetched += len(page)
        self.pages_fetched += 1
        self._pages[number] = page
        while len(self._pages) > self.kept_pages:
            self._pages.popitem(last=False)
        return page

    def _read_page(self, number: int) -> list[queries.InvoiceSummary]:
        """Page `number` by key: from a held neighbour's edge, from either end, or from its computed first id."""
        size, status = self.page_size, self.status
        before, after = self._pages.get(number - 1), self._pages.get(number + 1)
        if before:
            return queries.list_page(size, status, below=before[-1].id)
        if after and len(after) == size:
            return queries.list_page(size, status, above=after[0].id)
        if number == 0:
            return queries.list_page(size, status)
        if (number + 1) * size >= self._count:  # the last page: the oldest rows, read from that end
            return queries.list_page(max(self._count - number * size, 0), status, above=0)
        newest = self._range.newest
        if self._range.dense and newest is not None:
            return queries.list_page(size, status, at_most=newest - number * size)
        if self._anchors is None:
            self._anchors = queries.page_anchors(size, status)
        if number >= len(self._anchors):
            return []
        return queries.list_page(size, status, at_most=self._anchors[number])

    def summary(self, row: int) -> queries.InvoiceSummary | None:
        if not 0 <= row < self._count:
            return None
        if self._found is not None:
            return self._found[row]
        page = self._page(row // self.page_size)
        offset = row % self.page_size
        # The store may have changed under us (another instance); a short page means refresh.
        return page[offset] if offset < len(page) else None

    def row_of(self, number: str) -> int | None:
        """The row of an invoice among the loaded pages, or on the first page (the newest)."""
        if self._found is not None:
            return next((row for row, item in enumerate(self._found) if item.number == number), None)
        if self._count and 0 not in self._pages:
            self._page(0)
        for page_number, page in self._pages.items():
            for offset, item in enumerate(page):
                if item.number == number:
                    return page_number * self.page_size + offset
        return None

    @property
    def cached_rows(self) -> int:
        if self._found is not None:
            return len(self._found)
        return sum(len(page) for page in self._pages.values())

    # --- Qt model ---------------------------------------------------------------------------

    def rowCount(self, parent=ROOT) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent=ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(COLUMNS[section], COLUMNS_EN[section])
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if index.column() == TOTAL:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.ForegroundRole):
            return None
        item = self.summary(index.row())
        if item is None:
            return tr("正在加载…") if role == Qt.ItemDataRole.DisplayRole else None
        column = index.column()
        if role == Qt.ItemDataRole.ForegroundRole:
            # Red: held past its upload deadline (app/ui/limits_panel.py), or too late to upload at all (the
            # whole row: it is no invoice any more).
            if item.status == status.UPLOAD_TOO_LATE:
                return OVERDUE_COLOR
            overdue = column == STATUS and self.overdue_marks.overdue(item.status, item.issued_at)
            return OVERDUE_COLOR if overdue else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == STATUS:
                tips = [status_label(item.status, language())] if item.status in LIST_LABELS else []
                deadline = self.overdue_marks.deadline_text(item.status, item.issued_at)
                return "\n".join([*tips, deadline] if deadline else tips) or None
            if column == NUMBER:
                kind = InvoiceKind(item.kind).label(language())
                official = f"\n{tr('正式号码')} {item.official_number}" if item.official_number else ""
                return f"{kind}{official}"
            return None
        if column == NUMBER:
            return item.number
        if column == OFFICIAL:
            return item.official_number or ""
        if column == DATE:
            return item.issued_at[:16].replace("T", " ")
        if column == BUYER:
            return item.buyer_name
        if column == TOTAL:
            return format_money_grouped(item.total_with_tax)
        if column == STATUS:
            return list_status(item.status, self.overdue_marks.overdue(item.status, item.issued_at))
        if column == KIND:
            short = KIND_SHORT.get(item.kind)
            return (short[0] if language() == "zh" else short[1]) if short else item.kind
        if column == TAX_ID:
            return item.buyer_tax_id
        if column == RED:
            return tr("红字", "red") if item.red else tr("蓝字", "blue")
        return None

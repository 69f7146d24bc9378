"""The list's search box and filters: what they hold becomes one InvoiceQuery (app.core.invoice_query),
the same the command line's `list` builds, which the list model reads (app/ui/invoice_list_model.py).

A first row for every day (the search words, the status, the upload state), a second one shown on
request (the dates, the amounts, the kind, the medium, red or blue, the channel). The search waits for a
pause in typing (SEARCH_PAUSE_MS) or Enter; a bad amount is marked and named, and the list stays as it was.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import FieldError, ValidationFailed
from app.core.invoice import InvoiceKind
from app.core.invoice_query import CHANNELS, MEDIA, SEARCH_FIELDS, UPLOAD_STATES, InvoiceQuery
from app.core.money import parse_decimal
from app.core.status import INVOICE_STATUSES, status_label
from app.ui.i18n import language, tr
from app.ui.marking import mark

SEARCH_PAUSE_MS = 300


def _label(pair: tuple[str, ...]) -> str:
    return pair[0] if language() == "zh" else pair[1]


class FilterBar(QWidget):
    """Emits changed(query) when the clerk changes what the list shows; problem(text) for a bad value."""

    changed = Signal(object)
    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filter_bar")
        self._sort = ("number", True)  # kept from the list's header across filter changes
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        first = QHBoxLayout()
        first.addWidget(QLabel(tr("搜索", "Search")))
        self.search = QLineEdit(self)
        self.search.setObjectName("search_box")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(tr("号码、购买方名称或税号、项目名称、备注（空格分开多个词）",
                                          "number, buyer name or tax id, item, remarks (spaces between words)"))
        self.search.setToolTip(tr("任意部分均可；一两个字时查购买方名称和项目名称",
                                  "any part; one or two characters look in buyer and item names"))
        self.search.setMinimumWidth(260)
        first.addWidget(self.search, 1)
        first.addWidget(QLabel(tr("状态")))
        self.status = self._combo("status_filter", [(status_label(s, language()), s) for s in INVOICE_STATUSES])
        first.addWidget(self.status)
        first.addWidget(QLabel(tr("上传", "Upload")))
        self.upload = self._combo("upload_filter", [(_label(v[:2]), k) for k, v in UPLOAD_STATES.items()])
        first.addWidget(self.upload)
        self.more_button = QToolButton(self)
        self.more_button.setObjectName("more_filters")
        self.more_button.setText(tr("更多筛选", "More filters"))
        self.more_button.setCheckable(True)
        first.addWidget(self.more_button)
        self.clear_button = QPushButton(tr("清除筛选", "Clear filters"), self)
        self.clear_button.setObjectName("clear_filters")
        first.addWidget(self.clear_button)
        outer.addLayout(first)

        self.more = QWidget(self)
        self.more.setObjectName("more_filter_row")
        second = QHBoxLayout(self.more)
        second.setContentsMargins(0, 0, 0, 0)
        self.use_from = QCheckBox(tr("开票日期从", "Issued from"), self.more)
        self.use_from.setObjectName("use_date_from")
        self.date_from = self._date("date_from")
        self.use_to = QCheckBox(tr("至", "to"), self.more)
        self.use_to.setObjectName("use_date_to")
        self.date_to = self._date("date_to")
        for dated in (self.use_from, self.date_from, self.use_to, self.date_to):
            second.addWidget(dated)
        second.addWidget(QLabel(tr("价税合计", "Total"), self.more))
        self.min_total = self._amount("min_total", tr("最低", "min"))
        second.addWidget(self.min_total)
        second.addWidget(QLabel("–", self.more))
        self.max_total = self._amount("max_total", tr("最高", "max"))
        second.addWidget(self.max_total)
        self.kind = self._combo("kind_filter", [(k.label(language()), k.value) for k in InvoiceKind], self.more,
                                tr("全部种类", "any kind"))
        self.medium = self._combo("medium_filter", [(_label(v), k) for k, v in MEDIA.items()], self.more,
                                  tr("电子和纸质", "any medium"))
        self.red = self._combo("red_filter", [(tr("蓝字", "blue"), False), (tr("红字", "red"), True)], self.more,
                               tr("红字和蓝字", "red and blue"))
        self.channel = self._combo("channel_filter", [(_label(v), k) for k, v in CHANNELS.items()], self.more,
                                   tr("全部通道", "any channel"))
        for combo in (self.kind, self.medium, self.red, self.channel):
            second.addWidget(combo)
        second.addStretch(1)
        self.more.setVisible(False)
        outer.addWidget(self.more)

        self.pause = QTimer(self)
        self.pause.setSingleShot(True)
        self.pause.setInterval(SEARCH_PAUSE_MS)
        self.pause.timeout.connect(self.apply)
        self.search.textChanged.connect(lambda _text: self.pause.start())
        self.search.returnPressed.connect(self.apply)
        for combo in (self.status, self.upload, self.kind, self.medium, self.red, self.channel):
            combo.currentIndexChanged.connect(lambda _index: self.apply())
        for box in (self.use_from, self.use_to):
            box.toggled.connect(lambda _on: self.apply())
        for edit in (self.date_from, self.date_to):
            edit.dateChanged.connect(lambda _day, e=edit: self._date_changed(e))
        for amount in (self.min_total, self.max_total):
            amount.editingFinished.connect(self.apply)
        self.more_button.toggled.connect(self.more.setVisible)
        self.clear_button.clicked.connect(self.clear)

    def _combo(self, name: str, choices: list[tuple[str, object]], parent: QWidget | None = None,
               any_text: str | None = None) -> QComboBox:
        """any_text names the filter when it lets everything through (where no label stands beside it)."""
        combo = QComboBox(parent or self)
        combo.setObjectName(name)
        combo.addItem(any_text or tr("全部"), None)
        for text, value in choices:
            combo.addItem(text, value)
        return combo

    def _date(self, name: str) -> QDateEdit:
        edit = QDateEdit(QDate.currentDate(), self.more)
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def _amount(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self.more)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setMaximumWidth(110)
        return edit

    def _date_changed(self, edit: QDateEdit) -> None:
        box = self.use_from if edit is self.date_from else self.use_to
        if box.isChecked():
            self.apply()
        else:
            box.setChecked(True)  # picking a date means filtering by it

    # --- the query ------------------------------------------------------------------------------

    def set_sort(self, sort: str, descending: bool) -> None:
        self._sort = (sort, descending)

    def query(self) -> InvoiceQuery:
        """What the bar holds, checked; ValidationFailed names the fields that are wrong."""
        errors: list[FieldError] = []
        totals: list[Decimal | None] = []
        for edit, name_zh, name_en in ((self.min_total, "最低金额", "lowest total"),
                                       (self.max_total, "最高金额", "highest total")):
            text = edit.text().strip().replace(",", "").replace("，", "")
            value = parse_decimal(text) if text else None
            if text and value is None:
                errors.append(FieldError(edit.objectName(), f"{name_zh}：“{text}”不是金额",
                                         f"{name_en}: {text!r} is not an amount"))
            totals.append(value)
        if errors:
            raise ValidationFailed(errors)
        sort, descending = self._sort
        return InvoiceQuery.searching(
            self.search.text(),
            date_from=_day(self.date_from) if self.use_from.isChecked() else None,
            date_to=_day(self.date_to) if self.use_to.isChecked() else None,
            min_total=totals[0], max_total=totals[1],
            status=self.status.currentData(), kind=self.kind.currentData(), medium=self.medium.currentData(),
            red=self.red.currentData(), channel=self.channel.currentData(), upload=self.upload.currentData(),
            sort=sort, descending=descending).check()

    def apply(self) -> InvoiceQuery | None:
        """Tell the list (changed), or say what is wrong (problem) and leave it as it is."""
        self.pause.stop()
        for edit in (self.search, self.min_total, self.max_total, self.date_to):
            mark(edit, None)
        try:
            chosen = self.query()
        except ValidationFailed as failed:
            texts = []
            for error in failed.errors:
                text = error.message(language())
                if error.field in SEARCH_FIELDS:  # a word's message leaves its field to the form
                    text = f"{_label(SEARCH_FIELDS[error.field])}{'：' if language() == 'zh' else ': '}{text}"
                widget = self.search if error.field in SEARCH_FIELDS else self.findChild(QWidget, error.field)
                if widget is not None:
                    mark(widget, text)
                texts.append(text)
            self.problem.emit("；".join(texts))
            return None
        self.changed.emit(chosen)
        return chosen

    def clear(self) -> None:
        """Every filter back to 全部 and the search emptied, in one change of the list."""
        widgets: list[QWidget] = [self.search, self.status, self.upload, self.kind, self.medium, self.red,
                                  self.channel, self.use_from, self.use_to, self.min_total, self.max_total]
        for widget in widgets:
            widget.blockSignals(True)
        self.search.clear()
        for combo in (self.status, self.upload, self.kind, self.medium, self.red, self.channel):
            combo.setCurrentIndex(0)
        self.use_from.setChecked(False)
        self.use_to.setChecked(False)
        self.min_total.clear()
        self.max_total.clear()
        for widget in widgets:
            widget.blockSignals(False)
        self.apply()


def _day(edit: QDateEdit) -> date:
    picked = edit.date()
    return date(picked.year(), picked.month(), picked.day())


"""The invoice form: a clerk types an invoice, sees every mistake as it is typed, and issues it.

On every edit the form builds the draft (the protocol's invoice body, fields as typed) and
asks app.services.issuing.prepare_invoice, the same check the CLI and the issue service use.
Each FieldError is shown on its widget or cell; 开具 is enabled only when there is none.

While the form holds something typed it is kept as a draft (app.services.drafts) a moment after the last edit
and when it closes, so a closed window or a crash loses nothing; issuing deletes the draft in the issuing
transaction, 放弃 deletes it. A correction (load_correction) keeps no draft: the rejected invoice it corrects
stays in the list to correct again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from itertools import pairwise

import peewee
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.capitals import LARGEST, amount_in_capitals
from app.core.clock import in_beijing, now
from app.core.errors import DeskError, FieldError, ValidationFailed, field_label
from app.core.invoice import Invoice, InvoiceKind, Medium, Party
from app.core.money import format_money_grouped
from app.core.parties import ID_TYPES
from app.core.taxid import normalize_tax_id
from app.services.catalog_lines import expand_catalog_lines
from app.services.drafts import DraftGone, discard_draft, replace_draft, save_draft
from app.services.issuing import IssuedInvoice, NoSellerProfile, issue_invoice, prepare_invoice
from app.services.seller import SellerSettings
from app.store.catalog_queries import CustomerEntry, ItemEntry, complete_customers, complete_items
from app.store.drafts import DraftContent
from app.store.taxcode_search import TaxCodeHit, search_codes
from app.ui.completion import Entry, LookupCompleter
from app.ui.draft_figures import line_figures
from app.ui.i18n import language, tr
from app.ui.line_choices import LineChoices
from app.ui.line_table import (
    COMPLETIONS,
    KEYS,
    NAME,
    QUANTITY,
    SPEC,
    LineTableModel,
    LineTableView,
    code_entries,
    item_entries,
)
from app.ui.marking import mark

log = logging.getLogger(__name__)

# The buyer's text fields (key of the body's buyer block, label).
BUYER_FIELDS = (("name", "名称"), ("tax_id", "纳税人识别号"), ("id_number", "证件号码"), ("address", "地址"),
                ("phone", "电话"), ("bank", "开户行"), ("account", "账号"))
BUYER_KEYS = (*(key for key, _ in BUYER_FIELDS), "natural_person", "id_type")
PEOPLE = (("payee", "收款人"), ("reviewer", "复核"), ("drawer", "开票人"))
KINDS = ((InvoiceKind.NORMAL, "数电普票", "normal (数电普票)"), (InvoiceKind.SPECIAL, "数电专票", "special (数电专票)"))
MEDIA = ((Medium.ELECTRONIC, "电子发票", "electronic"), (Medium.PAPER, "纸质发票", "paper"))
# Errors on line fields not typed in a cell of their own, and the cell that shows them.
LINE_CELL_OF = {"amount": "amount", "tax": "tax", "amount_with_tax": "amount", "discount": "item_name",
                "name": "item_name", "short_name": "tax_code", "item": "item_name", "nature": "item_name",
                "line_no": "item_name", "original_line_no": "item_name"}
# A draft is saved this long after the last edit: often enough that a crash loses a few keystrokes at most,
# seldom enough that typing never waits on the disk.
DRAFT_DELAY_MS = 1500


def customer_entries(customers: list[CustomerEntry]) -> list[Entry]:
    entries = []
    for customer in customers:
        parts = [Party(customer.name, natural_person=customer.natural_person).printed_name]
        if customer.tax_id:
            parts.append(customer.tax_id)
        if customer.address:
            parts.append(customer.address)
        entries.append(Entry("  ".join(parts), customer.name, customer))
    return entries


class InvoiceForm(QDialog):
    issued = Signal(str)  # the number of the invoice just issued

    def __init__(self, seller: SellerSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seller = seller
        self.setWindowTitle(tr("新开发票"))
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self._fit_to_screen(1180, 780)
        self.invoice: Invoice | None = None
        self.errors: list[FieldError] = []
        self.last_issued: IssuedInvoice | None = None
        self.last_pick_error = ""
        self.dirty = False
        self._touched: set[str] = set()
        self._line_rows: list[int] = []  # draft line i is table row _line_rows[i]
        self.code_browser: QDialog | None = None
        # The service that issues what the form holds: issue_invoice (deleting the form's draft in its
        # transaction), or for a correction the cancel-and-reissue service (see load_correction).
        self.issuer: Callable[..., IssuedInvoice] = self._issue_with_draft
        # The form's draft in the store (None until first saved); keeps_draft is off for a correction.
        self.draft_id: int | None = None
        self.keeps_draft = True
        self.draft_gone = False  # issued or deleted elsewhere: not saved again (see save_draft_now)
        self.draft_error = ""  # why the last save failed ("" once saved)
        self.total_with_tax = Decimal("0.00")  # as shown, kept with the draft for the list of drafts
        self.draft_timer = QTimer(self)
        self.draft_timer.setSingleShot(True)
        self.draft_timer.setInterval(DRAFT_DELAY_MS)
        self.draft_timer.timeout.connect(self._draft_due)
        self._build()
        self._reset_fields()

    # --- layout -----------------------------------------------------------------------------

    def _fit_to_screen(self, width: int, height: int) -> None:
        """The wanted size, within the screen's free area (its task bar left out; scaling already applied)."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is not None:
            free = screen.availableGeometry()
            width, height = min(width, free.width() - 16), min(height, free.height() - 40)  # the title bar
        self.resize(width, height)

    def _build(self) -> None:
        # Everything but the buttons scrolls: on 1366×768, or 1080p at 150 %, the form is taller than the screen,
        # and 开具 / 关闭 must stay in sight.
        outer = QVBoxLayout(self)
        self.form_scroll = QScrollArea(self)
        self.form_scroll.setObjectName("form_scroll")
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        content = QWidget(self.form_scroll)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        self.form_scroll.setWidget(content)
        outer.addWidget(self.form_scroll, 1)

        top = QHBoxLayout()
        top.addWidget(QLabel(tr("发票种类")))
        self.kind = QComboBox(self)
        self.kind.setObjectName("kind")
        for kind, zh, en in KINDS:
            self.kind.addItem(tr(zh, en), kind.value)
        top.addWidget(self.kind)
        top.addSpacing(12)
        top.addWidget(QLabel(tr("介质", "Medium")))
        self.medium = QComboBox(self)
        self.medium.setObjectName("medium")
        for medium, zh, en in MEDIA:
            self.medium.addItem(tr(zh, en), medium.value)
        top.addWidget(self.medium)
        top.addSpacing(12)
        self.prices_include_tax = QCheckBox(tr("单价含税"), self)
        self.prices_include_tax.setObjectName("prices_include_tax")
        top.addWidget(self.prices_include_tax)
        top.addStretch(1)
        colon = "：" if language() == "zh" else ": "
        seller_label = QLabel(f"{tr('销售方')}{colon}{self.seller.party.name}  {self.seller.party.tax_id}", self)
        seller_label.setStyleSheet("color: #555;")
        top.addWidget(seller_label)
        layout.addLayout(top)

        layout.addWidget(self._build_buyer())

        lines_box = QGroupBox(tr("项目明细", "Lines"), self)
        lines_layout = QVBoxLayout(lines_box)
        self.choices = LineChoices(self.seller.taxpayer_type)
        self.lines = LineTableModel(self, self.choices)
        self.line_view = LineTableView(lines_box)
        self.line_view.setObjectName("lines")
        self.line_view.setModel(self.lines)
        self.line_view.item_delegate.search = lambda text: item_entries(complete_items(text, COMPLETIONS))
        self.line_view.item_delegate.picked = self._item_picked
        self.line_view.code_delegate.search = lambda text: code_entries(search_codes(text, limit=COMPLETIONS))
        self.line_view.code_delegate.picked = self._code_picked
        lines_layout.addWidget(self.line_view)
        line_buttons = QHBoxLayout()
        self.add_line_button = QPushButton(tr("添加行"), lines_box)
        self.remove_line_button = QPushButton(tr("删除行"), lines_box)
        self.discount_button = QPushButton(tr("添加折扣", "Add discount"), lines_box)
        self.code_button = QPushButton(tr("选择编码…", "Choose code…"), lines_box)
        self.code_button.setObjectName("choose_code")
        hint = QLabel(tr("项目名称可输入名称、编码开头或拼音首字母（如 rjkf）查找项目信息",
                         "Type a name, a code's first digits or pinyin initials (rjkf) to find a catalog item"),
                      lines_box)
        hint.setStyleSheet("color: #777;")
        for button in (self.add_line_button, self.remove_line_button, self.discount_button, self.code_button):
            button.setAutoDefault(False)  # Enter belongs to the line table, never to a button
            line_buttons.addWidget(button)
        line_buttons.addStretch(1)
        line_buttons.addWidget(hint)
        lines_layout.addLayout(line_buttons)
        layout.addWidget(lines_box, 3)

        totals = QGridLayout()
        totals.setHorizontalSpacing(18)
        self.total_amount_label = QLabel(self)
        self.total_tax_label = QLabel(self)
        self.total_label = QLabel(self)
        self.capitals_label = QLabel(self)
        for figure in (self.total_amount_label, self.total_tax_label, self.total_label):
            figure.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            figure.setMinimumWidth(120)
        self.total_label.setStyleSheet("font-weight: bold;")
        self.capitals_label.setStyleSheet("font-weight: bold;")
        totals.addWidget(QLabel(tr("合计金额")), 0, 0)
        totals.addWidget(self.total_amount_label, 0, 1)
        totals.addWidget(QLabel(tr("合计税额")), 0, 2)
        totals.addWidget(self.total_tax_label, 0, 3)
        totals.addWidget(QLabel(tr("价税合计（大写）")), 1, 0)
        totals.addWidget(self.capitals_label, 1, 1, 1, 3)
        totals.addWidget(QLabel(tr("价税合计（小写）")), 1, 4)
        totals.addWidget(self.total_label, 1, 5)
        totals.setColumnStretch(6, 1)
        layout.addLayout(totals)

        bottom = QFormLayout()
        self.remarks = QLineEdit(self)
        self.remarks.setObjectName("remarks")
        bottom.addRow(tr("备注"), self.remarks)
        people = QHBoxLayout()
        self.people: dict[str, QLineEdit] = {}
        for key, label in PEOPLE:
            edit = QLineEdit(self)
            edit.setObjectName(key)
            self.people[key] = edit
            people.addWidget(QLabel(tr(label)))
            people.addWidget(edit)
        bottom.addRow(people)
        layout.addLayout(bottom)

        self.messages = QListWidget(self)
        self.messages.setObjectName("messages")
        self.messages.setMaximumHeight(96)
        self.messages.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        layout.addWidget(self.messages)

        buttons = QHBoxLayout()
        self.status_label = QLabel(self)
        buttons.addWidget(self.status_label, 1)
        self.draft_label = QLabel(self)
        self.draft_label.setObjectName("draft_state")
        self.draft_label.setStyleSheet("color: #777;")
        buttons.addWidget(self.draft_label)
        self.issue_button = QPushButton(tr("开具") + "  (Ctrl+Enter)", self)
        self.issue_button.setObjectName("issue")
        self.issue_button.setDefault(False)
        self.issue_button.setAutoDefault(False)
        self.close_button = QPushButton(tr("关闭"), self)
        self.close_button.setAutoDefault(False)
        buttons.addWidget(self.issue_button)
        buttons.addWidget(self.close_button)
        outer.addLayout(buttons)

        order = [self.kind, self.medium, self.prices_include_tax, self.buyer["name"], self.natural_person,
                 self.buyer["tax_id"], self.confirm_short_name, self.confirm_tax_id, self.id_type,
                 self.buyer["id_number"], self.buyer["address"], self.buyer["phone"], self.buyer["bank"],
                 self.buyer["account"], self.line_view, self.add_line_button, self.remove_line_button,
                 self.discount_button, self.code_button, self.remarks, *self.people.values(), self.issue_button,
                 self.close_button]
        for first, second in pairwise(order):
            QWidget.setTabOrder(first, second)
        self.tab_order = order

        # edits
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.medium.currentIndexChanged.connect(lambda _i: self._edited("medium"))
        self.prices_include_tax.toggled.connect(self._prices_mode_changed)
        for key, edit in self.buyer.items():
            edit.textEdited.connect(lambda _text, key=key: self._edited(f"buyer.{key}"))
        self.natural_person.toggled.connect(self._natural_person_toggled)
        self.id_type.currentIndexChanged.connect(lambda _i: self._edited("buyer.id_type", "buyer.id_number"))
        # A confirmation is for what was typed when it was given: typing again withdraws it.
        self.buyer["tax_id"].textEdited.connect(lambda _text: self.confirm_tax_id.setChecked(False))
        self.buyer["name"].textEdited.connect(lambda _text: self.confirm_short_name.setChecked(False))
        self.confirm_tax_id.toggled.connect(lambda _on: self._edited("buyer.tax_id"))
        self.confirm_short_name.toggled.connect(lambda _on: self._edited("buyer.name"))
        self.lines.edited.connect(self._lines_edited)
        self.line_view.line_wanted.connect(self.add_line)
        self.add_line_button.clicked.connect(self.add_line)
        self.remove_line_button.clicked.connect(self.remove_line)
        self.discount_button.clicked.connect(self.add_discount)
        self.code_button.clicked.connect(lambda: self.choose_code())
        self.remarks.textEdited.connect(lambda _text: self._edited("remarks"))
        for key, edit in self.people.items():
            edit.textEdited.connect(lambda _text, key=key: self._edited(key))
        self.issue_button.clicked.connect(self.confirm_and_issue)
        self.close_button.clicked.connect(self.close)

        for sequence in ("Ctrl+Return", "Ctrl+Enter", "Ctrl+S"):
            QShortcut(QKeySequence(sequence), self, self.confirm_and_issue)
        QShortcut(QKeySequence("Ctrl+N"), self, self.new_invoice)

    def _build_buyer(self) -> QGroupBox:
        box = QGroupBox(tr("购买方信息"), self)
        grid = QGridLayout(box)
        grid.setVerticalSpacing(4)
        self.buyer: dict[str, QLineEdit] = {}
        for key, _label in BUYER_FIELDS:
            edit = QLineEdit(box)
            edit.setObjectName(f"buyer_{key}")
            self.buyer[key] = edit
        self.buyer["name"].setPlaceholderText(tr("输入名称、税号开头或拼音首字母查找客户",
                                                 "Type a name, a tax id's start or pinyin initials"))
        self.buyer["tax_id"].setMaxLength(30)
        self.buyer["id_number"].setMaxLength(30)
        self.natural_person = QCheckBox(tr("自然人", "Natural person"), box)
        self.natural_person.setObjectName("buyer_natural_person")
        self.natural_person.setToolTip(tr("购买方是个人：打印为“名称（个人）”",
                                          "The buyer is a person: printed 'name（个人）'"))
        self.id_type = QComboBox(box)
        self.id_type.setObjectName("buyer_id_type")
        self.id_type.addItem(tr("（无）", "(none)"), "")
        for code, (zh, en) in ID_TYPES.items():
            self.id_type.addItem(f"{code} {zh if language() == 'zh' else en}", code)
        self.id_type.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.id_type.setMinimumContentsLength(12)
        self.confirm_tax_id = QCheckBox(tr("我已核实此纳税人识别号"), box)
        self.confirm_tax_id.setObjectName("confirm_tax_id")
        self.confirm_short_name = QCheckBox(tr("购买方不是自然人（已确认）",
                                               "The buyer is not a natural person (confirmed)"), box)
        self.confirm_short_name.setObjectName("confirm_short_name")
        for confirmation in (self.confirm_tax_id, self.confirm_short_name):
            # Shown only when asked for; the room stays, so the block does not jump while typing.
            policy = confirmation.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            confirmation.setSizePolicy(policy)
            confirmation.setVisible(False)
            confirmation.setStyleSheet("color: #8a4b00;")

        name_row = QHBoxLayout()
        name_row.addWidget(self.buyer["name"], 1)
        name_row.addWidget(self.natural_person)
        grid.addWidget(QLabel(tr("名称")), 0, 0)
        grid.addLayout(name_row, 0, 1)
        grid.addWidget(QLabel(tr("纳税人识别号")), 0, 2)
        grid.addWidget(self.buyer["tax_id"], 0, 3)
        left = Qt.AlignmentFlag.AlignLeft
        grid.addWidget(self.confirm_short_name, 1, 1, left)
        grid.addWidget(self.confirm_tax_id, 1, 3, left)
        grid.addWidget(QLabel(tr("证件类型", "ID type")), 2, 0)
        grid.addWidget(self.id_type, 2, 1)
        grid.addWidget(QLabel(tr("证件号码", "ID number")), 2, 2)
        grid.addWidget(self.buyer["id_number"], 2, 3)
        for position, key in enumerate(("address", "phone", "bank", "account")):
            row, column = divmod(position, 2)
            grid.addWidget(QLabel(tr(dict(BUYER_FIELDS)[key])), 3 + row, column * 2)
            grid.addWidget(self.buyer[key], 3 + row, column * 2 + 1)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 2)
        self.id_type.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        self.buyer_completer = LookupCompleter(lambda text: customer_entries(complete_customers(text, 15)), self)
        self.buyer_completer.attach(self.buyer["name"])
        self.buyer_completer.on_picked(self._customer_picked)
        return box

    def _reset_fields(self) -> None:
        """An empty invoice: one blank line, the clerks from the seller profile."""
        widgets = (self.kind, self.medium, self.prices_include_tax, *self.buyer.values(), self.natural_person,
                   self.id_type, self.remarks, *self.people.values(), self.confirm_tax_id, self.confirm_short_name)
        for widget in widgets:
            widget.blockSignals(True)
        self.kind.setCurrentIndex(0)
        self.medium.setCurrentIndex(0)
        self.prices_include_tax.setChecked(False)
        self.lines.set_prices_include_tax(False)
        for edit in (*self.buyer.values(), self.remarks):
            edit.clear()
        self.natural_person.setChecked(False)
        self.id_type.setCurrentIndex(0)
        self.confirm_tax_id.setChecked(False)
        self.confirm_short_name.setChecked(False)
        self.people["payee"].setText(self.seller.payee)
        self.people["reviewer"].setText(self.seller.reviewer)
        self.people["drawer"].setText(self.seller.drawer)
        for widget in widgets:
            widget.blockSignals(False)
        self.lines.blockSignals(True)
        self.lines.set_rows([])
        self.lines.add_line()
        self.lines.blockSignals(False)
        self.lines.layoutChanged.emit()
        self._touched = set()
        self.validate()
        self.dirty = False
        self.buyer["name"].setFocus()

    def load_draft(self, body: dict) -> None:
        """Fill the form from an invoice body (protocol v2), e.g. a rejected invoice the clerk will correct.

        Unit prices in a body exclude tax, so the prices-include-tax switch is off.
        """
        self._reset_fields()
        self.kind.setCurrentIndex(max(0, self.kind.findData(body.get("kind", "normal"))))
        self.medium.setCurrentIndex(max(0, self.medium.findData(body.get("medium", "electronic"))))
        buyer = body.get("buyer") or {}
        for key, edit in self.buyer.items():
            edit.setText(str(buyer.get(key) or ""))
        self.natural_person.setChecked(buyer.get("natural_person") is True)
        self.id_type.setCurrentIndex(max(0, self.id_type.findData(buyer.get("id_type") or "")))
        self.remarks.setText(body.get("remarks") or "")
        for key, edit in self.people.items():
            if body.get(key):
                edit.setText(body[key])
        rows = [self.lines.line_from_body(line) for line in body.get("lines", []) if isinstance(line, dict)]
        self.lines.set_rows(rows)
        if not self.lines.rows:
            self.lines.add_line()
        self._touched = {f"buyer.{key}" for key in BUYER_KEYS} | {f"row{r}" for r in range(len(self.lines.rows))}
        self.validate()
        self.dirty = True
        self._draft_edited()

    def load_saved_draft(self, draft: DraftContent) -> None:
        """Continue a draft (发票 → 草稿…): the form as it was saved, its prices mode, catalog items and
        confirmations too; it goes on saving into the same draft, and issuing it deletes that one."""
        body = draft.body
        self.load_draft(body)
        if body.get("prices_include_tax") is True:
            # The prices were typed with tax: the switch says so, nothing is converted.
            self.prices_include_tax.blockSignals(True)
            self.prices_include_tax.setChecked(True)
            self.prices_include_tax.blockSignals(False)
            self.lines.set_prices_include_tax(True)
        lines = [line for line in body.get("lines", []) if isinstance(line, dict)]
        for values, line in zip(self.lines.rows, lines, strict=False):
            if isinstance(line.get("item"), int):
                values["item"] = line["item"]  # the catalog item it came from, counted on issue
        for box, on in ((self.confirm_tax_id, draft.confirmed_tax_id),
                        (self.confirm_short_name, draft.confirmed_short_name)):
            box.blockSignals(True)
            box.setChecked(on)
            box.blockSignals(False)
        self.draft_id = draft.id
        self.draft_gone = False
        self.draft_timer.stop()  # nothing new to save yet
        self.setWindowTitle(tr("新开发票（草稿）", "New invoice (draft)"))
        self.draft_label.setText(tr("草稿", "Draft"))
        self.validate()

    def load_correction(self, number: str, body: dict, reason: str) -> None:
        """Correct a rejected invoice: issuing cancels `number` and issues this one, both or neither."""
        from app.services.lifecycle import cancel_and_reissue

        self.load_draft(body)
        self.keeps_draft = False
        self.draft_timer.stop()
        self.setWindowTitle(tr("更正并重开 {number}", "Correct and reissue {number}", number=number))

        def reissue(draft: dict, *, confirmed_tax_ids: list[str], confirmed_short_name: bool,
                    clerk: str) -> IssuedInvoice:
            # The buyer was issued to before: the customer book remembers a short name it confirmed.
            return cancel_and_reissue(number, draft, reason=reason, clerk=clerk, confirmed_tax_ids=confirmed_tax_ids)

        self.issuer = reissue

    # --- what was typed ---------------------------------------------------------------------

    def _edited(self, *paths: str) -> None:
        self._touched.update(paths)
        self.dirty = True
        self.validate()
        self._draft_edited()

    def _natural_person_toggled(self, on: bool) -> None:
        if on:  # a person: the confirmation that the buyer is not one goes
            self.confirm_short_name.blockSignals(True)
            self.confirm_short_name.setChecked(False)
            self.confirm_short_name.blockSignals(False)
        self._edited("buyer.natural_person", "buyer.name")

    def _kind_changed(self) -> None:
        if self.current_kind() is InvoiceKind.SPECIAL:
            # A special invoice needs the buyer's tax id: show at once when it is missing.
            self._touched |= {"buyer.name", "buyer.tax_id"}
        self._edited("kind")

    def _prices_mode_changed(self, on: bool) -> None:
        self.lines.set_prices_include_tax(on)
        # A price as the catalog gave it follows the switch (converted by the service); one typed stays.
        for row, values in enumerate(self.lines.rows):
            item_id = values.get("item")
            if item_id is None:
                continue
            before, after = self._item_line(item_id, not on), self._item_line(item_id, on)
            if before is not None and after is not None and values["unit_price"] == str(before.get("unit_price", "")):
                values["unit_price"] = str(after.get("unit_price", ""))
                self.lines.dataChanged.emit(self.lines.index(row, 0), self.lines.index(row, len(KEYS) - 1))
        self._edited("prices_include_tax")

    def _item_line(self, item_id: int, prices_include_tax: bool) -> dict | None:
        """The line a catalog item makes on an invoice with or without tax in its prices (the issue service's
        own expansion of `{"item": id}`); None when the catalog has no such item any more."""
        try:
            expanded = expand_catalog_lines({"prices_include_tax": prices_include_tax, "lines": [{"item": item_id}]})
        except ValidationFailed as failed:
            self.last_pick_error = failed.describe(language())
            return None
        line: dict = expanded["lines"][0]
        return line

    def _lines_edited(self, row: int) -> None:
        if row >= 0:
            self._touched.add(f"row{row}")
        self.dirty = True
        self.validate()
        self._draft_edited()

    def current_kind(self) -> InvoiceKind:
        return InvoiceKind(self.kind.currentData())

    def confirmed_tax_ids(self) -> list[str]:
        tax_id = normalize_tax_id(self.buyer["tax_id"].text())
        return [tax_id] if tax_id and self.confirm_tax_id.isChecked() else []

    def confirmed_short_name(self) -> bool:
        return self.confirm_short_name.isChecked()

    def draft(self) -> dict:
        """The protocol's invoice body as typed; number and amounts are left to the service."""
        self._line_rows = [row for row in range(self.lines.rowCount()) if not self.lines.is_blank(row)]
        buyer: dict[str, object] = {key: edit.text() for key, edit in self.buyer.items()}
        buyer["natural_person"] = self.natural_person.isChecked()
        buyer["id_type"] = self.id_type.currentData() or ""
        return {
            "kind": self.current_kind().value,
            "medium": self.medium.currentData(),
            "prices_include_tax": self.prices_include_tax.isChecked(),
            "buyer": buyer,
            "lines": [self.lines.draft_line(row) for row in self._line_rows],
            "remarks": self.remarks.text(),
            **{key: edit.text() for key, edit in self.people.items()},
        }

    # --- checking ---------------------------------------------------------------------------

    def validate(self) -> list[FieldError]:
        draft = self.draft()
        try:
            self.invoice = prepare_invoice(draft, self.seller, self.confirmed_tax_ids(), self.confirmed_short_name())
            self.errors = []
        except ValidationFailed as failed:
            self.invoice = None
            self.errors = failed.errors
        self._show_errors()
        self._show_figures(draft)
        self.issue_button.setEnabled(self.invoice is not None)
        return self.errors

    def _message_of(self, error: FieldError, lang: str) -> str:
        label = field_label(error.field, lang)
        return f"{label}：{error.message(lang)}" if lang == "zh" else f"{label}: {error.message(lang)}"

    def _show_errors(self) -> None:
        lang = language()
        widget_errors: dict[QWidget, str] = {}
        cell_errors: dict[tuple[int, str], str] = {}
        overridable_id = overridable_name = False
        self.messages.clear()
        for error in self.errors:
            text = error.message(lang)
            self.messages.addItem(self._message_of(error, lang))
            if error.field == "buyer.tax_id" and error.overridable:
                overridable_id = True
            if error.field == "buyer.name" and error.overridable:
                overridable_name = True
            target = self._widget_for(error.field)
            if isinstance(target, tuple):
                row, key = target
                if f"row{row}" in self._touched:
                    cell_errors.setdefault((row, key), text)
            elif target is not None and self._shows(error.field):
                widget_errors.setdefault(target, text)
        for widget in (*self.buyer.values(), self.natural_person, self.id_type, self.remarks, *self.people.values(),
                       self.kind, self.medium, self.line_view, self.total_amount_label, self.total_tax_label,
                       self.total_label):
            mark(widget, widget_errors.get(widget))
        self.lines.show_results(self._line_figures_by_row(), cell_errors)
        # A confirmation is offered only for what the clerk may confirm, and stays while ticked.
        self.confirm_tax_id.setVisible(overridable_id or self.confirm_tax_id.isChecked())
        self.confirm_short_name.setVisible(overridable_name or self.confirm_short_name.isChecked())
        if self.errors:
            self.status_label.setText(tr("请检查以下项目："))
            self.status_label.setStyleSheet("color: #b71c1c;")
        else:
            self.status_label.setText(tr("可以开具。"))
            self.status_label.setStyleSheet("color: #1b5e20;")

    def _shows(self, path: str) -> bool:
        """Marks wait until the clerk has typed in the field; the list below names every error."""
        if path in ("lines", "total_with_tax", "total_amount", "total_tax"):
            return any(key.startswith("row") for key in self._touched)
        return path in self._touched

    def _widget_for(self, path: str):
        """The widget (or (row, column key) of the line table) a FieldError path points at."""
        if path == "buyer.natural_person":
            return self.natural_person
        if path == "buyer.id_type":
            return self.id_type
        if path.startswith("buyer."):
            return self.buyer.get(path.split(".", 1)[1])
        if path.startswith("lines[") and "]" in path:
            index = int(path[6:path.index("]")])
            rest = path[path.index("]") + 1:].lstrip(".")
            row = self._line_rows[index] if index < len(self._line_rows) else None
            if row is None:
                return self.line_view
            key = LINE_CELL_OF.get(rest, rest)
            return (row, key if key in KEYS else "item_name")
        if path == "lines":
            return self.line_view
        if path in self.people:
            return self.people[path]
        if path == "remarks":
            return self.remarks
        if path == "kind":
            return self.kind
        if path == "medium":
            return self.medium
        # Each total marks its own figure: the single-invoice limit checks 合计金额 (excluding tax), not 价税合计.
        if path == "total_amount":
            return self.total_amount_label
        if path == "total_tax":
            return self.total_tax_label
        if path == "total_with_tax":
            return self.total_label
        return None

    def _line_figures_by_row(self) -> dict[int, tuple[Decimal, Decimal]]:
        if self.invoice is not None:
            return {row: (line.amount, line.tax)
                    for row, line in zip(self._line_rows, self.invoice.lines, strict=False)}
        include = self.prices_include_tax.isChecked()
        figures = {}
        for row in self._line_rows:
            result = line_figures(self.lines.draft_line(row), include)
            if result is not None:
                figures[row] = result
        return figures

    def _show_figures(self, draft: dict) -> None:
        if self.invoice is not None:
            amount, tax = self.invoice.total_amount, self.invoice.total_tax
        else:
            figures = self._line_figures_by_row().values()
            amount = sum((a for a, _ in figures), Decimal("0.00"))
            tax = sum((t for _, t in figures), Decimal("0.00"))
        total = amount + tax
        self.total_with_tax = total
        self.total_amount_label.setText(f"¥{format_money_grouped(amount)}")
        self.total_tax_label.setText(f"¥{format_money_grouped(tax)}")
        self.total_label.setText(f"¥{format_money_grouped(total)}")
        self.capitals_label.setText(amount_in_capitals(total) if abs(total) <= LARGEST else "")

    # --- the customer book ------------------------------------------------------------------

    def _customer_picked(self, customer: CustomerEntry) -> None:
        for key, edit in self.buyer.items():
            edit.setText(getattr(customer, key))
        for widget in (self.natural_person, self.id_type, self.confirm_tax_id, self.confirm_short_name):
            widget.blockSignals(True)
        self.natural_person.setChecked(customer.natural_person)
        self.id_type.setCurrentIndex(max(0, self.id_type.findData(customer.id_type)))
        # What the book remembers the clerk confirmed for this customer, the issue service applies itself.
        self.confirm_tax_id.setChecked(False)
        self.confirm_short_name.setChecked(False)
        for widget in (self.natural_person, self.id_type, self.confirm_tax_id, self.confirm_short_name):
            widget.blockSignals(False)
        self._edited(*(f"buyer.{key}" for key in BUYER_KEYS))
        if customer.tax_id or customer.natural_person or self.current_kind() is InvoiceKind.NORMAL:
            self.line_view.setFocus()
            self.line_view.setCurrentIndex(self.lines.index(0, NAME))
        else:
            self.buyer["tax_id"].setFocus()

    # --- lines ------------------------------------------------------------------------------

    def _item_picked(self, row: int, item: ItemEntry) -> None:
        """A catalog item chosen for a line: the issue service's own expansion fills it (its price converted
        to this invoice's with- or without-tax prices), then the clerk types the quantity."""
        if not 0 <= row < self.lines.rowCount() or self.lines.is_discount(row):
            return
        self.last_pick_error = ""
        line = self._item_line(item.id, self.prices_include_tax.isChecked())
        if line is None:
            self.status_label.setText(self.last_pick_error)
            return
        self.lines.fill_from_item(row, line, item.id)
        self.line_view.setCurrentIndex(self.lines.index(row, QUANTITY))
        self.line_view.setFocus()

    def _code_picked(self, row: int, hit: TaxCodeHit) -> None:
        if not 0 <= row < self.lines.rowCount() or self.lines.is_discount(row):
            return
        self.lines.set_code(row, hit)
        self.line_view.setCurrentIndex(self.lines.index(row, SPEC))
        self.line_view.setFocus()

    def choose_code(self, row: int | None = None) -> QDialog | None:
        """选择编码…: the code browser, searching the line's item name; its pick sets the line's code."""
        from app.ui.taxcode_browser import TaxCodeBrowser

        self._commit_open_editor()
        if row is None:
            row = self.line_view.currentIndex().row()
        if not 0 <= row < self.lines.rowCount() or self.lines.is_discount(row):
            row = 0
        values = self.lines.rows[row]
        browser = TaxCodeBrowser(self, on_pick=lambda hit: self._code_picked(row, hit),
                                 text=values["tax_code"] or values["item_name"])
        if values["tax_code"]:
            browser.select_code(values["tax_code"])
        browser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.code_browser = browser
        browser.destroyed.connect(lambda _=None: setattr(self, "code_browser", None))
        browser.open()
        return browser

    def add_line(self) -> None:
        self._commit_open_editor()
        row = self.lines.add_line()
        index = self.lines.index(row, NAME)
        self.line_view.setCurrentIndex(index)
        self.line_view.setFocus()
        self.line_view.edit(index)

    def add_discount(self) -> None:
        """A discount on the current line (or the one a discount row belongs to): type its amount."""
        self._commit_open_editor()
        row = self.line_view.currentIndex().row()
        if self.lines.is_discount(row):
            row -= 1
        at = self.lines.add_discount(row)
        if at is None:
            return
        index = self.lines.index(at, KEYS.index("amount"))
        self.line_view.setCurrentIndex(index)
        self.line_view.setFocus()
        self.line_view.edit(index)

    def remove_line(self) -> None:
        self._commit_open_editor()
        row = self.line_view.currentIndex().row()
        self.lines.remove_line(row if row >= 0 else self.lines.rowCount() - 1)

    def _commit_open_editor(self) -> None:
        """An edit still open in a cell counts as typed (Ctrl+Enter while editing a price)."""
        view = self.line_view
        if view.state() != QAbstractItemView.State.EditingState:
            return
        editor = view.indexWidget(view.currentIndex())
        if editor is not None:
            view.commitData(editor)
            view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)

    def codes_refreshed(self) -> None:
        """The table of codes changed (a refresh): short names and allowed rates are read again."""
        self.lines.refresh_codes()
        self.validate()

    # --- the draft --------------------------------------------------------------------------

    def has_content(self) -> bool:
        """Anything the clerk would miss: a buyer field, a line, the remarks (the clerks come from the profile)."""
        return (any(edit.text().strip() for edit in self.buyer.values()) or bool(self.remarks.text().strip())
                or any(not self.lines.is_blank(row) for row in range(self.lines.rowCount())))

    def _draft_edited(self) -> None:
        if self.keeps_draft:
            self.draft_timer.start()  # again: the save waits for a pause in the typing

    def _draft_due(self) -> None:
        # Only a form on screen saves by itself; a hidden one is being closed or torn down.
        if self.isVisible():
            self.save_draft_now()

    def save_draft_now(self) -> int | None:
        """Keep what the form holds as its draft, now; a form emptied again drops its draft. Returns the draft id.

        A failure to save is shown beside the buttons and logged, never raised: the clerk goes on typing (and
        the next pause tries again). A draft issued or deleted elsewhere is not made again (see DraftGone)."""
        self.draft_timer.stop()
        if not self.keeps_draft or self.draft_gone:
            return self.draft_id
        try:
            if not self.has_content():
                if self.draft_id is not None:
                    discard_draft(self.draft_id)
                    self.draft_id = None
                    self.draft_label.setText("")
                return None
            body, total = self.draft(), self.total_with_tax
            confirmed = self.confirm_tax_id.isChecked(), self.confirm_short_name.isChecked()
            if self.draft_id is None:
                self.draft_id = save_draft(body, total_with_tax=total, confirmed_tax_id=confirmed[0],
                                           confirmed_short_name=confirmed[1])
            else:
                replace_draft(self.draft_id, body, total_with_tax=total, confirmed_tax_id=confirmed[0],
                              confirmed_short_name=confirmed[1])
        except DraftGone:
            self.draft_gone = True
            self.draft_label.setText(tr("草稿已在别处开具或删除", "Draft issued or deleted elsewhere"))
            return self.draft_id
        except (DeskError, peewee.PeeweeException) as error:
            log.warning("the draft could not be saved: %s", error)
            self.draft_error = error.describe(language()) if isinstance(error, DeskError) else str(error)
            self.draft_label.setText(tr("草稿未能保存", "Draft not saved"))
            self.draft_label.setToolTip(self.draft_error)
            return self.draft_id
        self.draft_error = ""
        saved_at = in_beijing(now()).strftime("%H:%M:%S")
        self.draft_label.setText(tr("草稿已保存 {time}", "Draft saved {time}", time=saved_at))
        self.draft_label.setToolTip("")
        return self.draft_id

    def drop_draft(self) -> None:
        """放弃: the draft goes from the store."""
        self.draft_timer.stop()
        if self.draft_id is not None:
            try:
                discard_draft(self.draft_id)
            except (DeskError, peewee.PeeweeException) as error:
                log.warning("the draft could not be deleted: %s", error)
        self.draft_id = None
        self.draft_gone = False
        self.draft_label.setText("")

    def _issue_with_draft(self, draft: dict, *, confirmed_tax_ids: list[str], confirmed_short_name: bool,
                          clerk: str) -> IssuedInvoice:
        # The draft is deleted in the issuing transaction: a crash cannot leave one behind to be issued again.
        return issue_invoice(draft, confirmed_tax_ids=confirmed_tax_ids, confirmed_short_name=confirmed_short_name,
                             clerk=clerk, draft_id=self.draft_id)

    # --- issuing and closing ----------------------------------------------------------------

    def confirm_and_issue(self) -> IssuedInvoice | None:
        """The button and the shortcuts: asks once (Enter confirms, Esc goes back to the form), then issues.
        An invoice cannot be taken back; a slip of Ctrl+S must not issue one."""
        self._commit_open_editor()
        if self.validate() or self.invoice is None:
            return self.issue()  # shows what is wrong; nothing to confirm
        invoice = self.invoice
        buttons = QMessageBox.StandardButton
        box = QMessageBox(QMessageBox.Icon.Question, tr("开具发票", "Issue the invoice"),
                          tr("开具给“{buyer}”的{kind}，价税合计 ¥{total}？", "Issue the {kind} to {buyer}, "
                             "¥{total} with tax?", buyer=invoice.buyer.name, kind=self.kind.currentText(),
                             total=format_money_grouped(invoice.total_with_tax)),
                          buttons.Yes | buttons.Cancel, self)
        box.setObjectName("confirm_issue")
        box.button(buttons.Yes).setText(tr("开具(&Y)", "&Issue"))
        box.button(buttons.Cancel).setText(tr("返回修改", "Back to the form"))
        box.setDefaultButton(buttons.Yes)
        box.setEscapeButton(buttons.Cancel)
        if box.exec() != buttons.Yes:
            return None
        return self.issue()

    def issue(self) -> IssuedInvoice | None:
        self._commit_open_editor()
        if self.validate():
            self._touched |= {f"buyer.{key}" for key in BUYER_KEYS} | set(self.people) | {"remarks", "medium"}
            self._touched |= {f"row{row}" for row in range(self.lines.rowCount())}
            self._show_errors()
            return None
        self.draft_timer.stop()  # what is issued is not saved as a draft meanwhile
        try:
            issued = self.issuer(self.draft(), confirmed_tax_ids=self.confirmed_tax_ids(),
                                 confirmed_short_name=self.confirmed_short_name(),
                                 clerk=self.people["drawer"].text().strip())
        except DraftGone as gone:
            # Issued from another window or desk, maybe: refused once, so one draft does not make two invoices.
            self.draft_id, self.draft_gone = None, False
            self.draft_label.setText("")
            QMessageBox.warning(self, tr("未开具", "Not issued"), tr(
                "{reason}。为免重复开具，本次未开具：请先在发票列表中核对；确需开具，请再次开具。",
                "{reason}. So as not to issue it twice, nothing was issued: check the invoice list first; "
                "issue again if it is still wanted.", reason=gone.message(language()).rstrip("。.")))
            return None
        except ValidationFailed as failed:
            self.errors = failed.errors
            self._show_errors()
            self.issue_button.setEnabled(False)
            return None
        except NoSellerProfile as error:
            QMessageBox.warning(self, tr("开具失败"), str(error))
            return None
        self.last_issued = issued
        self.draft_id = None  # deleted with the issue
        self.dirty = False
        self.issued.emit(issued.number)
        self.accept()
        return issued

    def new_invoice(self) -> None:
        if not self._leave_ok():
            return
        self.draft_id, self.draft_gone = None, False  # a kept draft stays in the store; the new invoice has its own
        self.draft_label.setText("")
        self._reset_fields()

    def _leave_ok(self) -> bool:
        """Before the form is closed or emptied: asks when something typed is not issued. 保存 keeps the draft
        (offered again at 发票 → 草稿…), 放弃 deletes it, 取消 goes back to the form."""
        if not self.dirty:
            self.draft_timer.stop()
            return True
        buttons = QMessageBox.StandardButton
        if self.keeps_draft and self.has_content():
            answer = QMessageBox.question(
                self, tr("保存草稿还是放弃？", "Keep a draft or discard?"),
                tr("这张发票还没有开具。保存：留作草稿，以后可在“发票 → 草稿…”中继续填写；放弃：填写的内容将丢失。",
                   "This invoice has not been issued. Save keeps it as a draft, to go on with later from "
                   "Invoices → Drafts…; Discard loses what you typed."),
                buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        else:
            answer = QMessageBox.question(self, tr("放弃未开具的发票？"),
                                          tr("这张发票还没有开具，关闭后填写的内容将丢失。"),
                                          buttons.Discard | buttons.Cancel, buttons.Cancel)
        if answer == buttons.Save:
            self.save_draft_now()
            if self.draft_error:  # not kept: the form stays open rather than lose what was typed
                QMessageBox.warning(self, tr("草稿未能保存", "Draft not saved"), self.draft_error)
                return False
        elif answer == buttons.Discard:
            self.drop_draft()
        else:
            return False
        self.dirty = False
        return True

    def closeEvent(self, event) -> None:
        if not self._leave_ok():
            event.ignore()
            return
        super().closeEvent(event)

    def reject(self) -> None:
        # Esc goes through the same question as the close button.
        if not self._leave_ok():
            return
        super().reject()

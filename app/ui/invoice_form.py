"""The invoice form: a clerk types an invoice, sees every mistake as it is typed, and issues it.

On every edit the form builds the draft (the protocol's invoice body, fields as typed) and
asks app.services.issuing.prepare_invoice, the same check the CLI and the issue service use.
Each FieldError is shown on its widget or cell; 开具 is enabled only when there is none.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.capitals import LARGEST, amount_in_capitals
from app.core.errors import FieldError, ValidationFailed, field_label
from app.core.invoice import Invoice, InvoiceKind
from app.core.money import format_money_grouped
from app.core.taxid import normalize_tax_id
from app.services.issuing import IssuedInvoice, NoSellerProfile, issue_invoice, prepare_invoice
from app.services.seller import SellerSettings
from app.store import queries
from app.ui.draft_figures import line_figures
from app.ui.i18n import language, tr
from app.ui.line_table import KEYS, NAME, LineTableModel, LineTableView
from app.ui.marking import mark

BUYER_FIELDS = (("name", "名称"), ("tax_id", "纳税人识别号"), ("address", "地址"), ("phone", "电话"),
                ("bank", "开户行"), ("account", "账号"))
PEOPLE = (("payee", "收款人"), ("reviewer", "复核"), ("drawer", "开票人"))
KINDS = ((InvoiceKind.NORMAL, "增值税普通发票"), (InvoiceKind.SPECIAL, "增值税专用发票"))
LINE_CELL_OF = {"amount": "amount", "tax": "tax", "discount": "name"}  # errors on fields not typed


class InvoiceForm(QDialog):
    issued = Signal(str)  # the number of the invoice just issued

    def __init__(self, seller: SellerSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seller = seller
        self.setWindowTitle(tr("新开发票"))
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.resize(1000, 760)
        self.invoice: Invoice | None = None
        self.errors: list[FieldError] = []
        self.last_issued: IssuedInvoice | None = None
        self.dirty = False
        self._touched: set[str] = set()
        self._line_rows: list[int] = []  # draft line i is table row _line_rows[i]
        self._buyer_matches: dict = {}
        # The service that issues what the form holds: issue_invoice, or for a correction
        # the cancel-and-reissue service (see load_correction). Same signature either way.
        self.issuer = issue_invoice
        self._build()
        self._reset_fields()

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)

        top = QHBoxLayout()
        top.addWidget(QLabel(tr("发票种类")))
        self.kind = QComboBox(self)
        self.kind.setObjectName("kind")
        for kind, label in KINDS:
            self.kind.addItem(tr(label), kind.value)
        top.addWidget(self.kind)
        self.prices_include_tax = QCheckBox(tr("单价含税"), self)
        self.prices_include_tax.setObjectName("prices_include_tax")
        top.addWidget(self.prices_include_tax)
        top.addStretch(1)
        colon = "：" if language() == "zh" else ": "
        seller_label = QLabel(f"{tr('销售方')}{colon}{self.seller.party.name}  {self.seller.party.tax_id}", self)
        seller_label.setStyleSheet("color: #555;")
        top.addWidget(seller_label)
        layout.addLayout(top)

        buyer_box = QGroupBox(tr("购买方信息"), self)
        grid = QGridLayout(buyer_box)
        self.buyer: dict[str, QLineEdit] = {}
        for position, (key, label) in enumerate(BUYER_FIELDS):
            edit = QLineEdit(buyer_box)
            edit.setObjectName(f"buyer_{key}")
            self.buyer[key] = edit
            row, column = divmod(position, 2)
            grid.addWidget(QLabel(tr(label)), row, column * 2)
            grid.addWidget(edit, row, column * 2 + 1)
        self.buyer["tax_id"].setMaxLength(30)
        self.confirm_tax_id = QCheckBox(tr("我已核实此纳税人识别号"), buyer_box)
        self.confirm_tax_id.setObjectName("confirm_tax_id")
        self.confirm_tax_id.setVisible(False)
        grid.addWidget(self.confirm_tax_id, 3, 3)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 2)
        layout.addWidget(buyer_box)

        self.completions = QStringListModel(self)
        self.completer = QCompleter(self.completions, self)
        # The store did the matching: the popup shows what it found as it is.
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.buyer["name"].setCompleter(self.completer)

        lines_box = QGroupBox(tr("商品明细"), self)
        lines_layout = QVBoxLayout(lines_box)
        self.lines = LineTableModel(self)
        self.line_view = LineTableView(lines_box)
        self.line_view.setObjectName("lines")
        self.line_view.setModel(self.lines)
        lines_layout.addWidget(self.line_view)
        line_buttons = QHBoxLayout()
        self.add_line_button = QPushButton(tr("添加行"), lines_box)
        self.remove_line_button = QPushButton(tr("删除行"), lines_box)
        self.discount_button = QPushButton(tr("添加折扣", "Add discount"), lines_box)
        for button in (self.add_line_button, self.remove_line_button, self.discount_button):
            button.setAutoDefault(False)  # Enter belongs to the line table, never to a button
        line_buttons.addWidget(self.add_line_button)
        line_buttons.addWidget(self.remove_line_button)
        line_buttons.addWidget(self.discount_button)
        line_buttons.addStretch(1)
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
        self.messages.setMaximumHeight(110)
        self.messages.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        layout.addWidget(self.messages)

        buttons = QHBoxLayout()
        self.status_label = QLabel(self)
        buttons.addWidget(self.status_label, 1)
        self.issue_button = QPushButton(tr("开具") + "  (Ctrl+Enter)", self)
        self.issue_button.setObjectName("issue")
        self.issue_button.setDefault(False)
        self.issue_button.setAutoDefault(False)
        self.close_button = QPushButton(tr("关闭"), self)
        self.close_button.setAutoDefault(False)
        buttons.addWidget(self.issue_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        order = [self.kind, self.prices_include_tax, self.buyer["name"], self.buyer["tax_id"], self.confirm_tax_id,
                 self.buyer["address"], self.buyer["phone"], self.buyer["bank"], self.buyer["account"],
                 self.line_view, self.add_line_button, self.remove_line_button, self.remarks,
                 *self.people.values(), self.issue_button, self.close_button]
        for first, second in pairwise(order):
            QWidget.setTabOrder(first, second)
        self.tab_order = order

        # edits
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.prices_include_tax.toggled.connect(self._prices_mode_changed)
        for key, edit in self.buyer.items():
            edit.textEdited.connect(lambda _text, key=key: self._edited(f"buyer.{key}"))
        self.buyer["name"].textEdited.connect(self._complete_buyer)
        self.buyer["tax_id"].textEdited.connect(lambda _text: self.confirm_tax_id.setChecked(False))
        # PySide6's stubs type a signal without its overloads; QCompleter.activated has two (text, index).
        self.completer.activated[str].connect(self._buyer_picked)  # type: ignore[index]
        self.confirm_tax_id.toggled.connect(lambda _on: self._edited("buyer.tax_id"))
        self.lines.edited.connect(self._lines_edited)
        self.line_view.line_wanted.connect(self.add_line)
        self.add_line_button.clicked.connect(self.add_line)
        self.remove_line_button.clicked.connect(self.remove_line)
        self.discount_button.clicked.connect(self.add_discount)
        self.remarks.textEdited.connect(lambda _text: self._edited("remarks"))
        for key, edit in self.people.items():
            edit.textEdited.connect(lambda _text, key=key: self._edited(key))
        self.issue_button.clicked.connect(self.issue)
        self.close_button.clicked.connect(self.close)

        for sequence in ("Ctrl+Return", "Ctrl+Enter", "Ctrl+S"):
            QShortcut(QKeySequence(sequence), self, self.issue)
        QShortcut(QKeySequence("Ctrl+N"), self, self.new_invoice)

    def _reset_fields(self) -> None:
        """An empty invoice: one blank line, the clerks from the seller profile."""
        for widget in (self.kind, self.prices_include_tax, *self.buyer.values(), self.remarks,
                       *self.people.values(), self.confirm_tax_id):
            widget.blockSignals(True)
        self.kind.setCurrentIndex(0)
        self.prices_include_tax.setChecked(False)
        self.lines.set_prices_include_tax(False)
        for edit in (*self.buyer.values(), self.remarks):
            edit.clear()
        self.confirm_tax_id.setChecked(False)
        self.people["payee"].setText(self.seller.payee)
        self.people["reviewer"].setText(self.seller.reviewer)
        self.people["drawer"].setText(self.seller.drawer)
        for widget in (self.kind, self.prices_include_tax, *self.buyer.values(), self.remarks,
                       *self.people.values(), self.confirm_tax_id):
            widget.blockSignals(False)
        self.lines.blockSignals(True)
        self.lines.beginResetModel()
        self.lines.rows = []
        self.lines.endResetModel()
        self.lines.add_line()
        self.lines.blockSignals(False)
        self.lines.layoutChanged.emit()
        self._touched = set()
        self.validate()
        self.dirty = False
        self.buyer["name"].setFocus()

    def load_draft(self, body: dict) -> None:
        """Fill the form from an invoice body, e.g. a rejected invoice the clerk will correct.

        Unit prices in a body exclude tax, so the prices-include-tax switch is off.
        """
        self._reset_fields()
        self.kind.setCurrentIndex(max(0, self.kind.findData(body.get("kind", "normal"))))
        for key, edit in self.buyer.items():
            edit.setText((body.get("buyer") or {}).get(key, ""))
        self.remarks.setText(body.get("remarks", ""))
        for key, edit in self.people.items():
            if body.get(key):
                edit.setText(body[key])
        self.lines.beginResetModel()
        self.lines.rows = [{"name": line.get("name", ""), "spec": line.get("spec", ""), "unit": line.get("unit", ""),
                            "quantity": line.get("quantity", ""), "unit_price": line.get("unit_price", ""),
                            "tax_rate": line.get("tax_rate", "")} for line in body.get("lines", [])]
        self.lines.endResetModel()
        if not self.lines.rows:
            self.lines.add_line()
        self._touched = {f"buyer.{key}" for key, _ in BUYER_FIELDS} | {f"row{r}" for r in range(len(self.lines.rows))}
        self.validate()
        self.dirty = True

    def load_correction(self, number: str, body: dict, reason: str) -> None:
        """Correct a rejected invoice: issuing cancels `number` and issues this one, both or neither."""
        from functools import partial

        from app.services.lifecycle import cancel_and_reissue

        self.load_draft(body)
        self.setWindowTitle(tr("更正并重开 {number}", "Correct and reissue {number}", number=number))
        self.issuer = partial(cancel_and_reissue, number, reason=reason)

    # --- what was typed ---------------------------------------------------------------------

    def _edited(self, path: str) -> None:
        self._touched.add(path)
        self.dirty = True
        self.validate()

    def _kind_changed(self) -> None:
        if self.current_kind() is InvoiceKind.SPECIAL:
            # A special invoice needs the whole buyer block: show what is missing at once.
            self._touched |= {f"buyer.{key}" for key, _ in BUYER_FIELDS}
        self._edited("kind")

    def _prices_mode_changed(self, on: bool) -> None:
        self.lines.set_prices_include_tax(on)
        self._edited("prices_include_tax")

    def _lines_edited(self, row: int) -> None:
        if row >= 0:
            self._touched.add(f"row{row}")
        self.dirty = True
        self.validate()

    def current_kind(self) -> InvoiceKind:
        return InvoiceKind(self.kind.currentData())

    def confirmed_tax_ids(self) -> list[str]:
        tax_id = normalize_tax_id(self.buyer["tax_id"].text())
        return [tax_id] if tax_id and self.confirm_tax_id.isChecked() else []

    def draft(self) -> dict:
        """The protocol's invoice body as typed; number and amounts are left to the service."""
        self._line_rows = [row for row in range(self.lines.rowCount()) if not self.lines.is_blank(row)]
        return {
            "kind": self.current_kind().value,
            "prices_include_tax": self.prices_include_tax.isChecked(),
            "buyer": {key: edit.text() for key, edit in self.buyer.items()},
            "lines": [self.lines.draft_line(row) for row in self._line_rows],
            "remarks": self.remarks.text(),
            **{key: edit.text() for key, edit in self.people.items()},
        }

    # --- checking ---------------------------------------------------------------------------

    def validate(self) -> list[FieldError]:
        draft = self.draft()
        try:
            self.invoice = prepare_invoice(draft, self.seller, self.confirmed_tax_ids())
            self.errors = []
        except ValidationFailed as failed:
            self.invoice = None
            self.errors = failed.errors
        self._show_errors()
        self._show_figures(draft)
        self.issue_button.setEnabled(self.invoice is not None)
        return self.errors

    def _show_errors(self) -> None:
        lang = language()
        widget_errors: dict[QWidget, str] = {}
        cell_errors: dict[tuple[int, str], str] = {}
        overridable_id = False
        self.messages.clear()
        for error in self.errors:
            text = error.message(lang)
            self.messages.addItem(f"{field_label(error.field, lang)}：{text}" if lang == "zh"
                                  else f"{field_label(error.field, lang)}: {text}")
            if error.field == "buyer.tax_id" and error.overridable:
                overridable_id = True
            target = self._widget_for(error.field)
            if isinstance(target, tuple):
                row, key = target
                if f"row{row}" in self._touched:
                    cell_errors.setdefault((row, key), text)
            elif target is not None and self._shows(error.field):
                widget_errors.setdefault(target, text)
        for widget in (*self.buyer.values(), self.remarks, *self.people.values(), self.kind, self.line_view,
                       self.total_label):
            mark(widget, widget_errors.get(widget))
        self.lines.show_results(self._line_figures_by_row(), cell_errors)
        # The confirmation is offered only for a failed check character, and stays while ticked.
        self.confirm_tax_id.setVisible(overridable_id or self.confirm_tax_id.isChecked())
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
        if path.startswith("buyer."):
            return self.buyer.get(path.split(".", 1)[1])
        if path.startswith("lines[") and "]" in path:
            index = int(path[6:path.index("]")])
            rest = path[path.index("]") + 1:].lstrip(".")
            row = self._line_rows[index] if index < len(self._line_rows) else None
            if row is None:
                return self.line_view
            key = LINE_CELL_OF.get(rest, rest)
            return (row, key if key in KEYS else "name")
        if path == "lines":
            return self.line_view
        if path in self.people:
            return self.people[path]
        if path == "remarks":
            return self.remarks
        if path == "kind":
            return self.kind
        if path in ("total_with_tax", "total_amount", "total_tax"):
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
        self.total_amount_label.setText(f"¥{format_money_grouped(amount)}")
        self.total_tax_label.setText(f"¥{format_money_grouped(tax)}")
        self.total_label.setText(f"¥{format_money_grouped(total)}")
        self.capitals_label.setText(amount_in_capitals(total) if abs(total) <= LARGEST else "")

    # --- buyer directory --------------------------------------------------------------------

    def _complete_buyer(self, text: str) -> None:
        matches = queries.search_buyers(text, limit=15) if text.strip() else []
        self._buyer_matches = {}
        for buyer in matches:
            self._buyer_matches.setdefault(buyer.name, buyer)
        self.completions.setStringList(list(self._buyer_matches))
        if self._buyer_matches:
            self.completer.complete()

    def _buyer_picked(self, name: str) -> None:
        buyer = self._buyer_matches.get(name)
        if buyer is None:
            return
        self.buyer["name"].setText(buyer.name)
        for key in ("tax_id", "address", "phone", "bank", "account"):
            self.buyer[key].setText(getattr(buyer, key))
            self._touched.add(f"buyer.{key}")
        self.confirm_tax_id.setChecked(False)
        self._edited("buyer.name")
        self.buyer["address"].setFocus() if not buyer.tax_id else self.line_view.setFocus()

    # --- lines ------------------------------------------------------------------------------

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

    # --- issuing and closing ----------------------------------------------------------------

    def issue(self) -> IssuedInvoice | None:
        self._commit_open_editor()
        if self.validate():
            self._touched |= {f"buyer.{key}" for key, _ in BUYER_FIELDS} | set(self.people) | {"remarks"}
            self._touched |= {f"row{row}" for row in range(self.lines.rowCount())}
            self._show_errors()
            return None
        try:
            issued = self.issuer(self.draft(), confirmed_tax_ids=self.confirmed_tax_ids(),
                                   clerk=self.people["drawer"].text().strip())
        except ValidationFailed as failed:
            self.errors = failed.errors
            self._show_errors()
            self.issue_button.setEnabled(False)
            return None
        except NoSellerProfile as error:
            QMessageBox.warning(self, tr("开具失败"), str(error))
            return None
        self.last_issued = issued
        self.dirty = False
        self.issued.emit(issued.number)
        self.accept()
        return issued

    def new_invoice(self) -> None:
        if self.dirty and not self._discard_ok():
            return
        self._reset_fields()

    def _discard_ok(self) -> bool:
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(self, tr("放弃未开具的发票？"),
                                      tr("这张发票还没有开具，关闭后填写的内容将丢失。"),
                                      buttons.Discard | buttons.Cancel, buttons.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def closeEvent(self, event) -> None:
        if self.dirty and not self._discard_ok():
            event.ignore()
            return
        self.dirty = False
        super().closeEvent(event)

    def reject(self) -> None:
        # Esc goes through the same question as the close button.
        if self.dirty and not self._discard_ok():
            return
        self.dirty = False
        super().reject()

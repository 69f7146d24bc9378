"""Dialogs to cancel (作废) an invoice and to issue a red-letter (红字) invoice.

They collect what the clerk chooses and call app.services.lifecycle; every rule (month, status,
remaining amount, reason) is the service's, and its message is shown as it comes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ValidationFailed
from app.core.lifecycle import RED_REASONS, red_reason_label
from app.core.money import format_money_grouped, format_plain
from app.services.lifecycle import cancel_invoice, issue_red_letter
from app.store import queries
from app.ui.i18n import language, tr

OK_CANCEL = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel


class CancelDialog(QDialog):
    """Reason, then 作废. Emits completed(message) when the service carried it out or queued it."""

    completed = Signal(str)  # the message to show

    def __init__(self, number: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = number
        self.setWindowTitle(tr("作废发票 {number}", "Cancel invoice {number}", number=number))
        layout = QVBoxLayout(self)
        row = queries.find_invoice(number)
        summary = f"{row.buyer_name}  ¥{format_money_grouped(row.total_with_tax)}" if row else ""
        layout.addWidget(QLabel(tr("作废后发票记录保留并标记为“已作废”，纸质发票请加盖作废标记。",
                                   "The record stays, marked cancelled; mark the paper copy as cancelled too.")))
        form = QFormLayout()
        form.addRow(tr("发票", "Invoice"), QLabel(f"{number}  {summary}"))
        self.reason = QLineEdit(self)
        self.reason.setObjectName("cancel_reason")
        self.reason.setPlaceholderText(tr("必填，如：金额开错、客户取消", "required, e.g. wrong amount"))
        form.addRow(tr("作废原因", "Reason"), self.reason)
        layout.addLayout(form)
        self.error = QLabel(self)
        self.error.setObjectName("cancel_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(OK_CANCEL, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("作废", "Cancel invoice"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("关闭"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def submit(self) -> bool:
        try:
            outcome = cancel_invoice(self.number, self.reason.text())
        except ValidationFailed as failed:
            self.error.setText(failed.describe(language()))
            return False
        self.message = outcome.message(language())
        self.completed.emit(self.message)
        self.accept()
        return True


class RedLetterDialog(QDialog):
    """Reason, full or partial; for a part, the quantity or the amount (excluding tax) to reverse per line."""

    completed = Signal(str)  # the message to show

    def __init__(self, number: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = number
        loaded = queries.load_invoice(number)
        if loaded is None:
            raise LookupError(number)
        self.row, self.invoice = loaded
        self.setWindowTitle(tr("开具红字发票", "Red-letter invoice") + f"  {number}")
        self.resize(760, 420)
        layout = QVBoxLayout(self)
        room = queries.reversal_room(self.row)
        info = QLabel(tr("原发票 {number}（{official}）价税合计 ¥{total}，已冲红 ¥{done}，可冲红余额 ¥{left}",
                         "Original {number} ({official}) total ¥{total}, reversed ¥{done}, left ¥{left}",
                         number=self.row.provisional_number, official=self.row.official_number or "—",
                         total=format_money_grouped(room.original_total),
                         done=format_money_grouped(room.reversed_so_far), left=format_money_grouped(room.remaining)))
        info.setObjectName("red_room")
        layout.addWidget(info)
        form = QFormLayout()
        self.reason = QComboBox(self)
        self.reason.setObjectName("red_reason")
        self.reason.addItem(tr("请选择", "choose"), "")
        for reason in RED_REASONS:
            self.reason.addItem(red_reason_label(reason, language()), reason)
        form.addRow(tr("红字原因", "Reason"), self.reason)
        self.full = QRadioButton(tr("全额冲红", "In full"), self)
        self.full.setObjectName("red_full")
        self.partial = QRadioButton(tr("部分冲红", "In part"), self)
        self.partial.setObjectName("red_partial")
        self.full.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.full)
        group.addButton(self.partial)
        choice = QWidget(self)
        row_layout = QHBoxLayout(choice)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.full)
        row_layout.addWidget(self.partial)
        form.addRow(tr("方式", "How"), choice)
        layout.addLayout(form)

        # Each line that can be reversed, with its number on the blue invoice (a red line quotes it).
        self.line_numbers = [no for no, line in enumerate(self.invoice.lines, start=1) if not line.discount]
        lines = [line for line in self.invoice.lines if not line.discount]
        self.lines = lines
        self.table = QTableWidget(len(lines), 6, self)
        self.table.setObjectName("red_lines")
        self.table.setHorizontalHeaderLabels([tr("项目名称"), tr("数量"), tr("单价"), tr("金额"),
                                              tr("冲红数量", "Quantity to reverse"),
                                              tr("冲红金额", "Amount to reverse")])
        for r, line in enumerate(lines):
            for c, text in enumerate((line.name, format_plain(line.quantity), format_plain(line.unit_price),
                                      format_money_grouped(line.amount))):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, c, item)
            self.table.setItem(r, 4, QTableWidgetItem(""))
            self.table.setItem(r, 5, QTableWidgetItem(""))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEnabled(False)
        self.full.toggled.connect(lambda full: self.table.setEnabled(not full))
        layout.addWidget(self.table)
        self.error = QLabel(self)
        self.error.setObjectName("red_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(OK_CANCEL, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("开具红字发票", "Issue red-letter invoice"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("关闭"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _cell(self, row: int, column: int) -> QTableWidgetItem:
        item = self.table.item(row, column)
        if item is None:  # every cell is made in __init__; a clerk cannot remove one
            item = QTableWidgetItem("")
            self.table.setItem(row, column, item)
        return item

    def set_part(self, row: int, quantity: str = "", amount: str = "") -> None:
        self._cell(row, 4).setText(quantity)
        self._cell(row, 5).setText(amount)

    def red_lines(self) -> list[dict]:
        """The partial reversal as the service takes it: negative quantities, or negative amounts."""
        lines = []
        for r, line in enumerate(self.lines):
            quantity = self._cell(r, 4).text().strip()
            amount = self._cell(r, 5).text().strip()
            if not quantity and not amount:
                continue
            body: dict = {"spec": line.spec, "unit": line.unit, "tax_rate": line.tax_rate}
            if line.tax_code:  # a 数电 line: its code and item name, and the blue line it reverses
                body.update(tax_code=line.tax_code, item_name=line.item_name, policy=line.policy,
                            original_line_no=self.line_numbers[r])
            else:  # a line issued before 数电 (legacy) has its printed name only
                body["name"] = line.name
            if quantity:
                body.update(quantity=f"-{quantity.lstrip('-')}", unit_price=format_plain(line.unit_price))
            else:
                body["amount"] = f"-{amount.lstrip('-')}"
            lines.append(body)
        return lines

    def submit(self) -> bool:
        lines = None if self.full.isChecked() else self.red_lines()
        try:
            issued = issue_red_letter(self.number, self.reason.currentData() or "", lines=lines)
        except ValidationFailed as failed:
            self.error.setText(failed.describe(language()))
            return False
        self.red_number = issued.number
        self.message = tr("已开具红字发票 {number}", "Red-letter invoice {number} issued", number=issued.number)
        self.completed.emit(self.message)
        self.accept()
        return True


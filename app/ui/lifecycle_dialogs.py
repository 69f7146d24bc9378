"""Dialogs to cancel (作废) a paper invoice or withdraw a pre-issue record, and to correct an accepted invoice the
数电 way: raise a red-letter confirmation form (红字确认单), or issue the red invoice on a usable one (01 / 04).

They collect what the clerk chooses and call app.services.lifecycle and app.services.red_forms; every rule
(month, medium, status, remaining amount, reason) is the service's, and its message is shown as it comes.
What reaches the platform runs off the GUI thread (app/ui/tasks.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ValidationFailed
from app.core.money import ZERO, format_money_grouped, format_plain
from app.platform.client import PlatformClient
from app.services import red_forms
from app.services.lifecycle import cancel_invoice
from app.store import queries
from app.store.red_forms import held_by_forms
from app.ui.i18n import language, tr
from app.ui.tasks import BackgroundTask

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
        layout.addWidget(QLabel(tr("只有纸质发票可在开具当月作废（电子发票请提出红字确认单）；未开具的预开单可撤回。"
                                   "记录保留并标记为“已作废”，纸质发票请加盖作废标记。",
                                   "Only a paper invoice can be cancelled, in its month (electronic: raise a "
                                   "red-letter form); a pre-issue record never issued can be withdrawn. The record "
                                   "stays, marked cancelled; mark the paper copy as cancelled too.")))
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


def _default_client() -> PlatformClient:
    from app.services.settings import make_client

    return make_client()


class RedLetterDialog(QDialog):
    """Correct an accepted blue invoice: issue the red invoice on a usable form, or raise a new form (reason, in
    full or by lines: the quantity or the amount excluding tax to reverse on each line). Emits completed(message)
    once a red invoice was issued or a form raised (or its request recorded offline)."""

    completed = Signal(str)  # the message to show

    def __init__(self, number: str, parent: QWidget | None = None,
                 client_factory: Callable[[], PlatformClient] | None = None) -> None:
        super().__init__(parent)
        self.number = number
        self.client_factory = client_factory or _default_client
        loaded = queries.load_invoice(number)
        if loaded is None:
            raise LookupError(number)
        self.row, self.invoice = loaded
        self.task: BackgroundTask[Any] | None = None
        self.message = ""
        self.setWindowTitle(tr("红字发票（凭红字确认单）", "Red-letter invoice (on a confirmation form)")
                            + f"  {number}")
        self.resize(800, 480)
        layout = QVBoxLayout(self)
        self.room = QLabel(self)
        self.room.setObjectName("red_room")
        self.room.setWordWrap(True)
        layout.addWidget(self.room)

        usable = QHBoxLayout()
        self.forms = QComboBox(self)
        self.forms.setObjectName("red_form_choice")
        usable.addWidget(QLabel(tr("可用的确认单", "Usable forms"), self))
        usable.addWidget(self.forms, 1)
        self.issue_button = QPushButton(tr("据此开具红字发票", "Issue the red invoice on it"), self)
        self.issue_button.setObjectName("red_issue")
        self.issue_button.clicked.connect(self.issue)
        usable.addWidget(self.issue_button)
        layout.addLayout(usable)

        form = QFormLayout()
        self.reason = QComboBox(self)
        self.reason.setObjectName("red_reason")
        self.reason.addItem(tr("请选择", "choose"), "")
        for code, labels in red_forms.REASONS.items():
            self.reason.addItem(f"{code} {labels[0] if language() == 'zh' else labels[1]}", code)
        form.addRow(tr("红字原因", "Reason"), self.reason)
        self.full = QRadioButton(tr("全额红冲", "In full"), self)
        self.full.setObjectName("red_full")
        self.partial = QRadioButton(tr("按行红冲", "By lines"), self)
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

        # Each line that can be reversed, with its number on the blue invoice (a red line quotes it); a discount
        # line is not offered: it is spread onto the line it discounts.
        self.line_numbers = [no for no, line in enumerate(self.invoice.lines, start=1) if not line.discount]
        lines = [line for line in self.invoice.lines if not line.discount]
        self.lines = lines
        self.table = QTableWidget(len(lines), 7, self)
        self.table.setObjectName("red_lines")
        self.table.setHorizontalHeaderLabels([tr("行号", "Line"), tr("项目名称"), tr("数量"), tr("单价"), tr("金额"),
                                              tr("红冲数量", "Quantity to reverse"),
                                              tr("红冲金额", "Amount to reverse")])
        for r, line in enumerate(lines):
            for c, text in enumerate((str(self.line_numbers[r]), line.name, format_plain(line.quantity),
                                      format_plain(line.unit_price), format_money_grouped(line.amount))):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, c, item)
            self.table.setItem(r, 5, QTableWidgetItem(""))
            self.table.setItem(r, 6, QTableWidgetItem(""))
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEnabled(False)
        self.full.toggled.connect(lambda full: self.table.setEnabled(not full))
        layout.addWidget(self.table)
        self.error = QLabel(self)
        self.error.setObjectName("red_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(OK_CANCEL, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("提交红字确认单", "Raise the form"))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setObjectName("red_raise")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("关闭"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reload()

    def reload(self) -> None:
        """What is left of the blue invoice, and the forms a red invoice may be issued on (from the store)."""
        row = queries.find_row(self.number)
        assert row is not None
        room = queries.reversal_room(row)
        held = held_by_forms(row)
        self.room.setText(tr("原发票 {number}（{official}）价税合计 ¥{total}，已红冲 ¥{done}，确认单占用 ¥{held}，"
                             "可红冲余额 ¥{left}",
                             "Original {number} ({official}) total ¥{total}, reversed ¥{done}, held by forms "
                             "¥{held}, left ¥{left}", number=self.row.provisional_number,
                             official=self.row.official_number or "—", total=format_money_grouped(room.original_total),
                             done=format_money_grouped(room.reversed_so_far), held=format_money_grouped(held),
                             left=format_money_grouped(max(room.remaining - held, ZERO))))
        self.forms.clear()
        for form in red_forms.forms_open_for(self.number):
            self.forms.addItem(f"{form.form_number}  {red_forms.status_label(form.status, language())}  "
                               f"¥{format_money_grouped(form.total_amount + form.total_tax)}", form.uuid)
        self.issue_button.setEnabled(self.forms.count() > 0 and self.task is None)

    def _cell(self, row: int, column: int) -> QTableWidgetItem:
        item = self.table.item(row, column)
        if item is None:  # every cell is made in __init__; a clerk cannot remove one
            item = QTableWidgetItem("")
            self.table.setItem(row, column, item)
        return item

    def set_part(self, row: int, quantity: str = "", amount: str = "") -> None:
        self._cell(row, 5).setText(quantity)
        self._cell(row, 6).setText(amount)

    def red_lines(self) -> list[dict[str, Any]]:
        """The lines of the form as the service takes them: the blue line's number and what to reverse."""
        lines: list[dict[str, Any]] = []
        for r in range(len(self.lines)):
            quantity = self._cell(r, 5).text().strip()
            amount = self._cell(r, 6).text().strip()
            if not quantity and not amount:
                continue
            body: dict[str, Any] = {"original_line_no": self.line_numbers[r]}
            if quantity:
                body["quantity"] = f"-{quantity.lstrip('-')}"
            if amount:
                body["amount"] = amount.lstrip("-")
            lines.append(body)
        return lines

    @property
    def busy(self) -> bool:
        return self.task is not None

    def _run(self, work: Callable[[], str]) -> None:
        self.error.setText("")
        self.buttons.setEnabled(False)
        self.issue_button.setEnabled(False)
        task: BackgroundTask[str] = BackgroundTask(lambda _progress: work(), self)
        task.on_success(self._done)
        task.on_failure(self._failed)
        task.on_finished(self._finished)
        self.task = task
        task.start()

    def _done(self, message: str) -> None:
        self.message = message
        self.completed.emit(message)

    def _failed(self, message: str) -> None:
        self.error.setText(message)

    def _finished(self) -> None:
        self.task = None
        self.buttons.setEnabled(True)
        self.reload()

    def submit(self) -> bool:
        """Raise the form (recorded first; sent when the platform answers). False when refused before any work."""
        if self.busy:
            return False
        reason = self.reason.currentData() or ""
        lines = None if self.full.isChecked() else self.red_lines()
        try:
            red_forms.reason_code(reason)
        except ValidationFailed as failed:
            self.error.setText(failed.describe(language()))
            return False
        if lines is not None and not lines:
            self.error.setText(tr("红冲明细：请填写要红冲的行", "lines to reverse: fill in the lines to reverse"))
            return False
        factory, number = self.client_factory, self.number

        def work() -> str:
            client = factory()
            try:
                outcome = red_forms.raise_form(number, reason, lines, client=client)
            finally:
                client.close()
            return outcome.message(language())

        self._run(work)
        return True

    def issue(self) -> bool:
        """The red invoice on the form chosen, through the channel in use."""
        form_uuid = self.forms.currentData()
        if self.busy or not form_uuid:
            return False
        factory, number = self.client_factory, self.number

        def work() -> str:
            client = factory()
            try:
                issued = red_forms.issue_red_invoice(str(form_uuid), number=number, client=client)
            finally:
                client.close()
            return tr("已开具红字发票 {number}", "Red-letter invoice {number} issued", number=issued.number)

        self._run(work)
        return True

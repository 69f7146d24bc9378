"""草稿 in the main window: unfinished invoice forms kept in the store (app/services/drafts.py), offered again.

When drafts are waiting, the status bar says so and shows a button (non-modal: nothing stands in the clerk's way at
start); 发票 → 草稿… lists them (buyer, total, lines, when saved). 继续填写 opens one in a form, which goes on
saving into it; 删除 asks first. The count follows the store (the window's follow timer, and whenever the window
comes back to the front), so drafts saved by another window or desk on the store show too; a draft open in a form
of this window is neither counted nor listed. Closing the window saves every open form's draft first.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import peewee
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.clock import in_beijing
from app.core.errors import DeskError
from app.core.money import format_money_grouped
from app.services.drafts import discard_draft
from app.store.drafts import DraftSummary, count_drafts, get_draft, list_drafts
from app.ui.i18n import language, tr

if TYPE_CHECKING:
    from app.ui.invoice_form import InvoiceForm
    from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

COLUMNS = (("购买方", "Buyer"), ("价税合计", "Total with tax"), ("行数", "Lines"), ("保存时间", "Saved"))


def saved_at(stamp: str) -> str:
    """2026-12-02 09:03 in Beijing, from the ISO time a draft was saved."""
    try:
        return in_beijing(datetime.fromisoformat(stamp)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


def buyer_shown(draft: DraftSummary) -> str:
    return draft.buyer_name or tr("（未填购买方）", "(no buyer yet)")


class DraftsDialog(QDialog):
    """发票 → 草稿…: the drafts, the one saved last first."""

    def __init__(self, actions: DraftActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.owner = actions
        self.setObjectName("drafts_dialog")
        self.setWindowTitle(tr("未完成的发票草稿", "Unfinished invoice drafts"))
        self.resize(720, 360)
        self.drafts: list[DraftSummary] = []
        layout = QVBoxLayout(self)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("drafts_table")
        self.table.setHorizontalHeaderLabels([tr(zh, en) for zh, en in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 130), (2, 60), (3, 140)):
            self.table.setColumnWidth(column, width)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.open_button = QPushButton(tr("继续填写", "Continue"), self)
        self.open_button.setObjectName("draft_open")
        self.open_button.setDefault(True)
        self.delete_button = QPushButton(tr("删除…", "Delete…"), self)
        self.delete_button.setObjectName("draft_delete")
        close_button = QPushButton(tr("关闭"), self)
        close_button.setAutoDefault(False)
        self.delete_button.setAutoDefault(False)
        self.open_button.clicked.connect(lambda: self.open_selected())
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        close_button.clicked.connect(self.close)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(close_button)
        layout.addLayout(buttons)
        self.reload()

    def reload(self) -> None:
        selected = self.selected()
        try:
            drafts = list_drafts()
        except peewee.DatabaseError as error:  # a damaged store: the whole-file check says so
            log.warning("the drafts cannot be read: %s", error)
            drafts = []
        opened = self.owner.open_ids()
        self.drafts = [draft for draft in drafts if draft.id not in opened]
        self.table.setRowCount(len(self.drafts))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, draft in enumerate(self.drafts):
            cells = (buyer_shown(draft), f"¥{format_money_grouped(draft.total_with_tax)}", str(draft.line_count),
                     saved_at(draft.updated_at))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (1, 2):
                    item.setTextAlignment(right)
                self.table.setItem(row, column, item)
        if self.drafts:
            ids = [draft.id for draft in self.drafts]
            self.table.selectRow(ids.index(selected.id) if selected is not None and selected.id in ids else 0)
        self.note.setText(tr("共 {count} 份草稿。草稿不是发票：没有号码，不占额度；开具后自动删除。",
                             "{count} drafts. A draft is not an invoice: no number, no quota; it goes once issued.",
                             count=len(self.drafts)) if self.drafts else
                          tr("没有未完成的草稿。", "No unfinished drafts."))
        self._selection_changed()

    def selected(self) -> DraftSummary | None:
        row = self.table.currentRow()
        return self.drafts[row] if 0 <= row < len(self.drafts) else None

    def _selection_changed(self) -> None:
        chosen = self.selected() is not None
        self.open_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def open_selected(self) -> InvoiceForm | None:
        draft = self.selected()
        if draft is None:
            return None
        form = self.owner.open_draft(draft.id)
        self.reload()
        return form

    def delete_selected(self) -> bool:
        draft = self.selected()
        if draft is None:
            return False
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self, tr("删除草稿？", "Delete the draft?"),
            tr("删除给“{buyer}”的草稿（价税合计 ¥{total}，保存于 {at}）？删除后不能恢复。",
               "Delete the draft for {buyer} (¥{total} with tax, saved {at})? It cannot be brought back.",
               buyer=buyer_shown(draft), total=format_money_grouped(draft.total_with_tax),
               at=saved_at(draft.updated_at)),
            buttons.Yes | buttons.No, buttons.No)
        if answer != buttons.Yes:
            return False
        deleted = self.owner.delete_draft(draft.id)
        self.reload()
        return deleted


class DraftActions(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: DraftsDialog | None = None
        self.count = 0
        self.action = QAction(tr("草稿…", "Drafts…"), window)
        self.action.setObjectName("drafts_action")
        self.action.triggered.connect(lambda: self.show_drafts())
        menu = window.invoice_menu
        actions = menu.actions()
        at = actions.index(window.copy_invoice_action) + 1 if window.copy_invoice_action in actions else len(actions)
        if at < len(actions):
            menu.insertAction(actions[at], self.action)  # beside 新开发票 and 复制开票
        else:
            menu.addAction(self.action)
        self.button = QPushButton(window)
        self.button.setObjectName("drafts_button")
        self.button.setFlat(True)
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.clicked.connect(lambda: self.show_drafts())
        self.button.hide()
        window.add_status_widget(self.button)
        window.follow_timer.timeout.connect(self.refresh)
        window.installEventFilter(self)
        if self.refresh():
            window.statusBar().showMessage(tr("有 {count} 份未完成的发票草稿，可在“发票 → 草稿…”中继续填写",
                                              "{count} unfinished invoice drafts: go on with them from "
                                              "Invoices → Drafts…", count=self.count), 60000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window:
            if event.type() == QEvent.Type.WindowActivate:
                self.refresh()  # a form closed, or another desk saved one
            elif event.type() == QEvent.Type.Close:
                self.save_open_forms()  # the app quits with the window: its forms get no close of their own
        return False

    def open_forms(self) -> list[InvoiceForm]:
        # A form closed is hidden at once and deleted a moment later: it is not open any more.
        return [form for form in self.window.forms if form.isVisible()]

    def open_ids(self) -> set[int]:
        return {form.draft_id for form in self.open_forms() if form.draft_id is not None}

    def save_open_forms(self) -> None:
        for form in self.open_forms():
            if form.dirty:
                form.save_draft_now()

    def refresh(self) -> int:
        """The drafts waiting (those open here left out): the status bar button shows them; their count."""
        try:
            self.count = count_drafts(frozenset(self.open_ids()))
        except peewee.DatabaseError as error:  # a damaged store: the whole-file check says so
            log.warning("the drafts cannot be counted: %s", error)
            self.count = 0
        self.button.setText(tr("草稿（{count}）", "Drafts ({count})", count=self.count))
        self.button.setToolTip(tr("有 {count} 份未完成的发票草稿，点击查看", "{count} unfinished invoice drafts: click "
                                  "to see them", count=self.count))
        self.button.setVisible(self.count > 0)
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.reload()
        return self.count

    def show_drafts(self) -> DraftsDialog:
        """发票 → 草稿… (non-modal; one at a time)."""
        if self.dialog is None:
            self.dialog = DraftsDialog(self, self.window)
        else:
            self.dialog.reload()
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        return self.dialog

    def open_draft(self, draft_id: int) -> InvoiceForm | None:
        """A form filled from the draft (or the form that has it open already, brought to the front)."""
        for opened in self.open_forms():
            if opened.draft_id == draft_id:
                opened.raise_()
                opened.activateWindow()
                return opened
        content = get_draft(draft_id)
        if content is None:
            QMessageBox.information(self.window, tr("草稿", "Draft"),
                                    tr("这份草稿已不在：可能已在另一窗口开具或删除。",
                                       "This draft is gone: it may have been issued or deleted in another window."))
            self.refresh()
            return None
        form = self.window.new_invoice()
        if form is None:
            return None
        form.load_saved_draft(content)
        self.refresh()
        return form

    def delete_draft(self, draft_id: int) -> bool:
        try:
            deleted = discard_draft(draft_id)
        except DeskError as error:
            QMessageBox.warning(self.window, tr("删除草稿", "Delete the draft"), error.describe(language()))
            return False
        self.refresh()
        return deleted


def install(window: MainWindow) -> DraftActions:
    return DraftActions(window)

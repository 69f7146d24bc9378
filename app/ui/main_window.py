"""The main window: the invoice list (lazy, newest first), a status filter, and the way to a new invoice.

Later features hook in with small edits: add actions to self.invoice_menu / self.tools_menu /
self.view_menu, widgets to the status bar with add_status_widget(), and call refresh() after
anything that changes invoices. selected_number() gives the invoice under the cursor.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.core.invoice_query import InvoiceQuery
from app.services.seller import get_seller
from app.store import queries
from app.store.database import Store
from app.store.invoice_search import count_up_to
from app.ui.i18n import language, tr
from app.ui.invoice_list_model import (
    BUYER,
    DATE,
    KIND,
    NUMBER,
    OFFICIAL,
    RED,
    SORT_OF_COLUMN,
    STATUS,
    TAX_ID,
    TOTAL,
    InvoiceListModel,
)

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu

    from app.ui.backup_actions import BackupActions
    from app.ui.catalog_actions import CatalogActions
    from app.ui.channel_status import ChannelActions
    from app.ui.diagnostics import AboutDialog
    from app.ui.invoice_detail import InvoiceDetail
    from app.ui.invoice_form import InvoiceForm
    from app.ui.print_actions import PrintActions
    from app.ui.startup_checks import IntegrityCheck
    from app.ui.store_check import StoreFileCheck
    from app.ui.sync_actions import SyncActions
    from app.ui.trust_actions import TrustActions

# The form, the detail view and the seller and About dialogs are imported when first opened, not at start:
# they and what they pull in (the issuing service, the line table, completion) cost the window's start.
FOLLOW_INTERVAL_MS = 5000
COUNT_CAP = 10_000  # a search's matches are counted up to this (the count costs at most this many rows)


class MainWindow(QMainWindow):
    # Set by the feature modules' install(window), called at the end of __init__.
    trust_actions: TrustActions
    channel_actions: ChannelActions
    print_actions: PrintActions
    print_menu: QMenu
    sync_actions: SyncActions
    backup_actions: BackupActions
    catalog_actions: CatalogActions
    integrity_check: IntegrityCheck  # set by app/ui/startup_checks.after_start
    store_check: StoreFileCheck  # the whole-file check after start: app/ui/store_check.start_store_check

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle(tr("发票离线开票台"))
        self.resize(1100, 700)
        self.forms: list[InvoiceForm] = []  # open forms, kept alive while shown
        self.about_dialog: AboutDialog | None = None
        self._last_opened: tuple[str, float] = ("", 0.0)  # (number, monotonic time) of the row last opened
        self._seen_mark: tuple[int | None, int | None] = (None, None)  # queries.change_mark() when the list was read
        # Another app instance (or the command line) may issue into the same store: a cheap count
        # now and then shows its invoices without the clerk pressing F5.
        self.follow_timer = QTimer(self)
        self.follow_timer.setInterval(FOLLOW_INTERVAL_MS)
        self.follow_timer.timeout.connect(self.follow_other_instances)
        self.follow_timer.start()

        central = QWidget(self)
        layout = QVBoxLayout(central)
        from app.ui.list_filters import FilterBar

        self.filter_bar = FilterBar(central)
        self.status_filter = self.filter_bar.status
        layout.addWidget(self.filter_bar)

        self.list_model = InvoiceListModel(self)
        self.list_view = QTableView(central)
        self.list_view.setObjectName("invoice_list")
        self.list_view.setModel(self.list_model)
        self.list_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setAlternatingRowColors(True)
        self.list_view.setWordWrap(False)
        # Fixed sizes: nothing may measure every row of a million (no ResizeToContents).
        vertical = self.list_view.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(24)
        vertical.hide()
        header = self.list_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in ((NUMBER, 175), (OFFICIAL, 175), (DATE, 140), (TOTAL, 130), (STATUS, 170)):
            self.list_view.setColumnWidth(column, width)
        header.setSectionResizeMode(BUYER, QHeaderView.ResizeMode.Stretch)
        for column, width in ((KIND, 60), (TAX_ID, 170), (RED, 50)):
            self.list_view.setColumnWidth(column, width)
        # A click on a header sorts by that column (the store sorts, by index, a page at a time): the
        # filter bar keeps the order, so a new search keeps it too.
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(NUMBER, Qt.SortOrder.DescendingOrder)
        header.sortIndicatorChanged.connect(self._sort_changed)
        layout.addWidget(self.list_view)
        self.setCentralWidget(central)

        self._build_actions()
        self._build_status_bar()

        self.filter_bar.changed.connect(self._query_changed)
        self.filter_bar.problem.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.list_view.doubleClicked.connect(self._open_index)
        self.list_view.activated.connect(self._open_index)  # Enter on a row
        self._update_count()

        from app.ui.trust_actions import install as install_trust_actions  # cancel, red, limits, outages

        install_trust_actions(self)
        from app.ui.channel_status import install as install_channel_actions  # channel, numbers, quota, deadlines

        install_channel_actions(self)
        from app.ui.print_actions import install as install_print_actions  # preview, print, batch, calibration

        install_print_actions(self)
        from app.ui.sync_actions import install as install_sync_actions  # platform status, upload queue

        install_sync_actions(self)
        from app.ui.backup_actions import install as install_backup_actions  # backups, restore, schedule

        install_backup_actions(self)
        from app.ui.catalog_actions import install as install_catalog_actions  # items, customers, tax codes

        install_catalog_actions(self)
        from app.ui.deliver_actions import install as install_deliver_actions  # delivery folder, deliver now

        install_deliver_actions(self)
        from app.ui.list_export_actions import install as install_excel_actions  # 批量开票, 导出发票列表

        install_excel_actions(self)
        from app.ui.statistics_view import install as install_statistics  # 统计: a period's counts and amounts

        install_statistics(self)
        from app.ui.draft_actions import install as install_drafts  # 草稿: unfinished forms kept, offered again

        self.draft_actions = install_drafts(self)

    # --- menus and toolbar ------------------------------------------------------------------

    def _build_actions(self) -> None:
        menus = self.menuBar()
        self.file_menu = menus.addMenu(tr("文件(&F)", "&File"))
        self.invoice_menu = menus.addMenu(tr("发票(&I)", "&Invoices"))
        self.view_menu = menus.addMenu(tr("视图(&V)", "&View"))
        self.tools_menu = menus.addMenu(tr("工具(&T)", "&Tools"))
        self.help_menu = menus.addMenu(tr("帮助(&H)", "&Help"))

        self.new_invoice_action = QAction(tr("新开发票"), self)
        self.new_invoice_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_invoice_action.triggered.connect(self.new_invoice)
        self.open_invoice_action = QAction(tr("查看发票"), self)
        self.open_invoice_action.triggered.connect(lambda: self.open_selected())
        self.copy_invoice_action = QAction(tr("复制开票", "Copy to a new invoice"), self)
        self.copy_invoice_action.setObjectName("copy_invoice_action")
        self.copy_invoice_action.setShortcut(QKeySequence("Ctrl+Shift+N"))
        self.copy_invoice_action.triggered.connect(lambda: self.copy_selected())
        self.refresh_action = QAction(tr("刷新"), self)
        self.refresh_action.setShortcut(QKeySequence.StandardKey.Refresh)
        self.refresh_action.triggered.connect(self.refresh)
        self.seller_action = QAction(tr("销售方设置"), self)
        self.seller_action.triggered.connect(self.edit_seller)
        self.quit_action = QAction(tr("退出"), self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        self.about_action = QAction(tr("关于"), self)
        self.about_action.setObjectName("about_action")
        self.about_action.triggered.connect(lambda: self.show_about())

        self.file_menu.addAction(self.seller_action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)
        self.invoice_menu.addAction(self.new_invoice_action)
        self.invoice_menu.addAction(self.open_invoice_action)
        self.invoice_menu.addAction(self.copy_invoice_action)
        self.invoice_menu.addSeparator()  # printing, cancellation and red-letter invoices go below
        self.view_menu.addAction(self.refresh_action)
        self.tools_menu.addAction(self.seller_action)
        self.help_menu.addAction(self.about_action)

        self.toolbar = QToolBar(tr("发票"), self)
        self.toolbar.setObjectName("main_toolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.addAction(self.new_invoice_action)
        self.toolbar.addAction(self.open_invoice_action)
        self.toolbar.addAction(self.refresh_action)
        self.addToolBar(self.toolbar)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.count_label = QLabel(self)
        self.count_label.setObjectName("invoice_count")
        bar.addPermanentWidget(self.count_label)

    def add_status_widget(self, widget: QWidget) -> None:
        """For connectivity and queue indicators: shown at the right of the status bar."""
        self.statusBar().addPermanentWidget(widget)

    # --- the list ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the list from the store (after issuing, uploading, or another instance's changes)."""
        self.list_model.refresh()
        self._update_count()

    def follow_other_instances(self) -> bool:
        """Reload when another instance (or the command line) changed the store; keeps the selection. Two seeks say
        whether anything changed at all (a count of a million rows every few seconds would stall the window)."""
        mark = queries.change_mark()
        if mark == self._seen_mark:
            return False
        self._seen_mark = mark
        if not self.list_model.searching and queries.count_invoices(self.list_model.status) == \
                self.list_model.rowCount():
            return False
        selected = self.selected_number()
        self.refresh()
        if selected:
            self.select_number(selected)
        return True

    def _query_changed(self, query: InvoiceQuery) -> None:
        self.list_model.set_query(query)
        self._update_count()

    def _sort_changed(self, column: int, order: Qt.SortOrder) -> None:
        if not 0 <= column < len(SORT_OF_COLUMN):
            return
        self.filter_bar.set_sort(SORT_OF_COLUMN[column], order == Qt.SortOrder.DescendingOrder)
        self.filter_bar.apply()

    def _update_count(self) -> None:
        self._seen_mark = queries.change_mark()
        if not self.list_model.searching:
            self.count_label.setText(tr("共 {count} 张发票", count=f"{self.list_model.rowCount():,}"))
            return
        found = count_up_to(self.list_model.query, COUNT_CAP)
        if found > COUNT_CAP:
            self.count_label.setText(tr("找到超过 {count} 张发票", "over {count} invoices found",
                                        count=f"{COUNT_CAP:,}"))
        else:
            self.count_label.setText(tr("找到 {count} 张发票", "{count} invoices found", count=f"{found:,}"))

    def selected_number(self) -> str | None:
        index = self.list_view.currentIndex()
        if not index.isValid():
            return None
        item = self.list_model.summary(index.row())
        return item.number if item else None

    def select_number(self, number: str) -> None:
        row = self.list_model.row_of(number)
        if row is not None:
            self.list_view.selectRow(row)
            self.list_view.scrollTo(self.list_model.index(row, 0))

    # --- invoices ---------------------------------------------------------------------------

    def new_invoice(self) -> InvoiceForm | None:
        seller = get_seller()
        if seller is None:
            if not self.edit_seller():
                return None
            seller = get_seller()
            if seller is None:
                return None
        from app.ui.invoice_form import InvoiceForm

        form = InvoiceForm(seller, self)
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.issued.connect(self._invoice_issued)
        form.destroyed.connect(lambda _=None, f=form: self.forms.remove(f) if f in self.forms else None)
        self.forms.append(form)
        form.show()
        return form

    def copy_invoice(self, number: str) -> InvoiceForm | None:
        """复制开票: a new form filled from the invoice (its buyer, lines and remarks); the original is only read."""
        from app.core.errors import ValidationFailed
        from app.services.copy_invoice import copy_body

        try:
            body = copy_body(number)
        except ValidationFailed as refused:
            QMessageBox.information(self, tr("复制开票", "Copy to a new invoice"),
                                    "\n".join(error.message(language()) for error in refused.errors))
            return None
        form = self.new_invoice()
        if form is None:
            return None
        form.load_draft(body)
        form.setWindowTitle(tr("新开发票（复制自 {number}）", "New invoice (copied from {number})", number=number))
        return form

    def copy_selected(self) -> InvoiceForm | None:
        number = self.selected_number()
        return self.copy_invoice(number) if number else None

    def _invoice_issued(self, number: str) -> None:
        self.refresh()
        self.select_number(number)
        self.statusBar().showMessage(tr("已开具发票 {number}", number=number), 10000)
        self.sync_actions.invoice_issued()

    def open_invoice(self, number: str) -> InvoiceDetail:
        from app.ui.invoice_detail import InvoiceDetail

        detail = InvoiceDetail(number, self)
        copy_button = detail.buttons.addButton(tr("复制开票", "Copy to a new invoice"),
                                               QDialogButtonBox.ButtonRole.ActionRole)
        copy_button.setObjectName("detail_copy")
        copy_button.clicked.connect(lambda: self.copy_invoice(number))
        self.trust_actions.add_detail_buttons(detail)
        self.channel_actions.add_detail_buttons(detail)
        self.sync_actions.add_detail_section(detail)
        self.print_actions.add_detail_buttons(detail)
        detail.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        detail.show()
        return detail

    def open_selected(self) -> InvoiceDetail | None:
        number = self.selected_number()
        return self.open_invoice(number) if number else None

    def _open_index(self, index: QModelIndex) -> None:
        item = self.list_model.summary(index.row())
        if item is None:
            return
        # A double click also activates the row (on most styles): both arrive, and the clerk wants one window.
        moment = time.monotonic()
        number, at = self._last_opened
        self._last_opened = (item.number, moment)
        if number == item.number and moment - at < QApplication.doubleClickInterval() / 1000 + 0.2:
            return
        self.open_invoice(item.number)

    def edit_seller(self) -> bool:
        from app.ui.seller_dialog import SellerDialog

        dialog = SellerDialog(get_seller(), self)
        return dialog.exec() == QDialog.DialogCode.Accepted

    def show_about(self) -> AboutDialog:
        """帮助 → 关于: the version, the data folder and the log file (non-modal; one at a time)."""
        if self.about_dialog is None:
            from app.ui.diagnostics import AboutDialog

            self.about_dialog = AboutDialog(self.store.data_dir, self)
            self.about_dialog.finished.connect(self._about_closed)
        self.about_dialog.show()
        self.about_dialog.raise_()
        return self.about_dialog

    def _about_closed(self) -> None:
        dialog, self.about_dialog = self.about_dialog, None
        if dialog is not None:
            dialog.deleteLater()

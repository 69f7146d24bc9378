"""Hooks the catalogs into the main window: a 基础资料 menu with 项目信息 (the item catalog), 客户信息 (the
customer book), 税收分类编码 (the table in force, to browse) and 更新税收分类编码 (its refresh from the
platform, in a background thread; open forms and the item list take the new table at once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from app.services.seller import get_seller
from app.ui.i18n import tr
from app.ui.tasks import BackgroundTask

if TYPE_CHECKING:
    from app.services.taxcodes import TaxCodeRefresh
    from app.ui.catalog_views import CustomersDialog, ItemsDialog  # openpyxl behind them: loaded when opened
    from app.ui.main_window import MainWindow
    from app.ui.taxcode_browser import TaxCodeBrowser


def _clerk() -> str:
    seller = get_seller()
    return seller.drawer if seller is not None else ""


class CatalogActions:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.items_dialog: ItemsDialog | None = None
        self.customers_dialog: CustomersDialog | None = None
        self.code_browser: TaxCodeBrowser | None = None
        self.refresh: BackgroundTask[TaxCodeRefresh] | None = None
        self.last_message = ""
        self.notice: QMessageBox | None = None

        menu = QMenu(tr("基础资料(&B)", "Cata&logs"), window)
        menu.setObjectName("catalog_menu")
        window.menuBar().insertMenu(window.view_menu.menuAction(), menu)
        self.menu = menu
        self.items_action = QAction(tr("项目信息…", "Items…"), window)
        self.items_action.triggered.connect(lambda: self.open_items())
        self.customers_action = QAction(tr("客户信息…", "Customers…"), window)
        self.customers_action.triggered.connect(lambda: self.open_customers())
        self.codes_action = QAction(tr("税收分类编码…", "Tax classification codes…"), window)
        self.codes_action.triggered.connect(lambda: self.open_codes())
        self.refresh_action = QAction(tr("更新税收分类编码", "Update tax classification codes"), window)
        self.refresh_action.setObjectName("refresh_codes_action")
        self.refresh_action.triggered.connect(lambda: self.refresh_codes())
        for action in (self.items_action, self.customers_action, self.codes_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.refresh_action)

    def _show(self, dialog: QWidget) -> None:
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def open_items(self) -> ItemsDialog:
        from app.ui.catalog_views import ItemsDialog

        if self.items_dialog is None:
            dialog = ItemsDialog(self.window, clerk=_clerk())
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.destroyed.connect(lambda _=None: setattr(self, "items_dialog", None))
            self.items_dialog = dialog
        else:
            self.items_dialog.reload()
        self._show(self.items_dialog)
        return self.items_dialog

    def open_customers(self) -> CustomersDialog:
        from app.ui.catalog_views import CustomersDialog

        if self.customers_dialog is None:
            dialog = CustomersDialog(self.window, clerk=_clerk())
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.destroyed.connect(lambda _=None: setattr(self, "customers_dialog", None))
            self.customers_dialog = dialog
        else:
            self.customers_dialog.reload()
        self._show(self.customers_dialog)
        return self.customers_dialog

    def open_codes(self) -> TaxCodeBrowser:
        if self.code_browser is None:
            from app.ui.taxcode_browser import TaxCodeBrowser  # the browser (and the form's line table) on first use

            browser = TaxCodeBrowser(self.window)
            browser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            browser.destroyed.connect(lambda _=None: setattr(self, "code_browser", None))
            self.code_browser = browser
        self._show(self.code_browser)
        return self.code_browser

    def refresh_codes(self) -> BackgroundTask[TaxCodeRefresh] | None:
        """更新税收分类编码: the platform's newer table, in a background thread; one refresh at a time."""
        if self.refresh is not None:
            return None
        from app.ui.taxcode_browser import refresh_task

        task = refresh_task(_clerk(), self.window)
        self.refresh = task
        self.refresh_action.setEnabled(False)
        self.window.statusBar().showMessage(tr("正在更新税收分类编码…", "Updating the tax classification table…"))
        task.on_success(self._refreshed)
        task.on_failure(self._refresh_failed)
        task.on_finished(self._refresh_ended)
        return task.start()

    def _refreshed(self, result: TaxCodeRefresh) -> None:
        from app.ui.taxcode_browser import refresh_summary

        self._notify(refresh_summary(result), warning=bool(result.items_flagged))
        for form in list(self.window.forms):
            form.codes_refreshed()
        if self.items_dialog is not None:
            self.items_dialog.reload()
        if self.code_browser is not None:
            self.code_browser.run_search()

    def _refresh_failed(self, error: str) -> None:
        self._notify(tr("税收分类编码未更新：{error}", "The tax classification table was not updated: {error}",
                        error=error), warning=True)

    def _refresh_ended(self) -> None:
        self.refresh = None
        self.refresh_action.setEnabled(True)

    def _notify(self, text: str, warning: bool = False) -> None:
        """A notice that does not block (the clerk may be typing an invoice): the status bar and a box."""
        self.last_message = text
        self.window.statusBar().showMessage(text.splitlines()[0], 15000)
        if self.notice is not None:
            self.notice.close()
        icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information
        box = QMessageBox(icon, tr("税收分类编码", "Tax classification codes"), text, QMessageBox.StandardButton.Ok,
                          self.window)
        box.setObjectName("codes_notice")
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda _=None: setattr(self, "notice", None))
        self.notice = box
        box.show()


def install(window: MainWindow) -> CatalogActions:
    actions = CatalogActions(window)
    window.catalog_actions = actions
    return actions

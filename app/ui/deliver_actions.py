"""Delivery in the app (app/services/deliver.py): 工具 → 交付文件夹… (choose the folder the PDF and XML of
accepted invoices go to) and 立即交付 (deliver what is pending now). Delivering writes files and the store:
it runs in a BackgroundTask, never on the GUI thread; a folder that cannot be written is answered with the
service's message naming deliver.folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.core.errors import DeskError
from app.services.seller import get_seller
from app.ui.i18n import language, tr
from app.ui.tasks import BackgroundTask, Progress

if TYPE_CHECKING:  # the delivery service (and the XML writer behind it) loads when first used
    from app.services import deliver
    from app.ui.main_window import MainWindow


class DeliverActions:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.task: BackgroundTask[deliver.DeliverResult] | None = None
        self.last: deliver.DeliverResult | None = None
        self.dialogs: list[QWidget] = []
        self.folder_action = QAction(tr("交付文件夹…", "Delivery folder…"), window)
        self.folder_action.setObjectName("deliver_folder_action")
        self.folder_action.triggered.connect(lambda: self.choose_folder())
        self.deliver_action = QAction(tr("立即交付（PDF 与 XML）", "Deliver now (PDF and XML)"), window)
        self.deliver_action.setObjectName("deliver_now_action")
        self.deliver_action.triggered.connect(lambda: self.deliver_now())
        window.tools_menu.addSeparator()
        window.tools_menu.addAction(self.folder_action)
        window.tools_menu.addAction(self.deliver_action)

    def choose_folder(self, folder: str | None = None) -> bool:
        """Ask for the folder (or take `folder`, as a test does) and save it; True when saved."""
        from app.services import deliver

        if folder is None:
            current = deliver.deliver_folder()
            folder = QFileDialog.getExistingDirectory(self.window, tr("选择交付文件夹", "Choose the delivery folder"),
                                                      str(current) if current else "")
            if not folder:
                return False
        try:
            chosen = deliver.set_deliver_folder(folder, clerk=self._clerk())
        except DeskError as error:
            self._warn("deliver_folder_refused", tr("交付文件夹", "Delivery folder"), error.describe(language()))
            return False
        self.window.statusBar().showMessage(
            tr("交付文件夹：{f}", "Delivery folder: {f}", f=chosen) if chosen else tr("已停止自动交付",
                                                                                 "Automatic delivery stopped"),
            15000)
        return True

    def deliver_now(self) -> BackgroundTask[deliver.DeliverResult] | None:
        """Deliver what is pending into the folder set, in a background thread (None: one is running, or no
        folder is set, which the clerk is asked to choose)."""
        from app.services import deliver

        if self.task is not None:
            return None
        if deliver.deliver_folder() is None and not self.choose_folder():
            return None

        def work(progress: Progress) -> deliver.DeliverResult:
            return deliver.deliver_pending(limit=10_000, clerk=self._clerk())

        task = BackgroundTask(work, self.window)
        task.on_success(self._delivered)
        task.on_failure(lambda error: self._warn("deliver_failed", tr("交付失败", "Delivery failed"), error))
        task.on_finished(self._ended)
        self.task = task
        self.window.statusBar().showMessage(tr("正在交付…", "Delivering…"))
        task.start()
        return task

    @staticmethod
    def _clerk() -> str:
        seller = get_seller()
        return seller.drawer if seller is not None and seller.drawer else "deliver"

    def _ended(self) -> None:
        self.task = None

    def _delivered(self, result: deliver.DeliverResult) -> None:
        self.last = result
        message = tr("已交付 {n} 张发票到 {f}", "{n} invoice(s) delivered to {f}", n=len(result.delivered),
                     f=result.folder)
        if result.remaining:
            message += tr("；仍待交付 {r} 张", "; {r} still pending", r=result.remaining)
        self.window.statusBar().showMessage(message, 15000)
        problems = [f"{number}: {why}" for number, why in result.failed + result.refused]
        if problems:
            self._warn("deliver_problems", tr("部分发票未交付", "Some invoices were not delivered"),
                       "\n".join(problems))
        self.window.refresh()

    def _warn(self, name: str, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self.window)
        box.setObjectName(name)
        self.dialogs.append(box)
        box.open()


def install(window: MainWindow) -> DeliverActions:
    actions = DeliverActions(window)
    window.deliver_actions = actions  # type: ignore[attr-defined]
    return actions

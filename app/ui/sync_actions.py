"""Hooks the upload side into the main window.

install(window) adds the platform indicator to the status bar (click: the queue view), the
tools-menu entries 上传队列 / 立即上传 / 平台设置, a notice when the platform is back, and the
upload history on an invoice's detail view (add_detail_section). The runner is created here but
started by the application (app/ui/application.py), so a window built in a test polls nothing
unless the test starts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QMessageBox, QWidget

from app.core.errors import ValidationFailed
from app.platform.client import mask_token
from app.services.settings import PLATFORM_URL, get_setting, platform_token, platform_url, set_platform
from app.ui.i18n import language, tr
from app.ui.sync_runner import SyncRunner, default_client_factory
from app.ui.sync_status import SyncStatusWidget

if TYPE_CHECKING:  # the queue view loads when first opened
    from app.ui.invoice_detail import InvoiceDetail
    from app.ui.main_window import MainWindow
    from app.ui.queue_view import QueueView


class PlatformSettingsDialog(QDialog):
    """URL and token; the token is shown masked and kept unless a new one is typed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("平台设置", "Platform settings"))
        form = QFormLayout(self)
        self.url = QLineEdit(platform_url(), self)
        self.url.setObjectName("platform_url")
        self.token = QLineEdit(self)
        self.token.setObjectName("platform_token")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText(tr("当前：{t}（留空则不变）", "current: {t} (leave empty to keep)",
                                         t=mask_token(platform_token())))
        form.addRow(tr("平台地址", "Platform URL"), self.url)
        form.addRow(tr("令牌", "Token"), self.token)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(tr("保存", "Save"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消", "Cancel"))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def save(self) -> bool:
        try:
            set_platform(self.url.text(), self.token.text() or None)
        except ValidationFailed as failed:
            QMessageBox.warning(self, tr("无法保存", "Cannot save"), failed.describe(language()))
            return False
        self.accept()
        return True


def platform_configured() -> bool:
    """A platform address was set (first start has none: the desk is not offline, it is not set up)."""
    return bool(get_setting(PLATFORM_URL))


class SyncActions:
    def __init__(self, window: MainWindow, runner: SyncRunner | None = None) -> None:
        self.window = window
        self.dialogs: list[QWidget] = []
        self.last_notice = ""
        self.status_widget = SyncStatusWidget(None, window)
        self.status_widget.set_configured(platform_configured())
        self.status_widget.clicked.connect(self.open_queue)
        window.add_status_widget(self.status_widget)

        self.queue_action = QAction(tr("上传队列…", "Upload queue…"), window)
        self.queue_action.triggered.connect(self.open_queue)
        self.upload_now_action = QAction(tr("立即上传", "Upload now"), window)
        self.upload_now_action.triggered.connect(lambda: self.runner.upload_now())
        self.settings_action = QAction(tr("平台设置…", "Platform settings…"), window)
        self.settings_action.triggered.connect(self.edit_settings)
        window.tools_menu.addSeparator()
        for action in (self.queue_action, self.upload_now_action, self.settings_action):
            window.tools_menu.addAction(action)

        self.attach(runner or SyncRunner(parent=window))

    def attach(self, runner: SyncRunner) -> None:
        """Use this runner (the application's, or a test's pointed at its own platform)."""
        self.runner = runner
        self.status_widget.attach(runner)
        runner.progress.connect(self._progress)
        runner.came_back.connect(self._came_back)
        runner.unauthorized.connect(self._unauthorized)
        runner.held.connect(self._held)
        runner.refresh_counts()

    def open_queue(self) -> QueueView:
        from app.ui.queue_view import QueueView

        view = QueueView(self.runner, self.window)
        self.dialogs.append(view)
        view.finished.connect(lambda _=0, v=view: self.dialogs.remove(v) if v in self.dialogs else None)
        view.show()
        return view

    def edit_settings(self) -> PlatformSettingsDialog:
        dialog = PlatformSettingsDialog(self.window)
        dialog.accepted.connect(lambda: self.runner.set_client_factory(default_client_factory()))
        dialog.accepted.connect(lambda: self.status_widget.set_configured(platform_configured()))
        self.dialogs.append(dialog)
        dialog.show()
        return dialog

    def add_detail_section(self, detail: InvoiceDetail) -> None:
        """The invoice's upload history under its detail view."""
        from app.ui.queue_view import upload_history_html

        detail.view.append(upload_history_html(detail.row.id))

    def invoice_issued(self) -> None:
        self.runner.invoice_issued()

    def _notice(self, text: str) -> None:
        self.last_notice = text
        self.window.statusBar().showMessage(text, 30000)

    def _progress(self, accepted: int, rejected: int) -> None:
        self.window.refresh()
        if rejected:
            self._notice(tr("平台拒绝了 {n} 张发票，请在上传队列中查看原因",
                            "the platform rejected {n} invoices: see the upload queue for why", n=rejected))

    def _came_back(self, uploaded: int, attention: int) -> None:
        text = tr("平台已恢复：{u} 张发票已上传，{a} 张需要处理", "The platform is back: {u} invoices went up, "
                  "{a} need attention", u=uploaded, a=attention)
        self._notice(text)
        self.window.refresh()

    def _held(self, reason: str) -> None:
        self._notice(tr("上传已暂停（{reason}）：请先对账，确认无误后在“上传队列”中点“继续上传”",
                        "Uploads are held ({reason}): reconcile first, then press Resume uploads in the "
                        "upload queue", reason=reason))

    def _unauthorized(self, message: str) -> None:
        self._notice(tr("平台拒绝了令牌，上传已暂停，发票均未丢失；请在“平台设置”中更新令牌",
                        "The platform refused the token: uploads stopped, nothing is lost; update it in "
                        "Platform settings"))


def install(window: MainWindow) -> SyncActions:
    window.sync_actions = SyncActions(window)
    return window.sync_actions

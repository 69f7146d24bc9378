"""Checks the app makes at start: the history verified off the GUI thread, with a clear warning
naming the first broken entry; and a damaged store met with the newest good backup."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from app.ui.i18n import tr
from app.ui.tasks import BackgroundTask, Progress, Work

if TYPE_CHECKING:  # the history check's modules load in its thread, after the window's first paint
    from app.services.backup import RestoreResult
    from app.services.integrity import IntegrityReport
    from app.store.database import Store
    from app.ui.main_window import MainWindow


def _verify_work(data_dir: Path) -> Work[IntegrityReport]:
    def work(progress: Progress) -> IntegrityReport:
        from app.services.backup import anchors, backup_folder
        from app.services.integrity import check_history
        from app.services.seller import get_seller

        # The quick check: what came after the verified head, plus a rolling sample of the older part
        # (`audit verify --full` checks everything).
        seller = get_seller()
        heads = anchors(backup_folder(data_dir), seller.party.tax_id if seller else "", data_dir)
        return check_history(anchors=heads)

    return work


def broken_message(report: IntegrityReport) -> str:
    first = report.first
    if first is None:
        return tr("本机数据库的审计记录被改动过（应用之外的修改）。",
                  "The audit history of this store was changed outside the app.")
    return tr("本机数据库的审计记录被改动过（应用之外的修改）。\n\n第一处断裂：\n"
              "记录号 #{id}\n时间 {at}\n操作 {action}\n发票 {number}\n原因 {reason}\n\n"
              "请勿继续开票，联系技术支持，并用备份和平台核对（工具 → 与平台对账）。",
              "The audit history of this store was changed outside the app.\n\nFirst broken entry:\n"
              "entry #{id}\ntime {at}\naction {action}\ninvoice {number}\nreason {reason}\n\n"
              "Contact technical support and check against a backup and the platform (Tools → Reconcile).",
              id=first.entry_id if first.entry_id is not None else "-", at=first.at or "-",
              action=first.action or "-", number=first.invoice_number or "-", reason=first.reason)


class IntegrityCheck(BackgroundTask["IntegrityReport"]):
    """The chain verified in a background thread; the report is in value, the warning box (if any) in warning."""

    def __init__(self, parent: QWidget, data_dir: Path) -> None:
        super().__init__(_verify_work(Path(data_dir)), parent)
        self._owner = parent
        self.warning: QMessageBox | None = None
        self.on_success(self._checked)
        self.on_failure(self._check_failed)

    def _checked(self, report: IntegrityReport) -> None:
        status = getattr(self._owner, "statusBar", None)
        if report.ok:
            if status is not None:
                status().showMessage(tr("审计链完整：{n} 条记录", "Audit history whole: {n} entries", n=report.entries),
                                     10000)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, tr("审计记录校验失败", "Audit history check failed"),
                          broken_message(report), QMessageBox.StandardButton.Ok, self._owner)
        box.setObjectName("integrity_warning")
        self.warning = box
        box.open()  # not exec(): the clerk can still look at the list

    def _check_failed(self, error: str) -> None:
        self.warning = QMessageBox(QMessageBox.Icon.Warning, tr("审计记录校验失败", "Audit history check failed"),
                                   error, QMessageBox.StandardButton.Ok, self._owner)
        self.warning.open()


def start_integrity_check(parent: QWidget, data_dir: Path) -> IntegrityCheck:
    """Verify the chain in a background thread; warn (non-blocking) when it is broken."""
    check = IntegrityCheck(parent, data_dir)
    check.start()
    return check


def open_store_or_restore(data_dir: Path | str | None) -> tuple[Store | None, RestoreResult | None]:
    """(store, restore result): a damaged store is met with the restore dialog on the newest good
    backup; (None, None) when the clerk quits instead."""
    from app.services.store_access import open_store
    from app.store.damage import StoreDamaged
    from app.store.database import default_data_dir
    from app.ui.store_upgrade import open_upgrading

    try:
        return open_upgrading(data_dir, open_store), None
    except StoreDamaged as damaged:
        from app.ui.restore_dialog import RestoreDialog  # only for a damaged store: not on every start's path

        directory = Path(data_dir) if data_dir is not None else default_data_dir()
        dialog = RestoreDialog(directory, damage=damaged.reason)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.restored is None:
            return None, None
        return open_store(directory), dialog.restored


def after_start(window: MainWindow, restored: RestoreResult | None = None) -> IntegrityCheck:
    """The checks once the window shows: the history verified in the background, and after a
    restore the reconciliation view on the period since the backup (what came after it)."""
    from app.ui.backup_actions import reconcile_after_restore

    window.integrity_check = start_integrity_check(window, Path(window.store.data_dir))
    if restored is not None:
        reconcile_after_restore(window, restored)
    return window.integrity_check

"""Hooks the correction and after-outage features into the main window.

install(window) adds: 作废 (paper invoices in their month, pre-issue records) / 红字发票 (a red-letter form, or
the red invoice on a usable one) to the invoice menu and the list's context menu, the red-letter forms view
(红字确认单, invoice menu), the offline-limits indicator in the status bar (with a warning message when a limit
nears), the limits dialog, the outage log and the reconciliation view (tools menu). add_detail_buttons() puts
作废 / 红字 buttons on an invoice's detail view.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialogButtonBox, QMenu, QPushButton, QWidget

from app.core import status
from app.core.clock import now
from app.core.lifecycle import same_month
from app.store import queries
from app.ui.i18n import language, tr
from app.ui.limits_panel import LimitsDialog, LimitsIndicator

if TYPE_CHECKING:
    from app.ui.invoice_detail import InvoiceDetail
    from app.ui.lifecycle_dialogs import CancelDialog, RedLetterDialog
    from app.ui.main_window import MainWindow
    from app.ui.outage_view import OutageLogView
    from app.ui.reconcile_view import ReconcileView
    from app.ui.red_forms_view import RedFormsView

Shown = TypeVar("Shown", bound=QWidget)


def can_cancel(number: str | None) -> bool:
    """Only whether to offer the action; the service decides. Never for an electronic invoice (red-letter)."""
    row = queries.find_row(number) if number else None
    if row is None:
        return False
    if row.status in (status.PRE_ISSUE, status.REJECTED):
        return True
    return (row.status == status.ACCEPTED and row.medium == "paper"
            and same_month(datetime.fromisoformat(row.issued_at), now()))


def can_reverse(number: str | None) -> bool:
    row = queries.find_invoice(number) if number else None
    return row is not None and row.status == status.ACCEPTED and not row.original_number


class TrustActions:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.dialogs: list[QWidget] = []  # kept alive while shown
        self.cancel_action = QAction(tr("作废…", "Cancel invoice…"), window)
        self.cancel_action.triggered.connect(lambda: self.cancel(window.selected_number()))
        self.red_action = QAction(tr("红字发票（确认单）…", "Red-letter invoice (form)…"), window)
        self.red_action.triggered.connect(lambda: self.red_letter(window.selected_number()))
        self.red_forms_action = QAction(tr("红字确认单…", "Red-letter forms…"), window)
        self.red_forms_action.setObjectName("red_forms_action")
        self.red_forms_action.triggered.connect(self.show_red_forms)
        window.invoice_menu.addAction(self.cancel_action)
        window.invoice_menu.addAction(self.red_action)
        window.invoice_menu.addAction(self.red_forms_action)
        window.invoice_menu.aboutToShow.connect(self._enable_for_selection)

        self.outages_action = QAction(tr("停机记录", "Outage log"), window)
        self.outages_action.triggered.connect(self.show_outages)
        self.reconcile_action = QAction(tr("与平台对账…", "Reconcile with the platform…"), window)
        self.reconcile_action.triggered.connect(self.show_reconcile)
        self.limits_action = QAction(tr("离线开票限额…", "Offline limits…"), window)
        self.limits_action.triggered.connect(self.edit_limits)
        for action in (self.reconcile_action, self.outages_action, self.limits_action):
            window.tools_menu.addAction(action)

        self.indicator = LimitsIndicator(window)
        window.add_status_widget(self.indicator)
        self._warned: set[str] = set()
        self.indicator.timer.timeout.connect(self._warn_if_near)
        # Whenever the list reloads (issued, uploaded, imported) the figures may have changed.
        window.list_model.modelReset.connect(self._limits_changed)
        self._warn_if_near()

        view = window.list_view
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._context_menu)

    # --- actions -------------------------------------------------------------------------------

    def _enable_for_selection(self) -> None:
        number = self.window.selected_number()
        self.cancel_action.setEnabled(can_cancel(number))
        self.red_action.setEnabled(can_reverse(number))

    def _context_menu(self, position) -> None:
        index = self.window.list_view.indexAt(position)
        if index.isValid():
            self.window.list_view.selectRow(index.row())
        self._enable_for_selection()
        menu = QMenu(self.window)
        menu.addAction(self.window.open_invoice_action)
        menu.addAction(self.cancel_action)
        menu.addAction(self.red_action)
        menu.popup(self.window.list_view.viewport().mapToGlobal(position))
        self.context_menu = menu

    def _after(self, message: str) -> None:
        self.refresh()
        self.window.statusBar().showMessage(message, 15000)

    def refresh(self) -> None:
        self.window.refresh()  # resets the list model, which refreshes the indicator

    def _limits_changed(self) -> None:
        self.indicator.refresh()
        self._warn_if_near()

    def _keep(self, dialog: Shown) -> Shown:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialogs.append(dialog)
        dialog.destroyed.connect(lambda _=None, d=dialog: self.dialogs.remove(d) if d in self.dialogs else None)
        dialog.show()
        return dialog

    def cancel(self, number: str | None) -> CancelDialog | None:
        if not number:
            return None
        from app.ui.lifecycle_dialogs import CancelDialog  # opened seldom: loaded then, not at start

        dialog = CancelDialog(number, self.window)
        dialog.completed.connect(self._after)
        return self._keep(dialog)

    def red_letter(self, number: str | None) -> RedLetterDialog | None:
        if not number:
            return None
        from app.ui.lifecycle_dialogs import RedLetterDialog

        dialog = RedLetterDialog(number, self.window)
        dialog.completed.connect(self._after)
        return self._keep(dialog)

    def show_red_forms(self) -> RedFormsView:
        from app.ui.red_forms_view import RedFormsView

        view = RedFormsView(self.window)
        view.changed.connect(self.refresh)
        return self._keep(view)

    def show_outages(self) -> OutageLogView:
        from app.ui.outage_view import OutageLogView

        return self._keep(OutageLogView(self.window))

    def show_reconcile(self) -> ReconcileView:
        from app.ui.reconcile_view import ReconcileView

        view = ReconcileView(self.window)
        view.changed.connect(self.refresh)
        return self._keep(view)

    def edit_limits(self) -> LimitsDialog:
        dialog = LimitsDialog(self.window)
        dialog.accepted.connect(self.refresh)
        return self._keep(dialog)

    def _warn_if_near(self) -> None:
        """A status-bar message once per limit as it nears, and a box once when one is passed."""
        left = self.indicator.remaining
        for problem in left.warnings:
            if problem.field not in self._warned:
                self._warned.add(problem.field)
                self.window.statusBar().showMessage(problem.message(language()), 30000)
        for problem in left.exceeded:
            key = "exceeded:" + problem.field
            if key not in self._warned:
                self._warned.add(key)
                self.window.statusBar().showMessage(problem.message(language()), 60000)
        if not left.warnings and not left.exceeded:
            self._warned.clear()

    # --- the detail view -----------------------------------------------------------------------

    def add_detail_buttons(self, detail: InvoiceDetail) -> None:
        """作废 and 红字 on an invoice's detail view, enabled as the invoice allows."""
        number = detail.number
        cancel = QPushButton(tr("作废…", "Cancel invoice…"), detail)
        cancel.setObjectName("detail_cancel")
        cancel.setEnabled(can_cancel(number))
        cancel.clicked.connect(lambda: (detail.close(), self.cancel(number)))
        red = QPushButton(tr("红字发票（确认单）…", "Red-letter invoice (form)…"), detail)
        red.setObjectName("detail_red")
        red.setEnabled(can_reverse(number))
        red.clicked.connect(lambda: (detail.close(), self.red_letter(number)))
        detail.buttons.addButton(cancel, QDialogButtonBox.ButtonRole.ActionRole)
        detail.buttons.addButton(red, QDialogButtonBox.ButtonRole.ActionRole)
        notes = detail_notes(number)
        if notes:
            detail.view.append("".join(f"<p style='color:{color}'><b>{escape(text)}</b></p>" for text, color in notes))


def detail_notes(number: str) -> list[tuple[str, str]]:
    """Lines for the detail view: upload deadline (red when overdue), cancellation, red-letter reason."""
    from app.ui.limits_panel import OverdueMarks

    row = queries.find_invoice(number)
    if row is None:
        return []
    notes = []
    marks = OverdueMarks()
    deadline = marks.deadline_text(row.status, row.issued_at)
    if deadline:
        notes.append((deadline, "#b00020" if marks.overdue(row.status, row.issued_at) else "#333"))
    if row.status == status.CANCELLED:
        notes.append((tr("已作废：{reason}（{at}）", "Cancelled: {reason} ({at})", reason=row.cancel_reason or "",
                         at=(row.cancelled_at or "")[:16].replace("T", " ")), "#b00020"))
    if queries.cancellation_waiting(row.id):
        notes.append((tr("作废申请等待上传结果", "Cancellation waiting for the upload's outcome"), "#8a5a00"))
    if row.red_reason:
        notes.append((tr("红字原因：{reason}", "Red-letter reason: {reason}", reason=row.red_reason), "#b00020"))
    if row.status == status.ACCEPTED and row.official_number:
        from app.services.red_forms import status_label
        from app.store.red_forms import list_forms

        for form in list_forms(original_number=row.official_number):
            shown = form.status if form.state == "known" else form.state
            notes.append((tr("红字确认单 {form}：{state}", "Red-letter form {form}: {state}",
                             form=form.form_number or tr("（待发送）", "(not sent yet)"),
                             state=status_label(shown, language())), "#8a5a00"))
    reds = queries.red_letter_numbers(row) if row.status == status.ACCEPTED else []
    if reds:
        notes.append((tr("已开红字发票：{numbers}", "Reversed by: {numbers}", numbers="、".join(reds)), "#333"))
    return notes


def install(window: MainWindow) -> TrustActions:
    actions = TrustActions(window)
    window.trust_actions = actions
    return actions


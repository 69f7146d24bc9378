"""The red-letter forms view (红字确认单): every form the desk knows, the buyer's and its own.

- forms the buyer raised and waiting for the seller (03), with their figures, and 同意 / 不同意 buttons;
- the desk's own forms waiting for the buyer (02), with the hours left of their 72;
- requests recorded while the platform was away (waiting to be sent), refusals, and the end states (05 to 10);
- 刷新 sends what waits and reads every form from the platform (app/services/red_forms.send_requests, refresh),
  off the GUI thread (app/ui/tasks.py); so do the decisions. The table reads the store's read model only
  (app/store/red_forms.list_forms).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.clock import now
from app.core.errors import stored_message
from app.core.money import format_money_grouped
from app.platform.client import PlatformClient
from app.services import red_forms
from app.store.red_forms import KNOWN, FormView, list_forms
from app.ui.i18n import language, tr
from app.ui.tasks import BackgroundTask

COLUMNS = ("form_number", "status", "raised_by", "original_number", "reason", "amount", "tax", "hours_left",
           "red_invoice", "message")


def _default_client() -> PlatformClient:
    from app.services.settings import make_client

    return make_client()


def hours_left(form: FormView, at: datetime | None = None) -> str:
    """What is left of the 72 hours of a form waiting for the other party (02, 03), as the desk's clock says."""
    if form.state != KNOWN or form.status not in ("02", "03") or not form.expires_at:
        return ""
    left = (datetime.fromisoformat(form.expires_at) - (at or now())).total_seconds() / 3600
    return tr("{hours} 小时", "{hours} h", hours=f"{max(left, 0):.1f}")


class RedFormsView(QDialog):
    """The forms, refreshed from the platform when it answers; agree / disagree the buyer's, revoke the desk's."""

    changed = Signal()  # a decision or a refresh changed what the store holds

    def __init__(self, parent: QWidget | None = None,
                 client_factory: Callable[[], PlatformClient] | None = None) -> None:
        super().__init__(parent)
        self.client_factory = client_factory or _default_client
        self.task: BackgroundTask[Any] | None = None
        self.forms: list[FormView] = []
        self.setWindowTitle(tr("红字确认单", "Red-letter forms"))
        self.resize(1000, 460)
        layout = QVBoxLayout(self)
        self.summary = QLabel(self)
        self.summary.setObjectName("forms_summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("forms_table")
        self.table.setHorizontalHeaderLabels([
            tr("确认单编号", "Form number"), tr("状态", "Status"), tr("提出方", "Raised by"),
            tr("蓝字发票", "Blue invoice"), tr("原因", "Reason"), tr("金额", "Amount"), tr("税额", "Tax"),
            tr("剩余时间", "Time left"), tr("红字发票", "Red invoice"), tr("说明", "Note")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._enable)
        layout.addWidget(self.table)
        self.status = QLabel(self)
        self.status.setObjectName("forms_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.refresh_button = self._button("forms_refresh", tr("从平台刷新", "Refresh from the platform"), self.refresh)
        self.agree_button = self._button("form_agree", tr("同意", "Agree"), lambda: self.decide("agree"))
        self.disagree_button = self._button("form_disagree", tr("不同意", "Disagree"), lambda: self.decide("disagree"))
        self.revoke_button = self._button("form_revoke", tr("撤销本方确认单", "Revoke own form"),
                                          lambda: self.decide("revoke"))
        for button in (self.refresh_button, self.agree_button, self.disagree_button, self.revoke_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        close = QPushButton(tr("关闭"), self)
        close.clicked.connect(self.close)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.reload()

    def _button(self, name: str, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.clicked.connect(lambda: slot())
        return button

    # --- the read model ---------------------------------------------------------------------------

    def reload(self) -> None:
        selected = self.selected()
        self.forms = list_forms()
        self.table.setRowCount(len(self.forms))
        lang = language()
        for r, form in enumerate(self.forms):
            shown = form.status if form.state == KNOWN else form.state
            reason = red_forms.REASONS.get(form.reason, (form.reason, form.reason))
            # A platform status (01..10) keeps its code beside its words; the desk's own states (requested,
            # refused) are words only.
            state_text = red_forms.status_label(shown, lang) if shown else ""
            if form.state == KNOWN and shown:
                state_text = f"{shown} {state_text}"
            values = (form.form_number or tr("（待发送）", "(not sent yet)"), state_text,
                      tr("购方", "buyer") if form.raised_by == "buyer" else tr("本方", "seller"),
                      form.original_number, f"{form.reason} {reason[0] if lang == 'zh' else reason[1]}",
                      format_money_grouped(form.total_amount), format_money_grouped(form.total_tax), hours_left(form),
                      form.red_invoice or form.red_number or "",
                      stored_message(form.message or form.last_error, lang))
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, form.id)
                self.table.setItem(r, c, item)
        waiting_us = sum(1 for f in self.forms if f.state == KNOWN and f.status == "03")
        waiting_buyer = sum(1 for f in self.forms if f.state == KNOWN and f.status == "02")
        queued = sum(1 for f in self.forms if f.state == "requested")
        self.summary.setText(tr("待本方确认 {us} 张，待购方确认 {buyer} 张，待发送 {queued} 张",
                                "{us} waiting for us, {buyer} waiting for the buyer, {queued} waiting to be sent",
                                us=waiting_us, buyer=waiting_buyer, queued=queued))
        if selected is not None:
            self.select(selected.id)
        self._enable()

    def selected(self) -> FormView | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.forms):
            return None
        return self.forms[rows[0].row()]

    def select(self, form_id: int) -> bool:
        for r, form in enumerate(self.forms):
            if form.id == form_id:
                self.table.selectRow(r)
                return True
        return False

    def row_of(self, form_uuid: str) -> int:
        return next((r for r, form in enumerate(self.forms) if form.uuid == form_uuid), -1)

    def _enable(self) -> None:
        form = self.selected()
        idle = self.task is None
        answerable = form is not None and form.state == KNOWN and form.status == "03" and form.decision is None
        revocable = (form is not None and form.state == KNOWN and form.raised_by == "seller"
                     and form.status in ("01", "02", "04") and not form.red_invoice and not form.red_number)
        self.agree_button.setEnabled(idle and answerable)
        self.disagree_button.setEnabled(idle and answerable)
        self.revoke_button.setEnabled(idle and revocable)
        self.refresh_button.setEnabled(idle)

    # --- work off the GUI thread ------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.task is not None

    def _run(self, work: Callable[[PlatformClient], str]) -> None:
        factory = self.client_factory

        def job(_progress: Callable[[int, int], bool]) -> str:
            client = factory()
            try:
                return work(client)
            finally:
                client.close()

        task: BackgroundTask[str] = BackgroundTask(job, self)
        task.on_success(self.status.setText)
        task.on_failure(lambda message: self.status.setText(tr("未完成：{message}", "Not done: {message}",
                                                                message=message)))
        task.on_finished(self._finished)
        self.task = task
        self._enable()
        task.start()

    def _finished(self) -> None:
        self.task = None
        self.reload()
        told = red_forms.pending_messages()
        if told:
            self.status.setText("\n".join(f.message for f in told))
        self.changed.emit()

    def refresh(self) -> bool:
        """Send what waits, then read every form from the platform."""
        if self.busy:
            return False

        def work(client: PlatformClient) -> str:
            red_forms.send_requests(client, clerk="desk")
            changed = red_forms.refresh(client, clerk="desk")
            return tr("已从平台刷新，{count} 张有变化", "Refreshed from the platform: {count} changed",
                      count=len(changed))

        self.status.setText(tr("正在从平台刷新…", "Refreshing from the platform…"))
        self._run(work)
        return True

    def decide(self, decision: str) -> bool:
        form = self.selected()
        if self.busy or form is None or form.uuid is None:
            return False
        form_uuid = form.uuid

        def work(client: PlatformClient) -> str:
            return red_forms.decide(form_uuid, decision, clerk="desk", client=client).message(language())

        self.status.setText(tr("正在提交…", "Sending…"))
        self._run(work)
        return True

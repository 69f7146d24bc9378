"""The upload queue as the clerk sees it: what waits, what failed and why; upload now,
pause/resume, and re-queue of a rejected invoice (after it was corrected the proper way).
Also the upload history section of an invoice's detail view."""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import status
from app.core.errors import field_label, split_message, stored_message
from app.core.money import format_money_grouped
from app.services import queue
from app.ui.i18n import language, tr
from app.ui.tasks import BackgroundTask, Progress

if TYPE_CHECKING:
    from app.ui.invoice_form import InvoiceForm
    from app.ui.sync_runner import SyncRunner

STATE_LABELS = status.QUEUE_STATE_LABELS
RELOAD_PAUSE_MS = 500
SHOWN_ROWS = 1000  # of the rejected, and of those waiting (the summary counts them all)
ACTION_LABELS = {
    "sent": ("发送", "sent"), "send_failed": ("发送失败", "send failed"),
    "send_outcome_unknown": ("结果未知", "outcome unknown"), "accepted": ("平台接受", "accepted"),
    "rejected": ("平台拒绝", "rejected"), "queued": ("重新排队", "queued again"), "reissued": ("更正重开", "reissued"),
}


def state_label(state: str) -> str:
    return status.queue_state_label(state, language())


def reasons_text(last_error: str) -> str:
    """The platform's reasons, one per field named as the clerk knows it, or the last error in the chosen
    language (it is kept as "中文 (English)", or in English by older desks)."""
    reasons = queue.rejection_reasons(last_error)
    lang = language()
    if not reasons:
        return stored_message(last_error, lang)
    shown = []
    for reason in reasons:
        field = str(reason.get("field") or "")
        said_zh, said_en = split_message(str(reason.get("message") or ""))
        said = said_zh if lang == "zh" else str(reason.get("message_en") or "") or said_en
        said = stored_message(said, lang)  # a reason the sync layer wrote in English (number_used)
        label = field_label(field, lang) if field else ""
        shown.append(f"{label}{'：' if lang == 'zh' else ': '}{said}" if label else said)
    return ("；" if lang == "zh" else "; ").join(shown)


def upload_history_html(invoice_id: int) -> str:
    """The section the invoice's detail view shows: its upload, attempt by attempt."""
    rows = []
    for attempt in queue.attempt_history(invoice_id):
        labels = ACTION_LABELS.get(attempt.action, (attempt.action, attempt.action))
        detail = attempt.detail
        if attempt.action == "sent" and "attempt" in detail:
            info = tr("第 {n} 次", "attempt {n}", n=detail["attempt"])
        elif detail.get("details"):
            info = reasons_text(json.dumps(detail["details"], ensure_ascii=False))
        else:
            info = detail.get("official_number") or stored_message(
                str(detail.get("error") or detail.get("why") or ""), language())
        rows.append(f"<tr><td>{escape(attempt.at[:19].replace('T', ' '))}</td>"
                    f"<td>{escape(labels[0 if language() == 'zh' else 1])}</td><td>{escape(str(info))}</td></tr>")
    if not rows:
        rows.append(f"<tr><td colspan='3'>{escape(tr('尚未上传', 'not sent yet'))}</td></tr>")
    return (f"<h3>{escape(tr('上传记录', 'Upload history'))}</h3><table width='100%'>"
            f"<tr><th>{escape(tr('时间', 'Time'))}</th><th>{escape(tr('事件', 'Event'))}</th>"
            f"<th>{escape(tr('说明', 'Detail'))}</th></tr>{''.join(rows)}</table>")


COLUMNS = (("号码", "Number"), ("购买方", "Buyer"), ("价税合计", "Total"), ("上传状态", "Upload state"),
           ("尝试次数", "Attempts"), ("下次尝试", "Next try"), ("原因", "Why"))


class QueueView(QDialog):
    def __init__(self, runner: SyncRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.rows: list[queue.QueueRow] = []
        self.listed_waiting = 0
        self.tasks: list[BackgroundTask[None]] = []  # re-queues, kept alive while they run
        self.setObjectName("queue_view")
        self.setWindowTitle(tr("上传队列", "Upload queue"))
        self.resize(980, 480)
        layout = QVBoxLayout(self)
        self.summary = QLabel(self)
        self.summary.setObjectName("queue_summary")
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("queue_table")
        self.table.setHorizontalHeaderLabels([tr(zh, en) for zh, en in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate((110, 200, 100, 90, 70, 130)):
            self.table.setColumnWidth(column, width)
        layout.addWidget(self.table)

        buttons = QHBoxLayout()
        self.upload_now_button = QPushButton(tr("立即上传", "Upload now"), self)
        self.upload_now_button.setObjectName("upload_now")
        self.pause_button = QPushButton(self)
        self.pause_button.setObjectName("pause_resume")
        self.requeue_button = QPushButton(tr("重新上传所选（已更正）", "Send selected again (corrected)"), self)
        self.requeue_button.setObjectName("requeue")
        self.correct_button = QPushButton(tr("作废并更正重开…", "Cancel and correct…"), self)
        self.correct_button.setObjectName("correct")
        self.refresh_button = QPushButton(tr("刷新", "Refresh"), self)
        for button in (self.upload_now_button, self.pause_button, self.correct_button, self.requeue_button,
                       self.refresh_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        hint = QLabel(tr("被拒绝的发票：请先作废，再开具更正后的发票（新发票自动排队上传）；"
                         "若平台一方的问题已解决，可选中后“重新上传”。",
                         "A rejected invoice: cancel it and issue a corrected one (it is queued by itself); "
                         "if the problem was on the platform's side, select it and send it again."), self)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout.addWidget(close)

        self.upload_now_button.clicked.connect(self.upload_now)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.requeue_button.clicked.connect(self.requeue_selected)
        self.correct_button.clicked.connect(lambda: self.correct_selected())
        self.refresh_button.clicked.connect(self.reload)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        # An upload reports after every batch: the view reads the store again at most every RELOAD_PAUSE_MS.
        self.reload_soon = QTimer(self)
        self.reload_soon.setSingleShot(True)
        self.reload_soon.setInterval(RELOAD_PAUSE_MS)
        self.reload_soon.timeout.connect(self.reload)
        # Counted off the GUI thread: a range of the state index as long as the desk's history.
        self.accepted_entries: int | None = None
        self.counting: BackgroundTask[int] | None = None
        self._count_again = False
        if runner is not None:
            runner.progress.connect(lambda *_: self._reload_later())
            runner.counts_changed.connect(lambda *_: self._reload_later())
            runner.paused_changed.connect(lambda *_: self._update_pause_text())
        self.upload_now_button.setEnabled(runner is not None)
        self.pause_button.setEnabled(runner is not None)
        self._update_pause_text()
        self.reload()

    def _reload_later(self) -> None:
        if not self.reload_soon.isActive():
            self.reload_soon.start()

    def reload(self) -> None:
        """The rejected invoices that need the clerk first (a rejected one the clerk has since cancelled needs
        nothing more), then what waits, each by id, at most SHOWN_ROWS of each; the summary's counts."""
        self.reload_soon.stop()
        selected = self.selected_number()
        rejected = [r for r in queue.queue_rows([status.Q_REJECTED], limit=SHOWN_ROWS)
                    if r.invoice_status == status.REJECTED]
        waiting = queue.queue_rows(status.QUEUE_WAITING_STATES, limit=SHOWN_ROWS)
        self.listed_waiting = len(waiting)
        rows = rejected + waiting
        self.rows = rows
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            values = (row.number, row.buyer_name, format_money_grouped(row.total_with_tax), state_label(row.state),
                      str(row.attempts), (row.next_try_at or "")[:19].replace("T", " "), reasons_text(row.last_error))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column in (2, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(index, column, item)
            if row.number == selected:
                self.table.selectRow(index)
        self.waiting = queue.waiting_counts()  # ranges of the state index: what waits, never the accepted
        self._show_summary()
        self._count_accepted()
        self._selection_changed()

    def _show_summary(self) -> None:
        accepted = "…" if self.accepted_entries is None else f"{self.accepted_entries:,}"
        self.summary.setText(tr("待上传 {w} 张，被拒绝需处理 {r} 张，已接受 {a} 张",
                                "{w} waiting, {r} rejected (need attention), {a} accepted",
                                w=f"{self.waiting.waiting:,}", r=f"{self.waiting.rejected:,}", a=accepted)
                             + (tr("（列出最早的 {n} 张待上传）", " (the first {n} waiting are listed)",
                                   n=f"{self.listed_waiting:,}")
                                if self.waiting.waiting > self.listed_waiting else ""))

    def _count_accepted(self) -> None:
        """The accepted entries counted in a background task; one at a time, once more if asked meanwhile."""
        if self.counting is not None and not self.counting.ended:
            self._count_again = True
            return
        task: BackgroundTask[int] = BackgroundTask(lambda progress: queue.accepted_count(), self)
        task.on_success(self._accepted_counted)
        task.on_finished(self._counted)
        self.counting = task
        task.start()

    def _accepted_counted(self, accepted: int) -> None:
        self.accepted_entries = accepted
        self._show_summary()

    def _counted(self) -> None:
        if self._count_again:
            self._count_again = False
            self._count_accepted()

    def selected_number(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        item = self.table.item(rows[0].row(), 0) if rows else None
        return item.text() if item is not None else None

    def _selection_changed(self) -> None:
        number = self.selected_number()
        row = next((r for r in self.rows if r.number == number), None)
        self.requeue_button.setEnabled(row is not None and row.state == status.Q_REJECTED)
        self.correct_button.setEnabled(row is not None and row.state == status.Q_REJECTED)

    def _update_pause_text(self) -> None:
        paused = self.runner is not None and self.runner.paused
        self.pause_button.setText(tr("继续上传", "Resume uploads") if paused else tr("暂停上传", "Pause uploads"))

    def upload_now(self) -> None:
        if self.runner is not None:
            self.runner.upload_now()
        self.reload()

    def toggle_pause(self) -> None:
        if self.runner is not None:
            self.runner.set_paused(not self.runner.paused)
        self._update_pause_text()

    def correct_selected(self, reason: str | None = None) -> InvoiceForm | None:
        """The proper route for a rejected invoice: a form filled with it, whose 开具 cancels the
        rejected one and issues the corrected one in one transaction. Returns the open form."""
        from app.core.codec import invoice_to_body
        from app.services.seller import get_seller
        from app.store.queries import get_invoice
        from app.ui.invoice_form import InvoiceForm

        number = self.selected_number()
        invoice = get_invoice(number) if number else None
        seller = get_seller()
        if number is None or invoice is None or seller is None:
            return None
        row = next((r for r in self.rows if r.number == number), None)
        if reason is None:
            default = tr("平台拒绝：{why}", "Rejected by the platform: {why}",
                         why=reasons_text(row.last_error if row else "")[:60])
            reason, ok = QInputDialog.getText(self, tr("作废原因", "Reason to cancel"),
                                              tr("作废 {number} 的原因：", "Why {number} is cancelled:", number=number),
                                              text=default)
            if not ok or not reason.strip():
                return None
        form = InvoiceForm(seller, self)
        form.load_correction(number, invoice_to_body(invoice), reason.strip())
        form.issued.connect(lambda _number: self._corrected())
        form.open()
        return form

    def _corrected(self) -> None:
        if self.runner is not None:
            self.runner.upload_now()
        self.reload()

    def requeue_selected(self) -> BackgroundTask[None] | None:
        """Back in the queue under its own key, in a background thread (a store write); None: nothing selected."""
        number = self.selected_number()
        if not number:
            return None
        chosen = number

        def work(progress: Progress) -> None:
            queue.requeue(chosen, why="从上传队列重新上传 (sent again from the queue view)")

        task: BackgroundTask[None] = BackgroundTask(work, self)
        self.requeue_button.setEnabled(False)
        task.on_success(lambda _: self._requeued())
        task.on_failure(self._requeue_failed)
        task.on_finished(lambda: self.tasks.remove(task) if task in self.tasks else None)
        self.tasks.append(task)
        return task.start()

    def _requeued(self) -> None:
        if self.runner is not None:
            self.runner.upload_now()
        self.reload()

    def _requeue_failed(self, error: str) -> None:
        self._selection_changed()
        QMessageBox.warning(self, tr("不能重新上传", "Cannot send again"), error)

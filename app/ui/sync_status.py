"""The status bar's platform indicator: online (slow, with the health check's latency, when it is) / offline /
degraded, the last good contact (moved on by every good poll and upload, not only by a change of state), and
how many invoices wait to go up (and how many need the clerk). Click it for the queue view."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.core import clock
from app.core.errors import stored_message
from app.sync.monitor import DEGRADED, OFFLINE, ONLINE
from app.ui.i18n import language, tr

STATE_TEXT = {
    ONLINE: (lambda: tr("平台在线", "Platform online"), "#1b7f2a"),
    DEGRADED: (lambda: tr("平台不稳定", "Platform degraded"), "#b26a00"),
    OFFLINE: (lambda: tr("平台离线", "Platform offline"), "#c62828"),
}


def _moment(iso: str) -> datetime:
    return clock.in_beijing(datetime.fromisoformat(iso))


class SyncStatusWidget(QWidget):
    clicked = Signal()

    def __init__(self, runner=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sync_status")
        self.state = "unknown"
        self.last_good = ""
        self.latency: float | None = None  # of the last good health check, seconds
        self.slow = False
        self.waiting = 0
        self.rejected = 0
        self.paused = False
        self.configured = True  # False until a platform address is set: not "offline", just not set up yet
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        self.state_label = QLabel(self)
        self.state_label.setObjectName("sync_state")
        self.contact_label = QLabel(self)
        self.contact_label.setObjectName("sync_contact")
        self.queue_label = QLabel(self)
        self.queue_label.setObjectName("sync_queue")
        for label in (self.state_label, self.contact_label, self.queue_label):
            layout.addWidget(label)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(tr("点击查看上传队列", "Click for the upload queue"))
        if runner is not None:
            self.attach(runner)
        self._render()

    def attach(self, runner) -> None:
        runner.state_changed.connect(self.set_state)
        runner.contact_changed.connect(self.set_contact)
        runner.latency_changed.connect(self.set_latency)
        runner.counts_changed.connect(self.set_counts)
        runner.paused_changed.connect(self.set_paused)

    def mouseReleaseEvent(self, event) -> None:
        self.clicked.emit()
        super().mouseReleaseEvent(event)

    def set_state(self, state: str, last_good: str = "", error: str = "") -> None:
        self.state = state
        # A state change carries the contact as it was then: never older than one shown already.
        if last_good and (not self.last_good or _moment(last_good) > _moment(self.last_good)):
            self.last_good = last_good
        # The monitor keeps the last failure as stored text (both languages): shown in the chosen one.
        shown = stored_message(error, language()) if error else ""
        self.setToolTip(shown or tr("点击查看上传队列", "Click for the upload queue"))
        self._render()

    def set_contact(self, last_good: str) -> None:
        """A good contact while the state stays as it is (a poll, an upload)."""
        if last_good:
            self.last_good = last_good
            self._render()

    def set_latency(self, latency: float, slow: bool) -> None:
        self.latency, self.slow = latency, slow
        self._render()

    def set_counts(self, waiting: int, rejected: int) -> None:
        self.waiting, self.rejected = waiting, rejected
        self._render()

    def set_configured(self, configured: bool) -> None:
        self.configured = configured
        self._render()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self._render()

    def _render(self) -> None:
        name, colour = STATE_TEXT.get(self.state, (lambda: tr("正在检查平台…", "Checking platform…"), "#666666"))
        text = name()
        if self.state == ONLINE and self.slow and self.latency is not None:
            # Slow is still online (uploads go through): said beside it, with the time health took.
            text = tr("平台在线（响应慢，{s:.1f} 秒）", "Platform online (slow, {s:.1f} s)", s=self.latency)
        if not self.configured and self.state != ONLINE:
            text, colour = tr("未设置平台（工具 → 平台设置）", "No platform set (Tools → Platform settings)"), "#666666"
        self.state_label.setText(f"<span style='color:{colour}'>●</span> {text}")
        if self.last_good:
            moment = _moment(self.last_good)
            today = clock.in_beijing(moment).date() == clock.today()
            shown = f"{moment:%H:%M:%S}" if today else f"{moment:%m-%d %H:%M}"
            self.contact_label.setText(tr("最近联系 {time}", "last contact {time}", time=shown))
        else:
            self.contact_label.setText(tr("尚未联系上", "no contact yet"))
        queue_text = tr("待上传 {n} 张", "{n} to upload", n=f"{self.waiting:,}")
        if self.rejected:
            queue_text += tr("，{n} 张需处理", ", {n} need attention", n=f"{self.rejected:,}")
        if self.paused:
            queue_text += tr("（已暂停）", " (paused)")
        self.queue_label.setText(queue_text)
        box = self.layout()
        if box is not None:
            self.setMinimumWidth(box.sizeHint().width())  # the status bar must not clip it

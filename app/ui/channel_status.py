"""The channel and stock of protocol v2 on the desk: the status-bar indicator, the stock view (号码与额度)
with its refill button, the channel setting, and 重新开具 on an invoice too late to upload.

Every figure and warning comes from app.services.desk_status (a read model); this module only shows
them. The refill (app.services.stock.top_up) runs off the GUI thread (app/ui/tasks.BackgroundTask).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import escape
from typing import TYPE_CHECKING

import peewee
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core import clock
from app.core import status as invoice_status
from app.core.errors import ValidationFailed
from app.core.money import format_money_grouped
from app.services.channel import DIRECT, PLATFORM, get_channel, set_channel
from app.services.desk_status import DeskStatus, desk_status, reissued_as
from app.services.seller import get_seller
from app.services.settings import make_client
from app.store import queries
from app.ui.i18n import language, tr
from app.ui.tasks import BackgroundTask, Progress

if TYPE_CHECKING:  # the stock service (and the platform client behind it) loads for a refill
    from app.services import stock
    from app.ui.invoice_detail import InvoiceDetail
    from app.ui.main_window import MainWindow

REFRESH_MS = 30_000
WARN_STYLE = "color: #8a5a00; font-weight: bold;"
BLOCK_STYLE = "color: #b00020; font-weight: bold;"
ERROR_STYLE = "color: #b00020;"

CHANNEL_NAMES = {DIRECT: ("直连", "direct"), PLATFORM: ("平台开具", "platform")}
MONTH_STATES = {"confirmed": ("已确认", "confirmed"), "mismatch": ("与平台不符", "differs from the platform"),
                "withdrawn": ("已撤回，待重新确认", "withdrawn, to confirm again"),
                "closed": ("已结账", "closed"), "open": ("未确认", "not confirmed")}


def channel_name(channel: str) -> str:
    names = CHANNEL_NAMES.get(channel)
    return (names[0] if language() == "zh" else names[1]) if names else channel


def month_state_name(state: str) -> str:
    names = MONTH_STATES.get(state)
    return (names[0] if language() == "zh" else names[1]) if names else state


def _clerk() -> str:
    seller = get_seller()
    return seller.drawer if seller is not None else ""


def _minute(moment: datetime) -> str:
    return clock.in_beijing(moment).strftime("%Y-%m-%d %H:%M")


def _last_day(until: datetime) -> date:
    """The last day a moment-of-end (00:00 of the next day) still covers."""
    return (clock.in_beijing(until) - timedelta(seconds=1)).date()


def hours_text(hours: float) -> str:
    if hours <= 0:
        return tr("已超期", "past due")
    return tr("剩 {h} 小时", "{h} h left", h=f"{hours:.1f}")


# --- the status bar -----------------------------------------------------------------------------

def indicator_text(now: DeskStatus) -> str:
    """One line for the status bar: the direct channel's stock and deadlines, or the platform channel's
    pre-issue records."""
    if not now.direct:
        if now.pre_issue:
            text = tr("平台开具：{n} 张预开单待平台开具", "Platform: {n} pre-issue records to be issued",
                      n=f"{now.pre_issue:,}")
        else:
            text = tr("平台开具：无待开具的预开单", "Platform: no pre-issue record waiting")
    else:
        parts = [tr("直连：号码 {n}", "Direct: numbers {n}", n=f"{now.numbers_left:,}"),
                 tr("额度 ¥{q}", "quota ¥{q}", q=format_money_grouped(now.quota_left))]
        if now.oldest_waiting is not None:  # the oldest waiting invoice's 48 hours
            parts.append(tr("上传{h}", "upload {h}", h=hours_text(now.oldest_waiting.hours_left)))
        parts.append(tr("上月 {date} 结账", "last month closes {date}",
                        date=clock.in_beijing(now.month.closes_at).strftime("%m-%d")))
        text = " · ".join(parts)
    if now.oldest_waiting is not None and not now.direct:
        text += tr(" · 直连发票上传{h}", " · direct invoice upload {h}", h=hours_text(now.oldest_waiting.hours_left))
    if now.too_late:
        text += tr(" · 超期未上传 {n} 张", " · {n} too late", n=now.too_late)
    return text


def is_blocking(now: DeskStatus) -> bool:
    """Red: something can no longer be issued or uploaded (no number, no quota, a deadline passed)."""
    if now.too_late or (now.oldest_waiting is not None and now.oldest_waiting.hours_left <= 0):
        return True
    return now.direct and (now.numbers_left <= 0 or now.quota_left <= 0)


class ChannelIndicator(QLabel):
    """The channel and its stock, beside the offline-limits indicator; click it for the stock view."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("channel_status")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def refresh(self, at: datetime | None = None) -> DeskStatus | None:
        try:
            now = desk_status(at)
        except peewee.DatabaseError:
            # A damaged store file (the whole-file check says so and offers the restore): no figures to show.
            self.setText(tr("号码与额度：无法读取", "Numbers and quota: cannot be read"))
            self.setStyleSheet(BLOCK_STYLE)
            return None
        self.status = now
        self.setText(indicator_text(now))
        tips = [w.message(language()) for w in now.warnings]
        tips.append(tr("点击查看号码与额度", "Click for numbers and quota"))
        self.setToolTip("\n".join(tips))
        self.setStyleSheet(BLOCK_STYLE if is_blocking(now) else WARN_STYLE if now.warnings else "")
        return now

    def mouseReleaseEvent(self, event) -> None:
        self.clicked.emit()
        super().mouseReleaseEvent(event)


# --- the stock view -----------------------------------------------------------------------------

def top_up_summary(result: stock.TopUpResult) -> str:
    """What the refill did, in the clerk's words."""
    if not result.done:
        return tr("当前为平台开具渠道，无需补领号码和额度。", "The platform channel draws no numbers or quota.")
    lines = []
    for block in result.drawn:
        lines.append(tr("已领取号码段 {first}…{last}（{n} 个）", "Drew numbers {first}…{last} ({n})",
                        first=block.first, last=block.last, n=block.count))
    for piece in result.downloaded:
        lines.append(tr("已下载额度 ¥{amount}（有效期至 {to}）", "Downloaded quota ¥{amount} (valid to {to})",
                        amount=format_money_grouped(piece.amount), to=piece.valid_to.isoformat()))
    for old in result.retired:
        lines.append(tr("{year} 年号码段已停用，未用 {lost} 个作废", "Numbers of {year} retired, {lost} unused lost",
                        year=old.year, lost=old.lost))
    for refusal in result.refused:
        what = tr("号码", "numbers") if refusal.what == "numbers" else tr("额度", "quota")
        lines.append(tr("平台拒绝了{what}请求：{reason}", "The platform refused the {what} request: {reason}",
                        what=what, reason=refusal.reason))
    if result.waiting:
        lines.append(tr("{n} 个请求尚无应答，下次补领时以同一请求号再问", "{n} requests still unanswered: asked again "
                        "next time under the same request id", n=len(result.waiting)))
    if result.error:
        lines.append(result.error)
    if not lines:
        lines.append(tr("号码和额度充足，无需补领。", "Numbers and quota are above their floors: nothing drawn."))
    return "\n".join(lines)


class StockDialog(QDialog):
    """号码与额度: the figures of desk_status, and 立即补领 (top_up off the GUI thread)."""

    changed = Signal()  # after a refill: the status bar should refresh

    def __init__(self, parent: QWidget | None = None, at: datetime | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stock_view")
        self.setWindowTitle(tr("号码与额度", "Numbers and quota"))
        self.setMinimumWidth(560)
        self.at = at
        self.task: BackgroundTask[stock.TopUpResult] | None = None
        layout = QVBoxLayout(self)
        self.values: dict[str, QLabel] = {}

        def group(title: str, rows: tuple[tuple[str, str], ...]) -> QGroupBox:
            box = QGroupBox(title, self)
            form = QFormLayout(box)
            for key, label in rows:
                value = QLabel(box)
                value.setObjectName(f"stock_{key}")
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.values[key] = value
                form.addRow(label, value)
            layout.addWidget(box)
            return box

        group(tr("开票渠道", "Channel"), (("channel", tr("渠道", "Channel")),))
        self.numbers_box = group(tr("发票号码", "Invoice numbers"), (
            ("numbers_left", tr("本年剩余", "Left this year")),
            ("numbers_until", tr("有效至", "Usable until")),
            ("next_number", tr("下一个号码", "Next number"))))
        self.quota_box = group(tr("发票额度", "Invoicing quota"), (
            ("quota_left", tr("剩余额度", "Quota left")),
            ("quota_held", tr("已下载", "Downloaded")),
            ("quota_drawn", tr("已使用", "Drawn by invoices")),
            ("quota_valid_to", tr("有效期至", "Valid until")),
            ("requests_waiting", tr("待应答请求", "Requests unanswered"))))
        group(tr("上传期限", "Upload deadlines"), (
            ("oldest", tr("最早待上传", "Oldest waiting")),
            ("deadline", tr("上传期限", "Upload by")),
            ("too_late", tr("超期未上传", "Too late to upload")),
            ("pre_issue", tr("待平台开具的预开单", "Pre-issue records waiting"))))
        group(tr("月度汇总", "Monthly summary"), (
            ("month", tr("上月汇总", "Last month")),
            ("month_close", tr("结账时间", "Closes at"))))
        self.warnings = QLabel(self)
        self.warnings.setObjectName("stock_warnings")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(WARN_STYLE)
        layout.addWidget(self.warnings)
        self.outcome = QLabel(self)
        self.outcome.setObjectName("stock_outcome")
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.outcome)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.refill_button = QPushButton(tr("立即补领", "Refill now"), self)
        self.refill_button.setObjectName("stock_refill")
        self.refill_button.clicked.connect(self.refill)
        self.refresh_button = QPushButton(tr("刷新"), self)
        self.refresh_button.setObjectName("stock_refresh")
        self.refresh_button.clicked.connect(lambda: self.refresh())
        self.buttons.addButton(self.refill_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.refresh()

    def text(self, key: str) -> str:
        return self.values[key].text()

    def refresh(self, at: datetime | None = None) -> DeskStatus:
        now = desk_status(at or self.at)
        self.status = now
        v = self.values
        v["channel"].setText(channel_name(now.channel))
        self.numbers_box.setEnabled(now.direct)
        self.quota_box.setEnabled(now.direct)
        self.refill_button.setEnabled(now.direct and (self.task is None or self.task.ended))
        v["numbers_left"].setText(tr("{n} 个（{year} 年）", "{n} ({year})", n=f"{now.numbers_left:,}", year=now.year))
        v["numbers_until"].setText(tr("{day}（年末未用的号码作废）", "{day} (unused numbers are lost then)",
                                      day=_last_day(now.numbers_until).isoformat()))
        v["next_number"].setText(now.next_number or "—")
        v["quota_left"].setText(tr("¥{q}（{period}）", "¥{q} ({period})", q=format_money_grouped(now.quota_left),
                                   period=now.period))
        v["quota_held"].setText(f"¥{format_money_grouped(now.quota_held)}")
        v["quota_drawn"].setText(f"¥{format_money_grouped(now.quota_drawn)}")
        v["quota_valid_to"].setText(now.quota_valid_to.isoformat() if now.quota_valid_to else "—")
        v["requests_waiting"].setText(str(now.requests_waiting))
        oldest = now.oldest_waiting
        if oldest is None:
            v["oldest"].setText(tr("无待上传发票", "nothing waiting"))
            v["deadline"].setText("—")
            v["deadline"].setStyleSheet("")
        else:
            v["oldest"].setText(tr("{number}（{at} 开具）", "{number} (issued {at})", number=oldest.number,
                                   at=_minute(oldest.issued_at)))
            v["deadline"].setText(f"{_minute(oldest.deadline)}（{hours_text(oldest.hours_left)}）" if language() == "zh"
                                  else f"{_minute(oldest.deadline)} ({hours_text(oldest.hours_left)})")
            v["deadline"].setStyleSheet(BLOCK_STYLE if oldest.hours_left <= 0 else
                                        WARN_STYLE if now.warning("upload_deadline") else "")
        v["too_late"].setText(tr("{n} 张（须重新开具）", "{n} (issue them again)", n=now.too_late) if now.too_late
                              else tr("无", "none"))
        v["too_late"].setStyleSheet(BLOCK_STYLE if now.too_late else "")
        v["pre_issue"].setText(tr("{n} 张（非发票）", "{n} (not invoices)", n=f"{now.pre_issue:,}"))
        waiting = tr("，{n} 张待上传", ", {n} waiting", n=now.month.waiting) if now.month.waiting else ""
        v["month"].setText(f"{now.month.period} {month_state_name(now.month.state)}{waiting}")
        v["month_close"].setText(_minute(now.month.closes_at))
        self.warnings.setText("\n".join("⚠ " + w.message(language()) for w in now.warnings))
        return now

    def refill(self) -> BackgroundTask[stock.TopUpResult] | None:
        """立即补领: stock.top_up against the platform of the settings, in its own thread."""
        if self.task is not None and not self.task.ended:
            return self.task
        clerk = _clerk()

        def work(progress: Progress) -> stock.TopUpResult:
            from app.services import stock

            client = make_client()
            try:
                return stock.top_up(client, clerk=clerk)
            finally:
                client.close()

        task: BackgroundTask[stock.TopUpResult] = BackgroundTask(work, self)
        task.on_success(self._refilled)
        task.on_failure(self._refill_failed)
        task.on_finished(self._refill_ended)
        self.task = task
        self.refill_button.setEnabled(False)
        self.outcome.setStyleSheet("")
        self.outcome.setText(tr("正在向平台补领…", "Asking the platform…"))
        return task.start()

    def _refilled(self, result: stock.TopUpResult) -> None:
        self.outcome.setStyleSheet("" if result.complete or not result.done else ERROR_STYLE)
        self.outcome.setText(top_up_summary(result))

    def _refill_failed(self, message: str) -> None:
        self.outcome.setStyleSheet(ERROR_STYLE)
        self.outcome.setText(tr("补领失败：{error}", "Refill failed: {error}", error=message))

    def _refill_ended(self) -> None:
        self.refresh()
        self.changed.emit()


# --- the channel setting ------------------------------------------------------------------------

class ChannelChoice(QComboBox):
    """直连 / 平台开具, for the seller dialog and the channel dialog."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("channel_choice")
        for channel in (PLATFORM, DIRECT):
            self.addItem(channel_name(channel), channel)
        self.set_channel(get_channel())

    def set_channel(self, channel: str) -> None:
        index = self.findData(channel)
        self.setCurrentIndex(max(index, 0))

    def channel(self) -> str:
        return str(self.currentData())


CHANNEL_HELP = ("直连：本机用自己领取的号码和额度开具发票，须在 48 小时内上传。\n"
                "平台开具：离线时只记录预开单（不是发票），联网后由平台开具发票。",
                "Direct: the desk issues invoices from its own numbers and quota; each must be uploaded within "
                "48 hours.\nPlatform: offline the desk records pre-issue records only (not invoices); the platform "
                "issues them once online.")


def save_channel(choice: ChannelChoice, clerk: str = "") -> str | None:
    """set_channel when the choice differs from the setting; the error message when it is refused."""
    chosen = choice.channel()
    if chosen == get_channel():
        return None
    try:
        set_channel(chosen, clerk=clerk)
    except ValidationFailed as failed:
        return failed.describe(language())
    return None


class ChannelDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("开票渠道", "Issuing channel"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.choice = ChannelChoice(self)
        form.addRow(tr("开票渠道", "Issuing channel"), self.choice)
        layout.addLayout(form)
        help_text = QLabel(CHANNEL_HELP[0] if language() == "zh" else CHANNEL_HELP[1], self)
        help_text.setWordWrap(True)
        layout.addWidget(help_text)
        self.error = QLabel(self)
        self.error.setObjectName("channel_error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout.addWidget(buttons)

    def save(self) -> bool:
        error = save_channel(self.choice, _clerk())
        if error:
            self.error.setText(error)
            return False
        self.accept()
        return True


# --- the main window's hooks ----------------------------------------------------------------------

class ChannelActions:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.dialogs: list[QWidget] = []
        self.indicator = ChannelIndicator(window)
        self.indicator.clicked.connect(self.show_stock)
        window.add_status_widget(self.indicator)
        self._warned: set[str] = set()
        self.last_notice = ""
        self.indicator.timer.timeout.connect(self._notice_new_warnings)
        window.list_model.modelReset.connect(self.refresh)  # issued, uploaded, imported, reissued

        self.stock_action = QAction(tr("号码与额度…", "Numbers and quota…"), window)
        self.stock_action.setObjectName("stock_action")
        self.stock_action.triggered.connect(self.show_stock)
        self.channel_action = QAction(tr("开票渠道…", "Issuing channel…"), window)
        self.channel_action.setObjectName("channel_action")
        self.channel_action.triggered.connect(self.edit_channel)
        window.tools_menu.addAction(self.stock_action)
        window.tools_menu.addAction(self.channel_action)
        self._notice_new_warnings()

    def refresh(self, at: datetime | None = None) -> DeskStatus | None:
        now = self.indicator.refresh(at)
        if now is not None:
            self._notice_new_warnings()
        return now

    def _notice_new_warnings(self) -> None:
        """A status-bar message once per warning as it appears; said again only after it went away."""
        now = self.indicator.status
        fields = {w.field for w in now.warnings}
        for warning in now.warnings:
            if warning.field not in self._warned:
                self.last_notice = warning.message(language())
                self.window.statusBar().showMessage(self.last_notice, 30000)
        self._warned = fields

    def _keep(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialogs.append(dialog)
        dialog.destroyed.connect(lambda _=None, d=dialog: self.dialogs.remove(d) if d in self.dialogs else None)
        dialog.show()

    def show_stock(self) -> StockDialog:
        dialog = StockDialog(self.window)
        dialog.changed.connect(lambda: self.refresh())
        self._keep(dialog)
        return dialog

    def edit_channel(self) -> ChannelDialog:
        dialog = ChannelDialog(self.window)
        dialog.accepted.connect(self.window.refresh)
        self._keep(dialog)
        return dialog

    # --- the detail view ---------------------------------------------------------------------------

    def add_detail_buttons(self, detail: InvoiceDetail) -> None:
        """重新开具 on an invoice too late to upload; which invoice replaced it, or which one it replaces."""
        row = queries.find_row(detail.number)
        if row is not None and row.reissue_of:
            note = tr("重新开具，替代超期未上传的 {old}", "Issued again for {old}, which was too late to upload",
                      old=row.reissue_of)
            detail.view.append(f"<p><b>{escape(note)}</b></p>")
        if detail.row.status != invoice_status.UPLOAD_TOO_LATE:
            return
        button = QPushButton(tr("重新开具", "Issue again"), detail)
        button.setObjectName("detail_reissue")
        button.clicked.connect(lambda: self.reissue(detail))
        detail.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        replacement = reissued_as(detail.row.id)
        if replacement:
            button.setEnabled(False)
            note = tr("已重新开具为 {new}", "Issued again as {new}", new=replacement)
            detail.view.append(f"<p style='color:#b00020'><b>{escape(note)}</b></p>")

    def reissue(self, detail: InvoiceDetail) -> str | None:
        """The replacement's number, or None when the service refused (the reason is shown in the detail)."""
        from app.services.reissue import reissue

        try:
            issued = reissue(detail.number, clerk=_clerk())
        except ValidationFailed as failed:
            detail.show_error(failed.describe(language()))
            return None
        detail.close()
        self.window.refresh()
        self.window.select_number(issued.number)
        self.window.statusBar().showMessage(tr("已重新开具 {new}（替代超期未上传的 {old}）",
                                               "Issued {new} again (replaces {old}, too late to upload)",
                                               new=issued.number, old=detail.number), 15000)
        self.window.sync_actions.invoice_issued()
        return issued.number


def install(window: MainWindow) -> ChannelActions:
    actions = ChannelActions(window)
    window.channel_actions = actions
    return actions

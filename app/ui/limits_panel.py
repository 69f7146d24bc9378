"""What remains before the offline limits (status bar), the limits dialog, and the overdue mark.

The figures come from app.services.limits; this module only shows them. While invoices are held
(issued, not yet accepted) the indicator shows the hours, invoices and amount left; at 80 %
of a limit it turns amber with a warning, past one red (the issue service then refuses).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.core import status
from app.core.errors import ValidationFailed, field_label
from app.core.limits import OfflineLimits, limits_to_settings, validate_limits
from app.core.money import format_money_grouped
from app.services import limits as store_limits
from app.ui.i18n import language, tr

REFRESH_MS = 30_000
WARN_STYLE = "color: #8a5a00; font-weight: bold;"
BLOCK_STYLE = "color: #b00020; font-weight: bold;"
OVERDUE_COLOR = QColor("#b00020")


class LimitsIndicator(QLabel):
    """离线余量 in the status bar; says so when nothing is held."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("offline_limits")
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def refresh(self) -> None:
        left = store_limits.current_remaining()
        self.remaining = left
        if left.hours is None:
            self.setText(tr("无待上传发票", "nothing held offline"))
            self.setStyleSheet("")
            self.setToolTip("")
            return
        figures = tr("{hours} 小时 · {count} 张 · ¥{amount}", "{hours} h · {count} · ¥{amount}",
                     hours=max(left.hours, 0), count=f"{left.count:,}", amount=format_money_grouped(left.amount))
        problems = left.exceeded or left.warnings
        tip = [p.message(language()) for p in problems]
        if left.exceeded:  # which limit, in the status bar (it is crowded at 1366 px); what is left, in the tip
            lang = language()
            reached = ("、" if lang == "zh" else "; ").join(dict.fromkeys(field_label(p.field, lang)
                                                                          for p in left.exceeded))
            self.setText(tr("已达{which}，暂停开票", "Offline limit reached ({which}): issuing stopped", which=reached))
            tip.insert(0, tr("剩余：", "Left: ") + figures)
        else:
            self.setText(tr("离线余量：", "Offline left: ") + figures)
        self.setToolTip("\n".join(tip))
        self.setStyleSheet(BLOCK_STYLE if left.exceeded else WARN_STYLE if left.warnings else "")


class LimitsDialog(QDialog):
    """The four limits, checked by the core's rules when saved."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("离线开票限额", "Offline limits"))
        current = limits_to_settings(store_limits.get_limits())
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        for key, zh, en in (("max_hours", "离线开票时限（小时）", "Longest offline time (hours)"),
                            ("max_count", "离线发票张数上限", "Most invoices not uploaded"),
                            ("max_amount", "离线累计金额上限（不含税）",
                             "Largest cumulative offline amount (excl. tax)"),
                            ("max_single", "单张发票开票限额（不含税）", "Largest single invoice (excl. tax)")):
            edit = QLineEdit(str(current[key]), self)
            edit.setObjectName(key)
            self.fields[key] = edit
            form.addRow(tr(zh, en), edit)
        layout.addLayout(form)
        self.error = QLabel(self)
        self.error.setObjectName("limits_error")
        self.error.setStyleSheet("color: #b00020;")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def save(self) -> bool:
        limits, errors = validate_limits(**{k: e.text() for k, e in self.fields.items()})
        if errors or limits is None:
            self.error.setText(ValidationFailed(errors).describe(language()))
            return False
        store_limits.set_limits(limits)
        self.accept()
        return True


class OverdueMarks:
    """For the invoice list: which held invoices are past their upload deadline.

    The limits are read at most every few seconds, not once per painted cell.
    """

    TTL_SECONDS = 5.0

    def __init__(self) -> None:
        self._limits: OfflineLimits | None = None
        self._read_at = 0.0

    def _current(self) -> OfflineLimits:
        if self._limits is None or time.monotonic() - self._read_at > self.TTL_SECONDS:
            self._limits = store_limits.get_limits()
            self._read_at = time.monotonic()
        return self._limits

    def overdue(self, row_status: str, issued_at: str) -> bool:
        return row_status in status.WAITING_STATUSES and store_limits.is_overdue(row_status, issued_at,
                                                                                limits=self._current())

    def deadline_text(self, row_status: str, issued_at: str) -> str:
        if row_status not in status.WAITING_STATUSES:
            return ""
        deadline = store_limits.upload_deadline(issued_at, self._current()).strftime("%Y-%m-%d %H:%M")
        if self.overdue(row_status, issued_at):
            return tr("已逾期（上传期限 {deadline}）", "overdue (upload by {deadline})", deadline=deadline)
        return tr("上传期限 {deadline}", "upload by {deadline}", deadline=deadline)

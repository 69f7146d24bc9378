"""What the clerk sees when something goes wrong, and where a maintainer finds it afterwards.

- Qt's own messages (warnings about a widget, a failed font) go to the log as logger "qt":
  install_qt_message_handler(), called by run_desktop.
- An exception nobody caught (GUI thread or any other) is logged by app.base.logs, which then
  calls the listeners: ErrorReporter is one, and shows a non-blocking dialog on the GUI thread
  that says something went wrong and where the log file is. The listener may be called from any
  thread, so it only emits a signal, queued to the GUI thread.
- A DeskError while opening the store (a newer schema, a failed backup before a migration) is
  shown once in a message box, Chinese first, English beside: show_desk_error().
- 帮助 → 关于: AboutDialog, the version, the data folder and the log file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QMessageLogContext,
    QObject,
    Qt,
    QtMsgType,
    Signal,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QMessageBox, QVBoxLayout, QWidget

from app import __version__
from app.base import logs
from app.core.errors import DeskError
from app.ui.i18n import language, tr

qt_log = logging.getLogger("qt")

QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def qt_message_handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's qDebug/qWarning/qCritical/qFatal as log records of logger "qt" (with the category, if any)."""
    category = context.category if context is not None and context.category not in (None, "default") else ""
    qt_log.log(QT_LEVELS.get(kind, logging.WARNING), "%s%s", f"[{category}] " if category else "", message)


QtMessageHandler = Callable[[QtMsgType, QMessageLogContext, str], object]


def install_qt_message_handler() -> QtMessageHandler | None:
    """Route Qt's messages to the log; returns the handler it replaced (None: Qt's own, to stderr)."""
    previous: QtMessageHandler | None = qInstallMessageHandler(qt_message_handler)
    return previous


def restore_qt_message_handler(previous: QtMessageHandler | None) -> None:
    qInstallMessageHandler(previous)


def _log_file_text(log_file: Path | None) -> str:
    return str(log_file) if log_file is not None else tr("（未写入日志文件）", "(no log file)")


class ErrorReporter(QObject):
    """Shows uncaught exceptions in a non-modal dialog on the GUI thread, naming the log file.

    Create it on the GUI thread, then install(); run_desktop does, and uninstalls it when the app
    ends (tests that want it install their own). One dialog at a time: more failures while it
    shows are counted in it, not stacked as windows."""

    # summary, log file ("" when none)
    _reported = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._parent_widget = parent
        self.dialog: QMessageBox | None = None
        self.reports: list[str] = []
        self._more = 0
        # Queued: the listener runs in whatever thread failed; the dialog is built on this object's (GUI) thread.
        self._reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> ErrorReporter:
        logs.add_exception_listener(self.listen)
        return self

    def uninstall(self) -> None:
        logs.remove_exception_listener(self.listen)

    def listen(self, summary: str, log_file: Path | None) -> None:
        """The app.base.logs listener: any thread; only hands the news to the GUI thread."""
        self._reported.emit(summary, str(log_file) if log_file is not None else "")

    def _show(self, summary: str, log_file: str) -> None:
        self.reports.append(summary)
        if self.dialog is not None and self.dialog.isVisible():
            self._more += 1
            self.dialog.setInformativeText(self._details(summary, log_file))
            return
        self._more = 0
        if self.dialog is not None:
            self.dialog.deleteLater()  # the one the clerk closed
        box = QMessageBox(QMessageBox.Icon.Critical, tr("出错了", "Something went wrong"),
                          tr("开票台遇到一个意外错误。已开具的发票不受影响；请把日志文件交给技术支持。",
                             "The desk met an unexpected error. Invoices already issued are not affected; "
                             "send the log file to technical support."),
                          QMessageBox.StandardButton.Ok, self._parent_widget)
        box.setObjectName("error_report")
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setInformativeText(self._details(summary, log_file))
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dialog = box
        box.show()  # not exec(): the clerk can go on, or save work and restart

    def _details(self, summary: str, log_file: str) -> str:
        text = tr("错误：{summary}\n日志文件：{log}", "Error: {summary}\nLog file: {log}", summary=summary,
                  log=_log_file_text(Path(log_file)) if log_file else _log_file_text(None))
        if self._more:
            text += tr("\n（之后又发生 {n} 次）", "\n({n} more since)", n=self._more)
        return text


def desk_error_box(error: DeskError, parent: QWidget | None = None) -> QMessageBox:
    """The box for a DeskError the app cannot go on after (e.g. opening the store): both languages."""
    box = QMessageBox(QMessageBox.Icon.Critical, tr("无法启动开票台", "Fapiao Desk cannot start"),
                      error.describe(language()), QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("desk_error")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    log_file = logs.log_path()
    if log_file is not None:
        box.setInformativeText(tr("日志文件：{log}", "Log file: {log}", log=log_file))
    return box


def show_desk_error(error: DeskError, parent: QWidget | None = None) -> int:
    """Say it (modal: the app stops after it) and give the exit code."""
    desk_error_box(error, parent).exec()
    return error.exit_code


class AboutDialog(QDialog):
    """帮助 → 关于: what a maintainer asks first: which version, where the data and the log are."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("about_dialog")
        self.setWindowTitle(tr("关于", "About"))
        layout = QVBoxLayout(self)
        title = QLabel(f"<h3>{tr('发票离线开票台', 'Fapiao Desk')}</h3>", self)
        layout.addWidget(title)
        form = QFormLayout()
        self.version_label = self._value(__version__, "about_version")
        self.data_dir_label = self._value(str(data_dir), "about_data_dir")
        self.log_file_label = self._value(_log_file_text(logs.log_path()), "about_log_file")
        form.addRow(tr("版本", "Version"), self.version_label)
        form.addRow(tr("数据目录", "Data folder"), self.data_dir_label)
        form.addRow(tr("日志文件", "Log file"), self.log_file_label)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        if close is not None:
            close.setText(tr("关闭", "Close"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _value(self, text: str, name: str) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName(name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # paths to copy
        return label

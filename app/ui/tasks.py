"""Work that runs off the GUI thread: one class, BackgroundTask, for every slow job of the UI
(printing, backup and restore, reconciliation, the start-up checks, the outage export, the upload
queue's store writes).

A task is a function work(progress) -> T run in a QThread; progress(done, total) reports and returns
False once cancel() was called (the work then raises TaskCancelled, or just returns). The callbacks
(on_success, on_failure, on_cancel, on_finished, on_progress) run on the GUI thread. Every store
access of a task happens in its thread (peewee keeps one SQLite connection per thread), and that
connection is closed when the task ends.

    task: BackgroundTask[Path] = BackgroundTask(lambda progress: write_report(path), parent)
    task.on_success(lambda written: label.setText(str(written)))
    task.start()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtCore import QObject, Qt, QThread, QTimer
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.core.errors import DeskError
from app.store.models import database
from app.ui.i18n import language, tr

T = TypeVar("T")
Progress = Callable[[int, int], bool]  # (done, total) -> go on?
Work = Callable[[Progress], T]

log = logging.getLogger(__name__)


class TaskCancelled(Exception):
    """Raised by a work function that saw progress() return False."""


def failure_message(error: BaseException) -> str:
    """What the clerk reads when a task fails: a DeskError in the desk's language, else the error's text."""
    if isinstance(error, DeskError):
        return error.describe(language())
    return str(error) or type(error).__name__


class _WorkThread(QThread, Generic[T]):
    """Runs the work; leaves its outcome in attributes (no Python signal is emitted: see BackgroundTask)."""

    def __init__(self, work: Work[T], stop: threading.Event) -> None:
        super().__init__()
        self._work = work
        self._stop = stop
        self.progress: tuple[int, int] | None = None
        self.returned: tuple[T] | None = None  # (the work's value,) once it returned
        self.exception: BaseException | None = None
        self.cancelled = False

    def run(self) -> None:
        def progress(done: int, total: int) -> bool:
            self.progress = (done, total)
            return not self._stop.is_set()

        try:
            self.returned = (self._work(progress),)
        except TaskCancelled:
            self.cancelled = True
        except DeskError as error:  # the clerk is told; the service left nothing half-done
            log.warning("background task failed: %s", error)
            self.exception = error
        except Exception as error:  # a defect or an unforeseen fault: shown to the clerk, the traceback logged
            log.error("background task failed", exc_info=True)
            self.exception = error
        finally:
            if database.obj is not None and not database.is_closed():
                database.close()  # this thread's connection


class BackgroundTask(QObject, Generic[T]):
    """One work function in its own QThread; callbacks run on the GUI thread.

    Progress is polled by a timer and the end comes from QThread.finished, both C++ signals:
    PySide6 6.12.0 drops a reference to Python's True on every Signal.emit() made from Python,
    and on Python 3.11 enough emits crash the interpreter, so a busy task must not emit.

    After the end: value (the work's result, None unless it succeeded), error (the message shown,
    "" unless it failed), exception (what was raised), was_cancelled, and ended is True.
    """

    POLL_MS = 50

    def __init__(self, work: Work[T], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stop = threading.Event()
        self._thread: _WorkThread[T] = _WorkThread(work, self._stop)
        self._thread.finished.connect(self._finish)
        self._timer = QTimer(self)
        self._timer.setInterval(self.POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._last_progress: tuple[int, int] | None = None
        self._progress_callbacks: list[Callable[[int, int], object]] = []
        self._success_callbacks: list[Callable[[T], object]] = []
        self._failure_callbacks: list[Callable[[str], object]] = []
        self._cancel_callbacks: list[Callable[[], object]] = []
        self._finished_callbacks: list[Callable[[], object]] = []
        self.value: T | None = None
        self.error = ""
        self.exception: BaseException | None = None
        self.was_cancelled = False
        self.running = False
        self.ended = False

    # Callbacks, called on the GUI thread.
    def on_progress(self, callback: Callable[[int, int], object]) -> None:
        self._progress_callbacks.append(callback)

    def on_success(self, callback: Callable[[T], object]) -> None:
        self._success_callbacks.append(callback)

    def on_failure(self, callback: Callable[[str], object]) -> None:
        self._failure_callbacks.append(callback)

    def on_cancel(self, callback: Callable[[], object]) -> None:
        self._cancel_callbacks.append(callback)

    def on_finished(self, callback: Callable[[], object]) -> None:
        """After the success, failure or cancel callbacks."""
        self._finished_callbacks.append(callback)

    def start(self) -> BackgroundTask[T]:
        self.running = True
        self._timer.start()
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._stop.set()

    def wait(self, ms: int = 30000) -> bool:
        """Block until the thread ended (the callbacks still run later, from the event loop)."""
        return self._thread.wait(ms)

    def _poll(self) -> None:
        progress = self._thread.progress
        if progress is not None and progress != self._last_progress:
            self._last_progress = progress
            for callback in list(self._progress_callbacks):
                callback(*progress)

    def _finish(self) -> None:
        self._timer.stop()
        self._poll()
        self.running = False
        thread = self._thread
        self.was_cancelled = thread.cancelled
        self.exception = thread.exception
        self.error = failure_message(thread.exception) if thread.exception is not None else ""
        self.ended = True
        if self.was_cancelled:
            for cancelled in list(self._cancel_callbacks):
                cancelled()
        elif thread.returned is not None:
            (value,) = thread.returned
            self.value = value
            for succeeded in list(self._success_callbacks):
                succeeded(value)
        else:
            for failed in list(self._failure_callbacks):
                failed(self.error)
        for callback in list(self._finished_callbacks):
            callback()


def with_progress_dialog(task: BackgroundTask[T], parent: QWidget | None, label: str, title: str,
                         object_name: str = "task_progress") -> QProgressDialog:
    """A window-modal progress dialog whose cancel button stops the task; it closes when the task ends."""
    dialog = QProgressDialog(label, tr("取消"), 0, 0, parent)
    dialog.setObjectName(object_name)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)

    def progressed(done: int, total: int) -> None:
        dialog.setMaximum(max(total, 1))
        dialog.setValue(min(done, total))

    def close() -> None:
        dialog.close()
        dialog.deleteLater()

    task.on_progress(progressed)
    dialog.canceled.connect(task.cancel)
    task.on_finished(close)
    return dialog

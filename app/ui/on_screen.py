"""Work that waits until the main window is on screen.

The checks and loops that start with the desk (the whole-file check, the history check, the platform
monitor and the upload worker) run in threads, but on a PC with two cores their Python still takes turns
with the GUI thread's, and the monitor's first call loads the credential store's modules (about half a
second of CPU). Started before the window's first paint, they delay it; started right after it, the window
shows as soon as it can and they begin a few milliseconds later.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

LONGEST_WAIT_MS = 2000  # a window that never gets exposed (minimised at start, an odd platform): start anyway


class WhenOnScreen(QObject):
    """Calls `then` once, from the event loop, after the window's first expose has been handled (painted);
    or after LONGEST_WAIT_MS if no expose comes. `started` says whether it ran; cancel() stops a pending one."""

    def __init__(self, window: QWidget, then: Callable[[], None]) -> None:
        super().__init__(window)
        self._then: Callable[[], None] | None = then
        self.started = False
        self._handle = window.windowHandle()
        self._fallback = QTimer(self)
        self._fallback.setSingleShot(True)
        self._fallback.timeout.connect(self._start)
        self._fallback.start(LONGEST_WAIT_MS)
        if self._handle is not None and self._handle.isExposed():
            QTimer.singleShot(0, self._start)
        elif self._handle is not None:
            self._handle.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._handle and event.type() == QEvent.Type.Expose and self._handle.isExposed():
            self._handle.removeEventFilter(self)
            QTimer.singleShot(0, self._start)  # queued: the expose (the paint) is handled first
        return False

    def _start(self) -> None:
        self._fallback.stop()
        then, self._then = self._then, None
        if then is None:
            return
        self.started = True
        then()

    def cancel(self) -> None:
        self._fallback.stop()
        self._then = None

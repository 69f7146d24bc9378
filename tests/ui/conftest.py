"""UI fixtures: the app's font and language as the desktop app sets them, and a seller on a real store."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication


@pytest.fixture(autouse=True)
def desk_app(qapp: QApplication) -> Iterator[QApplication]:
    """The QApplication as run_desktop prepares it (CJK font loaded), in Chinese unless a test says."""
    from app.ui.application import install_cjk_font
    from app.ui.i18n import install_qt_translations, set_language

    set_language("zh")
    install_qt_translations(qapp)
    install_cjk_font(qapp)
    yield qapp
    set_language("zh")


@pytest.fixture(autouse=True)
def desk_log_restored() -> Iterator[None]:
    """What run_desktop (or a test) sets process-wide for the log is put back after each test:
    the log file handler, the exception hooks and the root level (app/base/logs.configure)."""
    from app.base import logs

    root = logging.getLogger()
    level, hooks, configured = root.level, (sys.excepthook, threading.excepthook), logs.log_path()
    yield
    if logs.log_path() != configured:
        logs.configure(None)
    root.setLevel(level)
    sys.excepthook, threading.excepthook = hooks


@pytest.fixture
def window(qtbot, store, seller):
    """The main window on a store with a seller, shown and active."""
    from app.ui.main_window import MainWindow

    window = MainWindow(store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(window.isActiveWindow)
    return window


@pytest.fixture
def form(qtbot, window):
    """A new invoice form of that window, active; closed at teardown without asking."""
    form = window.new_invoice()
    qtbot.waitUntil(form.isActiveWindow)
    yield form
    form.dirty = False

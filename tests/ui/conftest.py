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
    from app.ui.i18n import set_language

    set_language("zh")
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


@pytest.fixture
def direct(store, seller, v2):
    """The desk on the direct channel with a real stock drawn from the reference platform on loopback (its
    clock at real time, as the desk dates invoices): a block of 1,000 numbers and 300,000.00 of quota."""
    from decimal import Decimal

    from app.services import stock
    from app.services.channel import set_channel
    from app.services.settings import make_client, set_platform
    from tests.helpers.platform import SYNC_TOKEN
    from tests.platform_v2.support import set_clock

    set_clock(v2, reset=True)
    set_platform(v2.url, SYNC_TOKEN)
    set_channel("direct")
    stock.set_stock_settings(block_size=1000, numbers_floor=10, quota_slice="300000.00", quota_floor="1000.00")
    client = make_client()
    try:
        result = stock.top_up(client)
    finally:
        client.close()
    assert result.complete, result
    assert result.view is not None and result.view.numbers_left == 1000
    assert result.view.quota_left == Decimal("300000.00")
    return v2

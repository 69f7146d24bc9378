"""What the start does before and after the window's first paint (app/ui/on_screen.py, app/ui/pyside_feature.py)."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtWidgets import QWidget

from app.ui import pyside_feature
from app.ui.on_screen import WhenOnScreen


def test_background_work_starts_once_after_the_window_is_exposed(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    calls: list[bool] = []
    window.show()
    starter = WhenOnScreen(window, lambda: calls.append(window.windowHandle().isExposed()))
    assert calls == [] and not starter.started  # never inside show(): from the event loop, after the paint
    qtbot.waitUntil(lambda: starter.started)
    qtbot.wait(50)
    assert calls == [True]  # once, with the window on screen


def test_a_window_closed_before_its_paint_starts_nothing(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    calls: list[int] = []
    window.show()
    starter = WhenOnScreen(window, lambda: calls.append(1))
    starter.cancel()
    qtbot.wait(100)
    assert calls == [] and not starter.started


def test_a_window_never_exposed_still_starts_the_work(qtbot, monkeypatch):
    import app.ui.on_screen as on_screen

    monkeypatch.setattr(on_screen, "LONGEST_WAIT_MS", 50)
    window = QWidget()  # never shown: no expose ever comes
    qtbot.addWidget(window)
    window.create()
    starter = WhenOnScreen(window, lambda: None)
    qtbot.waitUntil(lambda: starter.started, timeout=2000)


def test_pyside_asks_the_same_question_of_a_module_by_its_bytes():
    installed = pyside_feature.install()
    feature: Any = sys.modules.get("shibokensupport.feature")
    if not installed:  # a PySide6 without the hook: nothing to speed up, nothing replaced
        assert getattr(feature, "_mod_uses_pyside", None) is None
        return
    check = feature._mod_uses_pyside
    assert getattr(check, pyside_feature.MARK)
    upstream = check.upstream
    assert not getattr(upstream, pyside_feature.MARK, False)  # installed twice: still wraps upstream's own
    import json

    import app.core.money
    import app.ui.main_window

    for module in (app.ui.main_window, app.core.money, json, sys, pyside_feature):
        assert check(module) == bool(upstream(module)), module.__name__
    assert check(app.ui.main_window) and not check(app.core.money)

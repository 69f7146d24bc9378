"""Excel tests: the UI fixtures of tests/ui (CJK font, Chinese, the main window) for the dialog tests."""

from __future__ import annotations

from tests.ui.conftest import desk_app, desk_log_restored, window

__all__ = ["desk_app", "desk_log_restored", "window"]

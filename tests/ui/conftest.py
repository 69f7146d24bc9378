"""UI fixtures: the app's font and language as the desktop app sets them, and a seller on a real store."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def desk_app(qapp):
    """The QApplication as run_desktop prepares it (CJK font loaded), in Chinese unless a test says."""
    from app.ui.application import install_cjk_font
    from app.ui.i18n import set_language

    set_language("zh")
    install_cjk_font(qapp)
    yield qapp
    set_language("zh")

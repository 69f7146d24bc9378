"""run_desktop end to end: first start asks for the seller, then the main window runs until closed."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from app.ui.application import run_desktop
from app.ui.main_window import MainWindow
from app.ui.seller_dialog import SellerDialog
from tests.helpers.bodies import SELLER_TAX_ID


def later(action, timeout_ms: int = 5000):
    """Run action once the widget it needs exists (the event loop is running in run_desktop)."""
    timer = QTimer()
    timer.setInterval(20)
    waited = [0]

    def tick():
        waited[0] += 20
        if action() or waited[0] > timeout_ms:
            timer.stop()
            if waited[0] > timeout_ms:  # never hang the suite: close whatever is open
                for widget in QApplication.topLevelWidgets():
                    widget.close()

    timer.timeout.connect(tick)
    timer.start()
    return timer


def test_first_start_then_main_window(qtbot, data_dir):
    seen: dict[str, object] = {}

    def fill_seller():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SellerDialog):
            return False
        dialog.edits["name"].setText("北京某某科技有限公司")
        qtbot.keyClicks(dialog.edits["tax_id"], SELLER_TAX_ID)
        qtbot.keyClicks(dialog.edits["drawer"], "Zhang")
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        seen["dialog"] = True
        return True

    def close_main_window():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            return False
        seen["title"] = windows[0].windowTitle()
        seen["count"] = windows[0].count_label.text()
        windows[0].close()
        return True

    timers = [later(fill_seller), later(close_main_window)]
    assert run_desktop(data_dir) == 0
    assert seen == {"dialog": True, "title": "发票离线开票台", "count": "共 0 张发票"}
    assert QApplication.font().family() == "WenQuanYi Micro Hei"
    del timers

    # The second start goes straight to the main window: the profile was saved.
    seen.clear()
    timers = [later(close_main_window)]
    assert run_desktop(data_dir, lang="en") == 0
    assert seen["title"] == "Fapiao Desk"
    del timers  # kept alive until run_desktop returned


def test_declining_the_first_start_quits(qtbot, data_dir):
    def cancel():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SellerDialog):
            return False
        dialog.reject()
        return True

    timer = later(cancel)
    assert run_desktop(data_dir) == 0
    assert not any(isinstance(w, MainWindow) and w.isVisible() for w in QApplication.topLevelWidgets())
    del timer

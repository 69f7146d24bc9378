"""Run in a process of its own, on an offscreen screen of a given size (QT_QPA_PLATFORM=offscreen:configfile=…):
the main window and the invoice form of a new desk, as a clerk opens them; prints where the form and its buttons
are, and saves a screenshot. tests/ui/test_fits_the_screen.py reads what it prints."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(data_dir: str, shot: str) -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from app.services.seller import set_seller
    from app.services.store_access import open_store
    from app.ui.application import build_main_window, install_cjk_font
    from tests.helpers.bodies import SELLER_TAX_ID

    install_cjk_font(app)
    store = open_store(Path(data_dir))
    set_seller(name="北京某某科技有限公司", tax_id=SELLER_TAX_ID, drawer="张三")
    window = build_main_window(store)
    window.show()
    form = window.new_invoice()
    assert form is not None
    for _ in range(12):  # a long invoice: more lines than fit
        form.lines.add_line()
    for _ in range(20):
        app.processEvents()
    screen = form.screen().availableGeometry()
    frame = form.frameGeometry()

    def on_screen(widget) -> list[int]:
        corner = widget.mapToGlobal(widget.rect().topLeft())
        return [corner.x(), corner.y(), widget.width(), widget.height()]

    form.grab().save(shot)
    print(json.dumps({"screen": [screen.x(), screen.y(), screen.width(), screen.height()],
                      "form": [frame.x(), frame.y(), frame.width(), frame.height()],
                      "issue": on_screen(form.issue_button), "close": on_screen(form.close_button),
                      "issue_visible": form.issue_button.isVisible(),
                      "scrolls": form.form_scroll.verticalScrollBar().maximum() > 0,
                      "dpr": form.screen().devicePixelRatio()}))
    form.dirty = False
    form.close()
    window.close()
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

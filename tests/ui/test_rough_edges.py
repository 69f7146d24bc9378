"""Rough edges a clerk met (issue 15), each driven as it was found: print stays disabled after the 打印 menu
was opened with nothing selected; a double click opens two identical detail windows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.services.issuing import issue_invoice
from app.ui.application import build_main_window
from app.ui.invoice_detail import InvoiceDetail
from app.ui.line_table import KEYS
from tests.helpers.bodies import invoice_body
from tests.ui.form_helpers import fill_valid


def _details() -> list[InvoiceDetail]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, InvoiceDetail) and w.isVisible()]


def test_print_follows_the_selection_after_the_menu_was_opened_with_nothing_selected(qtbot, store, seller):
    window = build_main_window(store)
    qtbot.addWidget(window)
    actions = window.print_actions
    actions.menu.aboutToShow.emit()  # opened with nothing in the list, nothing selected
    assert not actions.print_action.isEnabled() and not actions.preview_action.isEnabled()
    number = issue_invoice(invoice_body()).number
    window.refresh()
    window.list_view.setCurrentIndex(window.list_model.index(0, 0))
    assert window.selected_number() == number
    # The toolbar button, Ctrl+P and Ctrl+Shift+P work now, without opening the menu again.
    assert actions.print_action.isEnabled() and actions.preview_action.isEnabled() and actions.save_action.isEnabled()
    window.list_view.clearSelection()
    window.list_view.setCurrentIndex(window.list_model.index(-1, -1))
    assert not actions.print_action.isEnabled()


def test_a_double_click_opens_one_detail_window(qtbot, store, seller):
    number = issue_invoice(invoice_body()).number
    window = build_main_window(store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    view = window.list_view
    rect = view.visualRect(window.list_model.index(0, 1))
    # A real double click: press and release, then the second press Qt reports as the double click (it both
    # double-clicks and activates the row: two windows, before).
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: len(_details()) >= 1)
    qtbot.wait(50)
    shown = _details()
    assert len(shown) == 1 and shown[0].number == number
    shown[0].close()
    qtbot.waitUntil(lambda: not _details())
    # Later, Enter on the row opens it again (one window again).
    qtbot.wait(QApplication.doubleClickInterval() + 300)
    view.setCurrentIndex(window.list_model.index(0, 1))
    view.activated.emit(view.currentIndex())
    assert len(_details()) == 1
    _details()[0].close()


def test_the_line_after_a_discount_takes_the_rate_of_the_line_it_reduces(qtbot, form):
    fill_valid(qtbot, form)  # a 6 % service line
    form.line_view.setCurrentIndex(form.lines.index(0, 0))
    qtbot.mouseClick(form.discount_button, Qt.MouseButton.LeftButton)
    assert form.lines.is_discount(1)
    form.lines.setData(form.lines.index(1, KEYS.index("amount")), "100")
    while len(form.lines.rows) > 2:  # the blank line Enter left after the service line, now under the discount
        form.lines.remove_line(2)
    row = form.lines.add_line()  # 添加行 / Enter on the discount: a new line right after it
    assert row == 2 and form.lines.rows[2]["tax_rate"] == form.lines.rows[0]["tax_rate"] == "0.06"


def test_the_first_start_says_no_platform_is_set_not_offline(qtbot, store, seller):
    from app.services.settings import set_platform
    from app.sync.monitor import OFFLINE

    window = build_main_window(store)
    qtbot.addWidget(window)
    widget = window.sync_actions.status_widget
    widget.set_state(OFFLINE)  # what the monitor says of the default address nobody set
    assert "未设置平台" in widget.state_label.text() and "离线" not in widget.state_label.text()
    set_platform("http://127.0.0.1:9", "t")
    widget.set_configured(True)  # as the settings dialog does once saved
    assert "平台离线" in widget.state_label.text()


def test_a_saved_pdf_can_be_shared_like_any_saved_file(qtbot, store, seller, tmp_path):
    import stat

    number = issue_invoice(invoice_body()).number
    window = build_main_window(store)
    qtbot.addWidget(window)
    target = tmp_path / "发票.pdf"
    task = window.print_actions.save_pdf([number], target)
    assert task is not None
    qtbot.waitUntil(target.exists, timeout=20000)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_qts_own_buttons_speak_the_desks_language(qtbot, store, seller):
    from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

    from app.ui.i18n import install_qt_translations, set_language
    from app.ui.limits_panel import LimitsDialog

    dialog = LimitsDialog()
    qtbot.addWidget(dialog)
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None and sorted(b.text() for b in box.buttons()) == ["保存", "取消"]
    question = QMessageBox()
    question.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    assert [b.text() for b in question.buttons()] == ["是(&Y)", "否(&N)"]
    app = QApplication.instance()
    assert app is not None
    try:
        set_language("en")
        install_qt_translations(app)
        english = QMessageBox()
        english.setStandardButtons(QMessageBox.StandardButton.Yes)
        assert [b.text() for b in english.buttons()] == ["&Yes"]
    finally:
        set_language("zh")
        install_qt_translations(app)


def test_the_line_grid_keys_a_clerk_expects(qtbot, form):
    view, lines = form.line_view, form.lines
    fill_valid(qtbot, form)
    while lines.rowCount() > 1:
        lines.remove_line(lines.rowCount() - 1)
    view.setFocus()
    # Enter on 规格型号 left empty goes on to 单位 (the next column), not to a new line.
    view.setCurrentIndex(lines.index(0, KEYS.index("spec")))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert view.currentIndex() == lines.index(0, KEYS.index("unit")) and lines.rowCount() == 1
    # Ctrl+V pastes cells copied from a spreadsheet, no F2 first: quantity and unit price.
    QApplication.clipboard().setText("3\t120")
    view.setCurrentIndex(lines.index(0, KEYS.index("quantity")))
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert (lines.rows[0]["quantity"], lines.rows[0]["unit_price"]) == ("3", "120")
    # Del empties the cell; Ctrl+Del removes the line.
    view.setCurrentIndex(lines.index(0, KEYS.index("unit")))
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert lines.rows[0]["unit"] == ""
    lines.add_line()
    assert lines.rowCount() == 2
    view.setCurrentIndex(lines.index(1, KEYS.index("item_name")))
    qtbot.keyClick(view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    assert lines.rowCount() == 1 and lines.rows[0]["quantity"] == "3"

"""Driving the invoice form and the catalog windows like a clerk, and looking at them: helpers the UI tests share.

Typing: qtbot.keyClicks takes ASCII only (non-ASCII text aborts the test process), so Chinese is
set with setText() and announced as typed with textEdited.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QApplication, QComboBox, QLineEdit, QWidget

from app.ui.invoice_form import InvoiceForm
from app.ui.line_table import KEYS
from tests.helpers.bodies import BUYER_TAX_ID, SOFTWARE

# Screenshots go to build/screenshots, or to $DESK_SHOTS (e.g. /tmp/shots) when set.
SHOTS = Path(os.environ.get("DESK_SHOTS") or Path(__file__).resolve().parents[2] / "build" / "screenshots")


def reactivate(qtbot, window: QWidget) -> None:
    """The offscreen platform makes a completer's popup the active window and leaves none active once it
    closed (a desktop gives the window back its focus): activate the window again, as a real one is."""
    if not window.isActiveWindow():
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)


def type_cell(qtbot, form: InvoiceForm, row: int, key: str, text: str) -> None:
    """Open the cell's editor as a clerk would and type into it (or pick from its combo), then Enter."""
    view = form.line_view
    index = form.lines.index(row, KEYS.index(key))
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.indexWidget(index)
    assert editor is not None, f"no editor on row {row} {key}"
    if key in ("tax_rate", "policy"):
        assert isinstance(editor, QComboBox)
        assert editor.findData(text) >= 0, f"{text} not offered on row {row} {key}"
        editor.setCurrentIndex(editor.findData(text))
    else:
        assert isinstance(editor, QLineEdit)
        editor.selectAll()
        qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.state() != QAbstractItemView.State.EditingState)
    assert form.lines.rows[row][key] == text
    reactivate(qtbot, form)


def set_typed(edit: QLineEdit, text: str) -> None:
    """Chinese into a line edit, as if typed: the text and its textEdited."""
    edit.setText(text)
    edit.setModified(True)
    edit.textEdited.emit(text)


def fill_valid(qtbot, form: InvoiceForm, tax_id: str = BUYER_TAX_ID) -> None:
    qtbot.keyClicks(form.buyer["name"], "ACME Trading Co")
    qtbot.keyClicks(form.buyer["tax_id"], tax_id)
    type_cell(qtbot, form, 0, "item_name", "Software development")
    type_cell(qtbot, form, 0, "tax_code", SOFTWARE)
    assert form.lines.rows[0]["tax_rate"] == "0.06"  # the code's one rate
    type_cell(qtbot, form, 0, "unit", "set")
    type_cell(qtbot, form, 0, "quantity", "2")
    type_cell(qtbot, form, 0, "unit_price", "500")
    type_cell(qtbot, form, 0, "tax_rate", "0.06")


def messages(form: InvoiceForm) -> list[str]:
    return [form.messages.item(i).text() for i in range(form.messages.count())]


def grab_with_popups(widget: QWidget) -> QPixmap:
    """The widget as the clerk sees it, with the popups open over it (a completer's list is a window of its own)."""
    picture = widget.grab()
    painter = QPainter(picture)
    origin = widget.mapToGlobal(QPoint(0, 0))
    for top in QApplication.topLevelWidgets():
        if top is not widget and top.isVisible() and top.windowType() == Qt.WindowType.Popup:
            painter.drawPixmap(top.mapToGlobal(QPoint(0, 0)) - origin, top.grab())
    painter.end()
    return picture


def shot(widget: QWidget, name: str, popups: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    (grab_with_popups(widget) if popups else widget.grab()).save(str(path))
    return path


def answer_confirmation(qtbot, key=None) -> list[str]:
    """Press Enter (or `key`) on the confirmation the form asks before issuing, once it shows; returns its text."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    seen: list[str] = []
    tries = [500]  # 5 s at most, then it stops looking (the test's own assertion then says what is wrong)

    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box.objectName() != "confirm_issue":
            tries[0] -= 1
            if tries[0] > 0:
                QTimer.singleShot(10, press)
            return
        seen.append(box.text())
        qtbot.keyClick(box, key if key is not None else Qt.Key.Key_Return)

    QTimer.singleShot(0, press)
    return seen

"""Completion as a clerk types, the matching done by a read model (the store ranks what it finds).

A LookupCompleter is given a search function: text -> [Entry(shown, inserted, payload)]. As the
line edit it is attached to is typed in, the popup lists what the search found, as found (no
filtering of its own); picking an entry puts `inserted` in the edit and calls the `picked`
callbacks with its payload (an ItemEntry, a TaxCodeHit, a CustomerEntry).

    completer = LookupCompleter(lambda text: [Entry(c.name, c.name, c) for c in complete_customers(text)], edit)
    completer.attach(edit)
    completer.on_picked(fill_buyer)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt
from PySide6.QtGui import QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QCompleter, QLineEdit, QWidget

INSERTED_ROLE = Qt.ItemDataRole.UserRole + 1  # the text put into the edit
POPUP_MIN_WIDTH = 460


@dataclass(frozen=True)
class Entry:
    shown: str  # a line of the popup
    inserted: str  # what the edit holds once it is picked
    payload: Any
    tooltip: str = ""


class LookupCompleter(QCompleter):
    def __init__(self, search: Callable[[str], Sequence[Entry]], parent: QWidget | None = None,
                 min_chars: int = 1, enter_takes_first: bool = False) -> None:
        self.entries_model = QStandardItemModel()
        super().__init__(self.entries_model, parent)
        self.entries_model.setParent(self)
        self.search = search
        self.min_chars = min_chars
        # Enter while the list is open and nothing in it is chosen: the first entry (a code found by words),
        # or, by default, the text as typed (a new item name), the list closed.
        self.enter_takes_first = enter_takes_first
        self.entries: list[Entry] = []
        self._picked: list[Callable[[Any], object]] = []
        # The read model did the matching: the popup shows its answer as it is.
        self.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setCompletionRole(INSERTED_ROLE)
        self.setMaxVisibleItems(12)
        # PySide6's stubs type a signal without its overloads; activated has two (text, index).
        self.activated[QModelIndex].connect(self._activated)  # type: ignore[index]

    def attach(self, edit: QLineEdit) -> None:
        edit.setCompleter(self)
        edit.textEdited.connect(self.update_for)

    def on_picked(self, callback: Callable[[Any], object]) -> None:
        self._picked.append(callback)

    def update_for(self, text: str) -> list[Entry]:
        """Ask the search for text and show what it found (the popup closes when nothing was)."""
        typed = text.strip()
        self.entries = list(self.search(typed)) if len(typed) >= self.min_chars else []
        self.entries_model.clear()
        for entry in self.entries:
            item = QStandardItem(entry.shown)
            item.setData(entry.inserted, INSERTED_ROLE)
            if entry.tooltip:
                item.setToolTip(entry.tooltip)
            item.setEditable(False)
            self.entries_model.appendRow(item)
        widget, popup = self.widget(), self.popup()
        if self.entries and widget is not None and widget.isVisible():
            if popup is not None:
                popup.setMinimumWidth(max(POPUP_MIN_WIDTH, widget.width()))
            self.complete()
        elif not self.entries and popup is not None:
            popup.hide()
        return self.entries

    def shown(self) -> list[str]:
        return [entry.shown for entry in self.entries]

    def pick(self, position: int) -> Any:
        """Pick entry `position` as a click in the popup would (for keyboard-free callers and tests)."""
        entry = self.entries[position]
        widget = self.widget()
        if isinstance(widget, QLineEdit):
            widget.setText(entry.inserted)
        popup = self.popup()
        if popup is not None:
            popup.hide()
        self._deliver(entry)
        return entry.payload

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        popup = self.popup()
        if (watched is popup and popup is not None and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and popup.isVisible() and not popup.selectionModel().selectedIndexes()):
            # QCompleter would only close the list and swallow the key: the clerk would press Enter twice.
            popup.hide()
            if self.enter_takes_first and self.entries:
                self.pick(0)
            elif (widget := self.widget()) is not None:
                QApplication.sendEvent(widget, QKeyEvent(event.type(), event.key(), event.modifiers()))
            return True
        return super().eventFilter(watched, event)

    def _activated(self, index: QModelIndex) -> None:
        # The index is of the completion model, a proxy of entries_model in the same order.
        row = index.row()
        if 0 <= row < len(self.entries):
            self._deliver(self.entries[row])

    def _deliver(self, entry: Entry) -> None:
        for callback in list(self._picked):
            callback(entry.payload)

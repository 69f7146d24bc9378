"""Marking a widget as invalid: a red border, the message as its tooltip, and a property tests read."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

INVALID_STYLE = "border: 1px solid #d32f2f; background: #fff0f0;"
INVALID_BACKGROUND = QColor("#ffd6d6")
INVALID_TEXT = QColor("#b71c1c")


def mark(widget: QWidget, message: str | None) -> None:
    """message None clears the mark."""
    invalid = bool(message)
    if bool(widget.property("invalid")) == invalid and (widget.toolTip() == (message or "")):
        return
    widget.setProperty("invalid", invalid)
    widget.setToolTip(message or "")
    widget.setStyleSheet(INVALID_STYLE if invalid else "")


def is_marked(widget: QWidget) -> bool:
    return bool(widget.property("invalid"))

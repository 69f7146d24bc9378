"""Guards on the Qt bindings themselves, for faults that would bring the desk down after hours of use."""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    changed = Signal(int)
    flag = Signal(bool)


def test_emitting_from_python_does_not_leak_references_to_true(qtbot):
    # PySide6 6.12.0 on Python 3.11 dropped a reference to True on every Python-side emit;
    # after a few thousand the interpreter aborted. A long-running status bar emits far more.
    emitter = _Emitter()
    received: list[int] = []
    emitter.changed.connect(received.append)
    before = sys.getrefcount(True)
    for i in range(2000):
        emitter.changed.emit(i)
        emitter.flag.emit(True)
    assert len(received) == 2000
    assert sys.getrefcount(True) - before >= -10

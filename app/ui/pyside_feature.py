"""PySide6's check of every module imported after it, made cheap.

PySide6 asks of each module imported once it is loaded whether the module uses PySide6 (for its opt-in
`from __feature__ import ...`), by reading the module's source with inspect.getsource: linecache and
tokenize, about a millisecond a module, and the desk imports some 300 modules before its window shows (a
third of a second on this project's machine, and ~10 MiB of source lines left in linecache). This asks the
same question upstream asks, "does the source contain 'PySide6'", of the file's bytes; a module without a
.py file (builtins, extensions, a frozen bundle) still gets upstream's own check. Installed by app/ui's
package init, before PySide6.QtCore is imported (its first import runs the check over every module loaded
so far).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

FEATURE_MODULES = ("shibokensupport.feature", "PySide6.support.feature")
MARK = "_fapiao_desk_fast"


def install() -> bool:
    """Put the byte-level check in place of upstream's; False where PySide6 has no such hook (then nothing
    changes: a PySide6 that no longer has it simply does not pay for it)."""
    import PySide6  # noqa: F401  (loads shibokensupport.feature, not yet initialised)

    installed = False
    for name in FEATURE_MODULES:
        feature: Any = sys.modules.get(name)
        upstream = getattr(feature, "_mod_uses_pyside", None)
        if upstream is None or not callable(upstream):
            continue
        if not getattr(upstream, MARK, False):
            feature._mod_uses_pyside = _byte_check(upstream)
        installed = True
    return installed


def _byte_check(upstream: Any) -> Any:
    def mod_uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as source:
                    return b"PySide6" in source.read()
            except OSError:
                pass
        return bool(upstream(module))

    setattr(mod_uses_pyside, MARK, True)
    mod_uses_pyside.upstream = upstream  # type: ignore[attr-defined]
    return mod_uses_pyside

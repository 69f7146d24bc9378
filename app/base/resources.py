"""Where shipped resources are: beside app/ in a checkout, or inside a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

CJK_FONT = "fonts/wqy-microhei.ttc"


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller in a frozen build
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(relative: str) -> Path:
    return resources_dir() / relative


def cjk_font_path() -> Path:
    """WenQuanYi Micro Hei (Apache-2.0): Chinese on screen and on paper, on any PC."""
    return resource_path(CJK_FONT)

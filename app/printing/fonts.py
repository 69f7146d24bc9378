"""The fonts every printed page uses, registered once per process and always embedded.

reportlab's standard fonts (Helvetica) and CID fonts (STSong-Light) are not embedded and
print differently on each PC, so every glyph comes from the shipped TrueType collection:
WenQuanYi Micro Hei for text and its Mono face for figures (columns of amounts line up).
reportlab embeds a subset of each, so a PDF stays small.
"""

from __future__ import annotations

import threading
from functools import cache

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from app.base.resources import cjk_font_path

TEXT_FONT = "FapiaoSans"  # WenQuanYi Micro Hei, face 0 of the collection
FIGURE_FONT = "FapiaoMono"  # WenQuanYi Micro Hei Mono, face 1: digits of equal width

_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Parse the collection once (about 0.1 s); later calls return at once. Thread-safe,
    as batch printing renders in a background thread."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        # Plain binary (Flate) streams: reportlab's default ASCII85 layer is pure Python here,
        # costs a third of the time of a one-invoice PDF and makes the file 25 % larger.
        rl_config.useA85 = 0
        path = str(cjk_font_path())
        pdfmetrics.registerFont(TTFont(TEXT_FONT, path, subfontIndex=0))
        pdfmetrics.registerFont(TTFont(FIGURE_FONT, path, subfontIndex=1))
        _registered = True


def text_width(text: str, font: str, size: float) -> float:
    """Width in points of text set in one of the registered fonts."""
    return pdfmetrics.stringWidth(text, font, size)


@cache
def descent_ratio() -> float:
    """The collection's descent as a share of the type size (negative): where a glyph's em box ends below the
    baseline, as PDF readers measure it (both faces share it)."""
    register_fonts()
    return float(pdfmetrics.getFont(TEXT_FONT).face.descent) / 1000.0

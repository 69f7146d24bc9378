"""Fitting text into a cell: shrink the type a little, then wrap, never drop characters.

Results are cached: the seller block and common item names repeat across a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from reportlab.pdfbase import pdfmetrics

from app.printing.geometry import MM

LEADING = 1.12  # line height as a multiple of the type size


@dataclass(frozen=True)
class Fitted:
    size: float  # points
    lines: tuple[str, ...]

    @property
    def leading_mm(self) -> float:
        return self.size * LEADING / MM


def wrap(text: str, width_mm: float, font: str, size: float) -> tuple[str, ...]:
    """Greedy wrap by character (Chinese has no spaces); a line never exceeds width_mm."""
    limit = width_mm * MM
    char_width = pdfmetrics.getFont(font).stringWidth
    lines: list[str] = []
    start = 0
    used = 0.0
    for index, char in enumerate(text):
        w = char_width(char, size)
        if used + w > limit and index > start:
            lines.append(text[start:index])
            start, used = index, 0.0
        used += w
    lines.append(text[start:])
    return tuple(lines)


@lru_cache(maxsize=32768)
def fit(text: str, width_mm: float, height_mm: float, font: str, size: float, min_size: float) -> Fitted:
    """The largest size from size down to min_size (half-point steps) at which the text fits;
    at min_size it wraps to as many lines as it needs (the caller's cell is sized for the longest
    text the validation allows)."""
    text = " ".join(text.splitlines()).replace("\t", " ")  # runs of spaces stay: remarks part with four
    current = size
    while True:
        if pdfmetrics.stringWidth(text, font, current) <= width_mm * MM:
            return Fitted(current, (text,))
        lines = wrap(text, width_mm, font, current)
        if len(lines) * current * LEADING / MM <= height_mm or current <= min_size:
            return Fitted(current, lines)
        current = max(min_size, current - 0.5)

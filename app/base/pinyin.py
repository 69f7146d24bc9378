"""Pinyin initials of Chinese text, for searching as a clerk types: 软件开发 -> rjkf.

pypinyin (MIT) holds the readings; a character with several readings contributes each of its
initials, so 银行 matches both yh and yx. Letters and digits are kept, lower-cased.
"""

from __future__ import annotations

from functools import cache
from itertools import product
from typing import Any

# Past this many readings combined, only the first reading of each character is kept.
MAX_VARIANTS = 8


@cache
def _pypinyin() -> tuple[Any, Any]:
    """pypinyin, imported when first needed: loading its dictionaries takes about 0.16 s, which every
    command-line call would otherwise pay at start (most never need a reading)."""
    from pypinyin import Style, pinyin

    return pinyin, Style.FIRST_LETTER


def initials_variants(text: str) -> list[str]:
    """Every spelling of the initials, the most common first: ['yh', 'yx'] for 银行."""
    pinyin, first_letter = _pypinyin()
    # Anything not Chinese (letters, digits) is kept as it is, one character a reading.
    readings = pinyin(text, style=first_letter, heteronym=True, errors=list)
    choices: list[list[str]] = []
    for options in readings:
        kept = [o.lower() for o in options if o and o.isalnum()]
        if kept:
            choices.append(list(dict.fromkeys(kept)))
    count = 1
    for options in choices:
        count *= len(options)
    if count > MAX_VARIANTS:
        choices = [options[:1] for options in choices]
    return ["".join(parts) for parts in product(*choices)] if choices else [""]


def initials(text: str) -> str:
    """The initials of text, every spelling joined by spaces: 'yh yx' (searched with LIKE '%q%')."""
    return " ".join(initials_variants(text))

"""Taxpayer ids (纳税人识别号).

The 18-character unified social credit code (统一社会信用代码) is checked for length,
charset and check character with python-stdnum. stdnum's ``validate`` insists on
digits in the first two places, but registration authorities A (外交), N (群团)
and Y (其他) exist, so only its check-character function is used. The older 15-,
17- and 20-character taxpayer ids have no check character and are checked by form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_FORM = re.compile(r"[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}")
_OLD_FORMS = {
    15: re.compile(r"[0-9]{6}[0-9A-Z]{9}"),  # region code + organisation code
    17: re.compile(r"[0-9]{15}[0-9A-Z]{2}"),  # 15-digit identity card + 2
    20: re.compile(r"[0-9]{17}[0-9X][0-9A-Z]{2}"),  # 18-digit identity card + 2
}


@dataclass(frozen=True)
class TaxIdCheck:
    """Outcome of checking one id: ok, a hard error, or a failed check character."""

    value: str
    ok: bool
    check_char_failed: bool = False
    message_zh: str = ""
    message_en: str = ""


def _check_character(first17: str) -> str:
    from stdnum.cn import uscc  # when an id is checked, not at import: stdnum costs the window's start 50 ms

    return str(uscc.calc_check_digit(first17))


def normalize_tax_id(value: str) -> str:
    """Upper case, no spaces or dashes: what a clerk means when pasting an id."""
    return re.sub(r"[\s\-]", "", value or "").upper()


@lru_cache(maxsize=4096)  # a pure function of the text: a batch or a reconciliation checks the same ids again
def check_tax_id(raw: str) -> TaxIdCheck:
    value = normalize_tax_id(raw)
    length = len(value)
    if length == 18:
        if not _USCC_FORM.fullmatch(value):
            bad = next(
                (c for i, c in enumerate(value) if (c not in USCC_ALPHABET) or (2 <= i < 8 and not c.isdigit())),
                "",
            )
            return TaxIdCheck(
                value,
                False,
                message_zh=f"统一社会信用代码含有不允许的字符“{bad}”（不含 I、O、Z、S、V，第3至8位为数字）",
                message_en=f"unified social credit code has a character not allowed: {bad!r} "
                "(no I, O, Z, S, V; places 3-8 are digits)",
            )
        expected = _check_character(value[:17])
        if value[17] != expected:
            return TaxIdCheck(
                value,
                False,
                check_char_failed=True,
                message_zh=f"统一社会信用代码校验位不符（应为 {expected}），请核对；确属有效代码时可确认后继续",
                message_en=f"check character does not match (expected {expected}); "
                "confirm to go on only if the code is known to be real",
            )
        return TaxIdCheck(value, True)
    if length in _OLD_FORMS:
        if _OLD_FORMS[length].fullmatch(value):
            return TaxIdCheck(value, True)
        return TaxIdCheck(
            value,
            False,
            message_zh=f"{length}位纳税人识别号格式不正确",
            message_en=f"{length}-character taxpayer id is not well formed",
        )
    return TaxIdCheck(
        value,
        False,
        message_zh=f"纳税人识别号应为18位统一社会信用代码（或15、17、20位旧税号），现为{length}位",
        message_en=f"taxpayer id must have 18 characters (or 15, 17, 20 for older ids); it has {length}",
    )


def make_uscc(first17: str) -> str:
    """A code with its right check character: for test data and demos."""
    return first17 + _check_character(first17)

"""The amount in Chinese capitals (人民币大写).

Rules of 《支付结算办法》 and 《会计基础工作规范》 §52: capitals 零壹贰叁肆伍陆柒捌玖,
units 拾佰仟万亿; a run of zeros inside the number is written as one 零; 整 follows
an amount that ends at 元 or at 角; a leading ten is written 壹拾 so that nothing
can be written in front of it. Invoices print 圆 where cheques may print 元.
"""

from __future__ import annotations

from decimal import Decimal

from app.core.money import to_money

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SECTION_UNITS = ("", "万", "亿")
PLACE_UNITS = ("仟", "佰", "拾", "")
NEGATIVE_PREFIX = "(负数)"
# 9999亿9999万9999圆99: far beyond any invoice; larger amounts have no agreed writing.
LARGEST = Decimal("999999999999.99")


def _section(value: int) -> str:
    """0 < value < 10000 in capitals, with inner zeros collapsed and none leading."""
    digits = (value // 1000, value // 100 % 10, value // 10 % 10, value % 10)
    out: list[str] = []
    pending_zero = False
    for digit, unit in zip(digits, PLACE_UNITS, strict=True):
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(DIGITS[digit] + unit)
    return "".join(out)


def _integer_part(value: int) -> str:
    sections = []
    while value:
        sections.append(value % 10000)
        value //= 10000
    out = ""
    pending_zero = False
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            pending_zero = bool(out)
            continue
        # A gap before this section (a zero section, or fewer than four digits in it) reads as one 零.
        if out and (pending_zero or section < 1000):
            out += "零"
        out += _section(section) + SECTION_UNITS[index]
        pending_zero = False
    return out


def amount_in_capitals(amount: Decimal | int | str, yuan: str = "圆") -> str:
    """E.g. 1005.00 -> 壹仟零伍圆整, 100.10 -> 壹佰圆壹角整, 0.05 -> 伍分, -3 -> (负数)叁圆整."""
    value = to_money(amount)
    if abs(value) > LARGEST:
        raise ValueError(f"amount {value} is too large to write in capitals")
    prefix = NEGATIVE_PREFIX if value < 0 else ""
    value = abs(value)
    fen_total = int(value * 100)
    integer, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if fen_total == 0:
        return f"零{yuan}整"
    out = ""
    if integer:
        out += _integer_part(integer) + yuan
    if jiao:
        out += DIGITS[jiao] + "角"
    if fen:
        if integer and not jiao:
            out += "零"
        out += DIGITS[fen] + "分"
    else:
        out += "整"
    return prefix + out

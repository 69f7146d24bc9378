"""Official 20-digit invoice numbers and their blocks (platform-api-v2.md "Official numbers",
shudian-rules.md section 5).

A number is `YY` (the year of issue) + `11` (Beijing) + one channel digit + a 15-digit sequence.
A number may be used only for an invoice issued in its year; a block is a run of consecutive
numbers of one year. Pure: the store keeps the blocks, the services take numbers from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.core.clock import in_beijing

NUMBER_LENGTH = 20
BEIJING_AREA = "11"
CHANNEL_PLATFORM = "0"  # the platform issued it (platform channel)
CHANNEL_DIRECT = "2"  # from a block drawn by a desk (direct channel)
SEQUENCE_DIGITS = 15
LAST_SEQUENCE = 10**SEQUENCE_DIGITS - 1
MAX_BLOCK = 5000
# Redraw when fewer than this share of a block remains (about 20 %).
REDRAW_SHARE = 0.2


@dataclass(frozen=True)
class NumberParts:
    year: int  # four digits: 2026
    area: str
    channel: str
    sequence: int


def is_official_number(text: object) -> bool:
    return (isinstance(text, str) and len(text) == NUMBER_LENGTH and text.isascii() and text.isdigit()
            and text[2:4] == BEIJING_AREA)


def parse_number(text: str) -> NumberParts | None:
    """The parts of a Beijing number, or None when text is not one."""
    if not is_official_number(text):
        return None
    return NumberParts(year=2000 + int(text[:2]), area=text[2:4], channel=text[4], sequence=int(text[5:]))


def make_number(year: int, channel: str, sequence: int) -> str:
    if not 2000 <= year <= 2099 or channel not in "0123456789" or len(channel) != 1:
        raise ValueError(f"year {year}, channel {channel!r}")
    if not 0 < sequence < 10**SEQUENCE_DIGITS:
        raise ValueError(f"sequence {sequence}")
    return f"{year % 100:02d}{BEIJING_AREA}{channel}{sequence:0{SEQUENCE_DIGITS}d}"


def usable_for(number: str, issued_at: datetime) -> bool:
    """A number serves only an invoice issued (Beijing time) in the number's year."""
    parts = parse_number(number)
    return parts is not None and parts.year == in_beijing(issued_at).year


@dataclass(frozen=True)
class Block:
    """A run of consecutive numbers drawn for one year: first..last, `used` of them taken so far."""

    first: str
    last: str
    used: int = 0

    @property
    def count(self) -> int:
        return block_count(self.first, self.last)

    @property
    def year(self) -> int:
        parts = parse_number(self.first)
        assert parts is not None
        return parts.year

    @property
    def remaining(self) -> int:
        return self.count - self.used

    def next_number(self) -> str | None:
        """The number the next invoice takes, or None when the block is spent."""
        if self.remaining <= 0:
            return None
        parts = parse_number(self.first)
        assert parts is not None
        return make_number(parts.year, parts.channel, parts.sequence + self.used)

    def needs_redraw(self, floor: int = 0) -> bool:
        """Fewer than REDRAW_SHARE of the block, or fewer than floor numbers, remain."""
        return self.remaining < max(floor, self.count * REDRAW_SHARE)


def block_count(first: str, last: str) -> int:
    """How many numbers first..last holds; 0 when they are not one run of one year and channel."""
    a, b = parse_number(first), parse_number(last)
    if a is None or b is None or (a.year, a.channel) != (b.year, b.channel) or b.sequence < a.sequence:
        return 0
    return b.sequence - a.sequence + 1

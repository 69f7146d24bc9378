"""Which channel the desk reaches the platform through (platform-api-v2.md "Two channels").

- platform (平台开具): the platform issues; offline, the desk records pre-issue records only.
- direct (直连): the desk issues from its own stock of numbers and quota (app.services.stock).
"""

from __future__ import annotations

from app.core.errors import FieldError, ValidationFailed
from app.services.settings import get_setting, set_setting

CHANNEL_KEY = "channel"
PLATFORM = "platform"
DIRECT = "direct"
CHANNELS = (PLATFORM, DIRECT)
DEFAULT_CHANNEL = PLATFORM


def get_channel() -> str:
    """The channel set, or the platform channel when none is (or the stored value is not one)."""
    value = get_setting(CHANNEL_KEY, DEFAULT_CHANNEL)
    return value if value in CHANNELS else DEFAULT_CHANNEL


def is_direct() -> bool:
    return get_channel() == DIRECT


def set_channel(value: str, clerk: str = "") -> str:
    """Set the channel (the change is an audit entry, written by set_setting); anything else is refused."""
    chosen = value.strip().lower() if isinstance(value, str) else value
    if chosen not in CHANNELS:
        raise ValidationFailed([FieldError(
            CHANNEL_KEY, f"开票渠道（channel）应为 direct（直连）或 platform（平台开具），不能是“{value}”",
            f"channel must be direct or platform, not {value!r}")])
    set_setting(CHANNEL_KEY, chosen, clerk=clerk)
    return str(chosen)

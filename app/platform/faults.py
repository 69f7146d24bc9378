"""Fault injection for the reference platform: down, slow, flaky (spec: "Fault injection").

flaky fails `fail_rate` of the calls, spread over every transient failure the spec lists:
500/502/503/504/429 answers (the 429/503 with Retry-After), connections dropped before or
after the platform acted, timeouts (the platform hangs `hang_ms`, before or after acting),
and an answer that is not JSON. "after" faults are the nasty ones: the platform kept the
invoice but the client never hears so (its outcome is unknown).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

MODES = ("ok", "down", "slow", "flaky")

# (what happens, whether the platform acts on the request first)
FLAKY_KINDS = (
    ("status:500", False), ("status:502", False), ("status:503", False), ("status:504", False),
    ("status:429", False),
    ("drop", False), ("drop", True),
    ("hang", False), ("hang", True),
    ("garbage", True),
)


@dataclass
class FaultSettings:
    mode: str = "ok"
    fail_rate: float = 0.3
    delay_ms: int = 500  # slow: added to every answer
    hang_ms: int = 15000  # a "timeout": longer than the client waits
    retry_after: int = 1  # seconds, sent with 503 (down, flaky) and 429


class Faults:
    def __init__(self, settings: FaultSettings | None = None, seed: int | None = None) -> None:
        self.settings = settings or FaultSettings()
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.injected = 0  # how many calls were failed on purpose
        self.injected_kinds: Counter = Counter()  # by kind, e.g. ("drop", True): dropped after acting

    def update(self, values: dict[str, Any]) -> FaultSettings:
        """Change what is given; raises ValueError naming a bad value."""
        with self._lock:
            new = FaultSettings(**asdict(self.settings))
            for name, value in values.items():
                if name == "mode":
                    if value not in MODES:
                        raise ValueError(f"mode: {value!r} is not one of {', '.join(MODES)}")
                    new.mode = value
                elif name == "fail_rate":
                    rate = float(value)  # ok-float: a fraction of calls, not money
                    if not 0 <= rate <= 1:
                        raise ValueError("fail_rate: must be between 0 and 1")
                    new.fail_rate = rate
                elif name in ("delay_ms", "hang_ms", "retry_after"):
                    number = int(value)
                    if number < 0:
                        raise ValueError(f"{name}: must not be negative")
                    setattr(new, name, number)
                else:
                    raise ValueError(f"{name}: unknown setting")
            self.settings = new
            return new

    def pick(self) -> tuple[str, bool] | None:
        """The failure for this call under flaky, or None to answer normally."""
        with self._lock:
            if self.settings.mode != "flaky" or self._random.random() >= self.settings.fail_rate:
                return None
            # In turn rather than at random: every kind shows up once ten calls have failed.
            kind = FLAKY_KINDS[self.injected % len(FLAKY_KINDS)]
            self.injected += 1
            self.injected_kinds[kind] += 1
            return kind

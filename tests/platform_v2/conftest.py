"""The reference platform for protocol v2: a short result delay, its clock set to START."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.platform.server import PlatformServer
from tests.helpers.platform import SYNC_TOKEN
from tests.platform_v2.support import START, set_clock


@pytest.fixture
def v2(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[PlatformServer]:
    options = getattr(request, "param", {})
    server = PlatformServer(tmp_path / "platform.sqlite3", token=SYNC_TOKEN,
                            **{"result_delay_ms": 40, **options}).start()
    set_clock(server, now=START)
    yield server
    server.stop()

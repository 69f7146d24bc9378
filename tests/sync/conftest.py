"""The reference platform on loopback, in-process on port 0, with the sync tests' token and a fixed seed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.platform.server import PlatformServer
from tests.helpers.platform import SYNC_TOKEN


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[PlatformServer]:
    server = PlatformServer(tmp_path / "platform.sqlite3", token=SYNC_TOKEN, seed=7).start()
    yield server
    server.stop()

"""The reference platform on loopback for the stock tests, its clock at START, the desk set to reach it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.platform.server import PlatformServer
from app.services.seller import SellerSettings
from app.services.settings import set_platform
from app.store.database import Store
from tests.helpers.platform import SYNC_TOKEN
from tests.platform_v2.support import START, set_clock


@pytest.fixture
def v2(tmp_path: Path) -> Iterator[PlatformServer]:
    server = PlatformServer(tmp_path / "platform.sqlite3", token=SYNC_TOKEN, result_delay_ms=30).start()
    set_clock(server, now=START)
    yield server
    server.stop()


@pytest.fixture
def desk(store: Store, seller: SellerSettings, v2: PlatformServer) -> PlatformServer:
    """A desk with its seller, set to reach the platform (the channel is left as it is: platform)."""
    set_platform(v2.url, SYNC_TOKEN)
    return v2

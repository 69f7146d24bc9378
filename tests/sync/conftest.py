"""The reference platform on loopback, in-process on port 0, with the sync tests' token and a fixed seed,
its clock at real time (the desk dates invoices with the real clock). A module may override
`platform_options` (e.g. a longer result delay). `direct` sets the desk on the direct channel against it
(tests/helpers/platform.draw_direct_stock): a block of 1,000 numbers and 300,000.00 of quota drawn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.platform.server import PlatformServer
from app.services.seller import SellerSettings
from app.store.database import Store
from tests.helpers.platform import SYNC_TOKEN, draw_direct_stock


@pytest.fixture
def platform_options() -> dict[str, Any]:
    return {"result_delay_ms": 30}


@pytest.fixture
def platform(tmp_path: Path, platform_options: dict[str, Any]) -> Iterator[PlatformServer]:
    options = {"seed": 7, **platform_options}
    server = PlatformServer(tmp_path / "platform.sqlite3", token=SYNC_TOKEN, **options).start()
    yield server
    server.stop()


@pytest.fixture
def direct(store: Store, seller: SellerSettings, platform: PlatformServer) -> PlatformServer:
    """The desk on the direct channel, set to reach `platform`, with its numbers and quota drawn."""
    return draw_direct_stock(platform)

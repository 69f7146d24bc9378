"""The reference platform on loopback, in-process on port 0, with the sync tests' token and a fixed seed,
its clock at real time (the desk dates invoices with the real clock). A module may override
`platform_options` (e.g. a longer result delay). `direct` sets the desk on the direct channel against it
(the pattern of tests/channels/conftest.py): a block of 1,000 numbers and 300,000.00 of quota drawn."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.platform.server import PlatformServer
from app.services.seller import SellerSettings
from app.store.database import Store
from tests.helpers.platform import SYNC_TOKEN


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
    from app.services import stock
    from app.services.channel import set_channel
    from app.services.settings import make_client, set_platform

    set_platform(platform.url, SYNC_TOKEN)
    set_channel("direct")
    stock.set_stock_settings(block_size=1000, numbers_floor=10, quota_slice="300000.00", quota_floor="1000.00")
    client = make_client()
    try:
        result = stock.top_up(client)
    finally:
        client.close()
    assert result.complete, result
    assert result.view is not None and result.view.numbers_left == 1000
    assert result.view.quota_left == Decimal("300000.00")
    return platform

"""The desk against the reference platform (protocol v2) for reconciliation: the `v2` platform of
tests/conftest.py with its clock at real time, the desk set to reach it, and the direct channel with a
block and quota (copied from tests/channels/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from app.platform.http_client import HttpPlatformClient
from app.platform.server import PlatformServer
from app.services import stock
from app.services.channel import set_channel
from app.services.seller import SellerSettings
from app.services.settings import make_client, set_platform
from app.store.database import Store
from tests.helpers.platform import SYNC_TOKEN
from tests.platform_v2.support import set_clock


@pytest.fixture
def online(store: Store, seller: SellerSettings, v2: PlatformServer) -> PlatformServer:
    """The desk set to reach the platform, whose clock runs at real time (the platform channel: the default)."""
    set_clock(v2, reset=True)
    set_platform(v2.url, SYNC_TOKEN)
    return v2


@pytest.fixture
def client(online: PlatformServer) -> Iterator[HttpPlatformClient]:
    made = make_client()
    yield made
    made.close()


@pytest.fixture
def direct(online: PlatformServer, client: HttpPlatformClient) -> PlatformServer:
    """The direct channel with a block of 1,000 numbers and 300,000.00 of quota drawn."""
    set_channel("direct")
    stock.set_stock_settings(block_size=1000, numbers_floor=10, quota_slice="300000.00", quota_floor="1000.00")
    result = stock.top_up(client)
    assert result.complete, result
    assert result.view is not None and result.view.numbers_left == 1000
    assert result.view.quota_left == Decimal("300000.00")
    return online

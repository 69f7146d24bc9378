"""Red-letter forms end to end: the desk's real store and services, the reference platform on loopback (real
HTTP) with its clock at the desk's real time; fixtures as tests/channels/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.platform.http_client import HttpPlatformClient
from app.platform.server import PlatformServer
from app.services.seller import SellerSettings
from app.services.settings import make_client, set_platform
from app.store.database import Store
from tests.helpers.platform import SYNC_TOKEN
from tests.platform_v2.support import set_clock


@pytest.fixture
def online(store: Store, seller: SellerSettings, v2: PlatformServer) -> PlatformServer:
    set_clock(v2, reset=True)
    set_platform(v2.url, SYNC_TOKEN)
    return v2


@pytest.fixture
def client(online: PlatformServer) -> Iterator[HttpPlatformClient]:
    made = make_client()
    yield made
    made.close()

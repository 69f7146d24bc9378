"""The reference platform on loopback for the stock tests, its clock at START, the desk set to reach it."""

from __future__ import annotations

import pytest

from app.platform.server import PlatformServer
from app.services.seller import SellerSettings
from app.services.settings import set_platform
from app.store.database import Store
from tests.helpers.platform import SYNC_TOKEN


@pytest.fixture
def desk(store: Store, seller: SellerSettings, v2: PlatformServer) -> PlatformServer:
    """A desk with its seller, set to reach the platform (the channel is left as it is: platform)."""
    set_platform(v2.url, SYNC_TOKEN)
    return v2

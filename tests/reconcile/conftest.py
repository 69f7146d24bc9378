"""A client for the desk against the reference platform (the `platform` fixture of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.platform.http_client import HttpPlatformClient
from app.platform.server import PlatformServer
from tests.helpers.platform import PLATFORM_TOKEN


@pytest.fixture
def client(platform: PlatformServer) -> Iterator[HttpPlatformClient]:
    made = HttpPlatformClient(platform.url, PLATFORM_TOKEN)
    yield made
    made.close()

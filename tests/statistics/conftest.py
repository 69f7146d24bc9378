"""The October 2026 of tests/statistics/support.py on the test's store (and the UI's font for the view tests)."""

from __future__ import annotations

import pytest

from tests.statistics.support import october


@pytest.fixture
def numbers(store, seller) -> dict[str, str]:
    return october()

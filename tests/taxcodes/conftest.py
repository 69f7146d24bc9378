"""The newer table (tests/taxcodes/tables.py) written for a test, for the reference platform to serve."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.taxcodes.tables import write_newer_table


@pytest.fixture
def newer_table(tmp_path: Path) -> Path:
    return write_newer_table(tmp_path / "taxcodes-33.0.csv")

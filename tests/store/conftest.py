"""Fixtures of the store's integrity tests."""

from __future__ import annotations

import pytest

from app.services import integrity


@pytest.fixture
def rebuilt(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the rows the check rebuilt the domain's way."""
    seen: list[int] = []
    row_problem = integrity._row_problem

    def counted(row, lines, recorded, db=None):
        seen.append(row.id)
        return row_problem(row, lines, recorded, db)

    monkeypatch.setattr(integrity, "_row_problem", counted)
    return seen

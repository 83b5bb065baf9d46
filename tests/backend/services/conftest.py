"""Fixtures for service tests that need a database in a special state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.db.fresh import fresh_database


@pytest.fixture
def fresh_database_url(backend: str, request: pytest.FixtureRequest,
                       tmp_path: Path) -> Iterator[str]:
    """A new, empty database (no schema) of the backend under test."""
    with fresh_database(backend, request, tmp_path) as url:
        yield url

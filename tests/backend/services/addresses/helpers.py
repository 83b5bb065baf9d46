"""Shared by the address tests: the hand-made Munich sample and a register emptied after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.db.engine import make_engine

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "addresses" / "munich_sample.csv"
SAMPLE_ROWS = 21


@pytest.fixture
def empty_register(database_url: str) -> Iterator[str]:
    """The test database; its address register is emptied after the test (PostGIS keeps
    tables between tests)."""
    yield database_url
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM address"))
    engine.dispose()

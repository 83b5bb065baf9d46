"""Locate the shared test data directory (outside the repository) for tests that need it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def shared_data_dir() -> Path:
    """Return the shared data directory; skip the test if absent (fail instead when CI=true)."""
    override = os.environ.get("MM_SHARED_DATA")
    # This file is <repo>/tests/shared_data.py; the data lives next to the repo in ../shared/data.
    path = (
        Path(override)
        if override
        else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
    if path.is_dir():
        return path.resolve()
    reason = f"shared data directory {path} not found (set MM_SHARED_DATA)"
    if os.environ.get("CI") == "true":
        # In CI missing data is a setup error that must not hide behind a skip.
        pytest.fail(reason)
    pytest.skip(reason)

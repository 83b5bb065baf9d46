"""Fixtures of the API tests beyond those of tests/conftest.py."""

from __future__ import annotations

import pytest
from flask import Flask

from backend.extensions import db
from backend.services.api_keys import create_api_key


@pytest.fixture
def api_key(app: Flask) -> str:
    """An Open311 client's API key."""
    with app.app_context():
        return create_api_key(db.session, "test client")

"""Per-request access to the settings, the session and the city snapshot for handlers."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from backend.extensions import db
from backend.services.city_cache import CitySnapshot, city_snapshot
from backend.settings import Settings


def settings() -> Settings:
    """The settings the app was created with."""
    return current_app.extensions["mm_settings"]


def session() -> Session:
    """The request's database session."""
    return db.session


def snapshot() -> CitySnapshot:
    """The city snapshot, checked for changes once per request."""
    snap = g.get("mm_snapshot")
    if snap is None:
        snap = g.mm_snapshot = city_snapshot(db.session)
    return snap

"""Per-request access to the settings, the session and the city snapshot for handlers."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from backend.extensions import db
from backend.media.storage import PhotoStorage
from backend.queue import JobQueue
from backend.services.city_cache import CitySnapshot, city_snapshot
from backend.services.submissions import PhotoLimits
from backend.settings import Settings


def settings() -> Settings:
    """The settings the app was created with."""
    return current_app.extensions["mm_settings"]


def storage() -> PhotoStorage:
    """The photo storage."""
    return current_app.extensions["mm_storage"]


def jobs() -> JobQueue:
    """The background job queue."""
    return current_app.extensions["mm_jobs"]


def photo_limits() -> PhotoLimits:
    """Photo size and count limits from the settings."""
    cfg = settings()
    return PhotoLimits(cfg.photo_max_bytes, cfg.photo_max_pixels, cfg.photos_per_report,
                       cfg.photo_far_m)


def session() -> Session:
    """The request's database session."""
    return db.session


def snapshot() -> CitySnapshot:
    """The city snapshot, checked for changes once per request."""
    snap = g.get("mm_snapshot")
    if snap is None:
        snap = g.mm_snapshot = city_snapshot(db.session)
    return snap

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


def read_session() -> Session:
    """A session for heavy public reads: on the read replica (MM_DATABASE_READ_URL) when
    there is one, else the request's session. Never write through it; what it shows may lag
    the primary by the replication delay, so nothing that must see the caller's own writes
    reads here."""
    engine = current_app.extensions.get("mm_read_engine")
    if engine is None:
        return db.session
    read = g.get("mm_read_session")
    if read is None:
        read = g.mm_read_session = Session(engine)
    return read


def close_read_session(_exc: BaseException | None = None) -> None:
    """End the request's replica session (app teardown)."""
    read = g.pop("mm_read_session", None)
    if read is not None:
        read.close()


def snapshot() -> CitySnapshot:
    """The city snapshot, checked for changes once per request."""
    snap = g.get("mm_snapshot")
    if snap is None:
        snap = g.mm_snapshot = city_snapshot(db.session)
    return snap

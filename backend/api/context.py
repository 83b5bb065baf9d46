"""Per-request access to the settings, the session and the city snapshot for handlers."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from backend.db.statements import Reader
from backend.extensions import db
from backend.media.storage import PhotoStorage
from backend.queue import JobQueue
from backend.services.city_cache import (
    CitySnapshot,
    cached_snapshot,
    city_snapshot,
    snapshot_for_versions,
)
from backend.services.public_map.index import MapIndex
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


def _session_on(engine: object, name: str) -> Session:
    read = g.get(name)
    if read is None:
        read = Session(engine)  # type: ignore[arg-type]
        setattr(g, name, read)
    return read


def read_session() -> Session:
    """A session for heavy public reads: on the read replica (MM_DATABASE_READ_URL) when
    there is one, else `primary_read_session()`. Never write through it; what it shows may lag
    the primary by the replication delay, so nothing that must see the caller's own writes
    reads here."""
    engine = current_app.extensions.get("mm_read_engine")
    if engine is None:
        return primary_read_session()
    return _session_on(engine, "mm_read_session")


def primary_read_session() -> Session:
    """A session for reads on the primary database. On SQLite a read-only one whose
    transactions begin deferred (the request's session takes the write lock up front, which
    would line up every reader behind every other); on PostgreSQL the request's session."""
    engine = current_app.extensions.get("mm_sqlite_read_engine")
    if engine is None:
        return db.session
    return _session_on(engine, "mm_primary_read_session")


def _reader_on(engine: Engine, name: str) -> Reader:
    found = g.get(name)
    if found is None:
        found = Reader(engine, current_app.extensions["mm_held_connections"])
        setattr(g, name, found)
    return found


def reader() -> Reader:
    """Plain-SQL reads for the public lists (no ORM session): on the replica when there is
    one, else like `primary_reader`. Same caveat as `read_session`: it may lag."""
    engine = current_app.extensions.get("mm_read_engine")
    return primary_reader() if engine is None else _reader_on(engine, "mm_reader")


def primary_reader() -> Reader:
    """Plain-SQL reads on the primary database (SQLite: the read-only engine)."""
    engine = current_app.extensions.get("mm_sqlite_read_engine") or db.engine
    return _reader_on(engine, "mm_primary_reader")


def map_index() -> MapIndex:
    """This process's index of the public map (read through `reader`)."""
    found = current_app.extensions.get("mm_map_index")
    if found is None:
        found = current_app.extensions.setdefault("mm_map_index", MapIndex())
    return found


def close_read_session(_exc: BaseException | None = None) -> None:
    """End the request's read sessions and readers (app teardown)."""
    for name in ("mm_read_session", "mm_primary_read_session", "mm_reader",
                 "mm_primary_reader"):
        read = g.pop(name, None)
        if read is not None:
            read.close()


def snapshot() -> CitySnapshot:
    """The city snapshot, checked for changes once per request (by the version probe, which
    needs no session; through the session when the probe cannot ask)."""
    snap = g.get("mm_snapshot")
    if snap is None:
        versions = current_app.extensions["mm_version_probe"].read()
        if versions is None:
            snap = city_snapshot(db.session)
        else:
            snap = (cached_snapshot(db.engine, versions)
                    or snapshot_for_versions(db.session, versions))
        g.mm_snapshot = snap
    return snap

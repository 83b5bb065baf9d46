"""rq jobs for photos: they take a photo id and call the photo service."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.media.storage import PhotoStorage, storage_from_settings
from backend.services import photos as photo_service
from backend.settings import Settings


@dataclass
class _Context:
    settings: Settings
    engine: Engine
    storage: PhotoStorage
    pid: int


_settings: Settings | None = None
_context: _Context | None = None


def configure(settings: Settings) -> None:
    """Tell the jobs of this process which settings to use (the worker does this at start)."""
    global _settings, _context
    _settings, _context = settings, None


def _ctx() -> _Context:
    global _context
    # rq forks a work horse per job: a pooled connection must never cross a fork.
    if _context is None or _context.pid != os.getpid():
        settings = _settings or Settings.from_env().with_secret()
        _context = _Context(settings, make_engine(settings.database_url),
                            storage_from_settings(settings.media_root), os.getpid())
    return _context


def process_photo(photo_id: int) -> str:
    """Render a photo's web sizes; transient trouble raises so that rq retries the job."""
    ctx = _ctx()
    with Session(ctx.engine, expire_on_commit=False) as session:
        photo_service.start_attempt(session, photo_id)
        try:
            return photo_service.process_photo(
                session, ctx.storage, photo_id, keep_original=ctx.settings.keep_photo_originals
            )
        except Exception as exc:
            session.rollback()
            photo_service.record_error(session, photo_id, f"{type(exc).__name__}: {exc}")
            raise

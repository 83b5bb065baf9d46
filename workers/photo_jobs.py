"""rq jobs for photos: they take a photo id and call the photo service."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.services import photos as photo_service
from workers.context import job_context


def process_photo(photo_id: int) -> str:
    """Render a photo's web sizes; transient trouble raises so that rq retries the job."""
    ctx = job_context()
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

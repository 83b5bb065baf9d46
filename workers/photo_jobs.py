"""rq jobs for photos: they take a photo id and call the photo service."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from backend.media.redaction.detect import detectors
from backend.media.redaction.render import Options as RedactionOptions
from backend.services import photos as photo_service
from backend.services.redaction.rerun import redo_photo
from backend.settings import Settings
from workers.context import job_context
from workers.isolation import Death, TimeLimitExceeded

log = logging.getLogger(__name__)


def process_photo(photo_id: int) -> str:
    """Render a photo's web sizes; transient trouble raises so that rq retries the job.

    A photo that needs more time or memory than its limits is marked failed with the reason
    (trying it again would end the same way), in one log line, without a traceback.
    """
    ctx = job_context()
    with Session(ctx.engine, expire_on_commit=False) as session:
        photo_service.start_attempt(session, photo_id)
        try:
            return photo_service.process_photo(
                session, ctx.storage, photo_id, keep_original=ctx.settings.keep_photo_originals,
                redaction=redaction_options(ctx.settings))
        except TimeLimitExceeded:
            reason = f"stopped after {ctx.settings.photo_job_timeout_s} s (the limit)"
        except MemoryError:
            reason = (f"needs more memory than the limit "
                      f"({ctx.settings.job_memory_limit_mb} MiB)")
        except Exception as exc:
            session.rollback()
            photo_service.record_error(session, photo_id, f"{type(exc).__name__}: {exc}")
            raise
        session.rollback()
        return _give_up(session, photo_id, reason)


def redact_photo(photo_id: int) -> str:
    """Render a published photo again after staff turned it or changed its regions, and swap
    its public files (the old copies stay public until then); a detector failure withholds
    it. Storage or database trouble raises, so that rq retries."""
    ctx = job_context()
    with Session(ctx.engine, expire_on_commit=False) as session:
        return redo_photo(session, ctx.storage, photo_id, redaction_options(ctx.settings))


def redaction_options(settings: Settings) -> RedactionOptions:
    """How this deployment redacts photos (MM_PHOTO_REDACTION*)."""
    return RedactionOptions(settings.photo_redaction, settings.photo_redaction_detect_max,
                            settings.photo_redaction_face_model,
                            settings.photo_redaction_plate_detect_max)


def preload_detectors(settings: Settings) -> None:
    """Load the detectors in the worker before it forks job processes (they then start with
    the models in memory); a missing model is reported by each photo it withholds."""
    if not settings.photo_redaction:
        return
    try:
        detectors(settings.photo_redaction_face_model)
    except Exception as exc:  # noqa: BLE001 - the photos say why, one by one
        log.warning("photo redaction unavailable, photos will be withheld: %s", exc)


def after_kill(args: list, end: Death) -> None:
    """The horse processing a photo died: a final cause fails the photo with the reason;
    otherwise the reason is kept and the photo is tried again."""
    ctx = job_context()
    with Session(ctx.engine, expire_on_commit=False) as session:
        if end.final:
            _give_up(session, int(args[0]), end.reason)
        else:
            photo_service.record_error(session, int(args[0]), end.reason)


def _give_up(session: Session, photo_id: int, reason: str) -> str:
    log.warning("photo %s failed: %s", photo_id, reason)
    return photo_service.fail_processing(session, photo_id, reason)

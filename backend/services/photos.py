"""Photos: accept uploads (validated by content), and turn originals into public web sizes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from backend.errors import DomainError, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from backend.media.imaging import Derivative, InspectedPhoto, PhotoRejected, inspect_photo
from backend.media.redaction.regions import regions_from_json, regions_json
from backend.media.redaction.render import Options as RedactionOptions
from backend.media.redaction.render import render_public
from backend.media.storage import PhotoStorage, derivative_key, original_key
from backend.models import Photo, PhotoDerivative, PhotoStatus, Report
from backend.models.base import utcnow
from backend.queue import JobQueue
from backend.tokens import new_public_id
from geo.photo_exif import distance_m

log = logging.getLogger(__name__)

PHOTO_FAR_FROM_PIN = "photo_far_from_pin"
PHOTO_NEEDS_REVIEW = "photo_needs_review"  # a photo withheld: its faces/plates were not checked
PROCESS_JOB = "workers.photo_jobs.process_photo"
_REJECTION_ERRORS: dict[int, type[DomainError]] = {
    413: PayloadTooLarge, 415: UnsupportedMediaType, 422: InvalidInput,
}


def inspect_uploads(files: Sequence[bytes], *, max_bytes: int, max_pixels: int,
                    limit: int) -> list[InspectedPhoto]:
    """Validate every uploaded photo by its content; the first refusal names the photo."""
    if len(files) > limit:
        raise InvalidInput(f"At most {limit} photos per report.",
                           {"photos": [f"at most {limit} photos"]})
    inspected = []
    for index, data in enumerate(files):
        try:
            inspected.append(inspect_photo(data, max_bytes=max_bytes, max_pixels=max_pixels))
        except PhotoRejected as exc:
            error = _REJECTION_ERRORS.get(exc.status, InvalidInput)
            failure = error(exc.message, {f"photos[{index}]": [exc.message]})
            failure.code = exc.code
            raise failure from exc
    return inspected


def review_flags(photos: Sequence[InspectedPhoto], lon: float, lat: float,
                 far_m: float, device_place: tuple[float, float] | None = None) -> list[str]:
    """Reasons for staff to look twice, e.g. a photo taken far away from the pin.

    `device_place` (lat, lon) is what the app read from the photo before it downscaled it
    (which removes the metadata the server would otherwise read).
    """
    places = [(p.facts.place.lat, p.facts.place.lon) for p in photos if p.facts.place]
    if device_place is not None and photos:
        places.append(device_place)
    if any(distance_m(p_lat, p_lon, lat, lon) > far_m for p_lat, p_lon in places):
        return [PHOTO_FAR_FROM_PIN]
    return []


def store_originals(storage: PhotoStorage, photos: Sequence[tuple[InspectedPhoto, bytes]]
                    ) -> list[str]:
    """Write the originals (durably, by content hash); returns the keys this call created."""
    created = []
    try:
        for inspected, data in photos:
            key = original_key(inspected.sha256)
            if storage.put(key, data):
                created.append(key)
    except BaseException:
        discard(storage, created)
        raise
    return created


def ensure_originals(storage: PhotoStorage,
                     photos: Sequence[tuple[InspectedPhoto, bytes]]) -> None:
    """After the commit: write again any original a finishing job removed meanwhile."""
    for inspected, data in photos:
        storage.put(original_key(inspected.sha256), data)


def discard(storage: PhotoStorage, keys: Sequence[str]) -> None:
    """Remove files written for a submission that did not go through."""
    for key in keys:
        try:
            storage.delete(key)
        except OSError:  # pragma: no cover - logged, the sweep of orphans is a later concern
            log.exception("could not remove %s", key)


def photo_rows(report_id: int, photos: Sequence[InspectedPhoto], first_position: int
               ) -> list[dict[str, Any]]:
    """Rows for the photo table, pending processing."""
    now = utcnow()
    rows = []
    for offset, photo in enumerate(photos):
        place = photo.facts.place
        rows.append({
            "public_id": new_public_id(), "report_id": report_id,
            "position": first_position + offset, "status": PhotoStatus.PENDING,
            "failure_reason": None, "attempts": 0, "original_sha256": photo.sha256,
            "original_key": original_key(photo.sha256), "original_size": photo.size,
            "content_type": photo.content_type, "width": photo.width, "height": photo.height,
            "exif_lat": place.lat if place else None, "exif_lon": place.lon if place else None,
            "taken_at": _taken_at(photo), "created_at": now, "updated_at": now,
        })
    return rows


def _taken_at(photo: InspectedPhoto) -> str | None:
    facts = photo.facts
    if facts.taken_at is None:
        return None
    # Aware (the camera wrote its offset) or naive (local time): isoformat says which; the
    # offset must not be appended a second time.
    return facts.taken_at.isoformat()


def insert_photo_rows(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert photo rows in the caller's transaction; returns their ids in order."""
    ids = []
    for row in rows:
        ids.append(session.execute(insert(Photo).values(row).returning(Photo.id)).scalar_one())
    return ids


def enqueue_processing(jobs: JobQueue | None, photo_ids: Sequence[int]) -> None:
    """Hand photos to the workers (after the commit that made them durable)."""
    if jobs is not None:
        jobs.submit_each(PROCESS_JOB, photo_ids, "photo")


def process_photo(session: Session, storage: PhotoStorage, photo_id: int, *,
                  keep_original: bool, redaction: RedactionOptions | None = None) -> str:
    """Render and store the web sizes of a photo, faces and plates hidden, and mark it ready;
    safe to run twice.

    A photo that cannot be rendered is marked failed with the reason (no retry helps); one
    whose detection fails is withheld (private, its original kept) for staff to review;
    storage or database trouble raises, so the job is retried.
    """
    photo = session.get(Photo, photo_id)
    if photo is None:
        return "missing"
    if photo.status == PhotoStatus.READY:
        _drop_original(session, storage, photo, keep_original)
        return photo.status
    if photo.status == PhotoStatus.FAILED:
        return photo.status  # a later copy of a job that gave up (a retry starts as pending)
    if photo.original_key is None or not storage.exists(photo.original_key):
        return _fail(session, photo, "the original file is missing")
    # End the read transaction before the slow part: on SQLite every transaction holds the
    # write lock, and new reports must not wait for a photo to render.
    session.commit()
    data = storage.get(photo.original_key)
    staff = regions_from_json((photo.redaction or {}).get("staff"))
    try:
        rendered = render_public(data, redaction or RedactionOptions(),
                                 rotation=photo.rotation or 0, staff=staff)
    except PhotoRejected as exc:
        return _fail(session, photo, exc.message)
    except MemoryError:
        raise  # the job's memory limit: the job fails the photo with that reason
    except Exception as exc:  # noqa: BLE001 - any detector trouble: never publish undetected
        return withhold(session, photo, f"redaction failed: {type(exc).__name__}: {exc}")
    stale = replace_derivatives(session, storage, photo, rendered.derivatives)
    photo.status = PhotoStatus.READY
    photo.failure_reason = None
    photo.redaction = {"version": rendered.version, "auto": regions_json(rendered.found),
                       "staff": regions_json(staff), "rotation": photo.rotation or 0}
    photo.updated_at = utcnow()
    original = photo.original_key
    _reviewed(session, photo)
    if not keep_original:
        # In the same commit as READY: a worker killed right after it leaves a file no row
        # names, which the hourly sweep of orphaned originals removes.
        photo.original_key = None
    session.commit()
    drop_unused_derivatives(session, storage, stale)
    if not keep_original and original is not None:
        _remove_unless_referenced(session, storage, original)
    return photo.status


def replace_derivatives(session: Session, storage: PhotoStorage, photo: Photo,
                        derivatives: Sequence[Derivative]) -> list[str]:
    """Write the files (durably), then swap the photo's derivative rows in the session's
    transaction: readers see the old set or the new one, never a mix. Returns the storage
    keys of the old files the new set no longer uses (see `drop_unused_derivatives`)."""
    for derivative in derivatives:
        storage.put(derivative_key(derivative.sha256, derivative.format), derivative.data)
    new_keys = {derivative_key(d.sha256, d.format) for d in derivatives}
    old_keys = set(session.scalars(select(PhotoDerivative.storage_key)
                                   .where(PhotoDerivative.photo_id == photo.id)))
    session.execute(delete(PhotoDerivative).where(PhotoDerivative.photo_id == photo.id))
    session.execute(insert(PhotoDerivative), [
        {"photo_id": photo.id, "name": d.name, "format": d.format, "sha256": d.sha256,
         "storage_key": derivative_key(d.sha256, d.format), "width": d.width,
         "height": d.height, "size": len(d.data)}
        for d in derivatives
    ])
    return sorted(old_keys - new_keys)


def drop_unused_derivatives(session: Session, storage: PhotoStorage, keys: Sequence[str]
                            ) -> int:
    """Delete derivative files no row names any more (after the swap committed); files are
    shared by content hash, so each is moved aside, counted, then deleted or put back."""
    dropped = 0
    for key in keys:
        aside = storage.move_aside(key)
        if aside is None:
            continue
        used = session.scalar(select(func.count()).select_from(PhotoDerivative)
                              .where(PhotoDerivative.storage_key == key))
        session.commit()
        if used:
            storage.restore(aside, key)
        else:
            storage.delete(aside)
            dropped += 1
    return dropped


def _drop_original(session: Session, storage: PhotoStorage, photo: Photo,
                   keep_original: bool) -> None:
    """Delete the private original once the derivatives exist, unless configured to keep it.

    Originals are shared by content hash, and another upload of the same file may be about to
    commit a row that needs it. So the file is moved aside first, the references are counted
    after that, and it comes back if anyone still needs it; an upload that committed in
    between writes it again itself (see `ensure_originals`).
    """
    if keep_original or photo.original_key is None:
        return
    key = photo.original_key
    photo.original_key = None
    session.commit()
    _remove_unless_referenced(session, storage, key)


def _remove_unless_referenced(session: Session, storage: PhotoStorage, key: str) -> bool:
    """Delete an original no photo row names, safely against a concurrent upload of the
    same file: move it aside, count the references, then delete or put it back. Returns
    whether it was deleted."""
    aside = storage.move_aside(key)
    if aside is None:
        return False
    still_needed = session.scalar(select(func.count()).select_from(Photo).where(
        Photo.original_key == key))
    session.commit()
    if still_needed:
        storage.restore(aside, key)
        return False
    storage.delete(aside)
    return True


ORPHAN_AGE_S = 3600.0


def sweep_orphan_originals(session: Session, storage: PhotoStorage,
                           older_than_s: float = ORPHAN_AGE_S) -> int:
    """Delete originals older than `older_than_s` that no photo row names: written by a
    request that died before its commit. Returns how many."""
    candidates = storage.keys_older_than("originals/", older_than_s)
    removed = 0
    for start in range(0, len(candidates), 500):
        chunk = candidates[start:start + 500]
        referenced = set(session.scalars(select(Photo.original_key).where(
            Photo.original_key.in_(chunk))))
        session.commit()
        for key in chunk:
            if key not in referenced and _remove_unless_referenced(session, storage, key):
                removed += 1
    if removed:
        log.warning("removed %d orphaned photo original(s)", removed)
    return removed


def withhold(session: Session, photo: Photo, reason: str) -> str:
    """Keep a photo private (no public copies, the original kept) and flag its report for
    staff: the detectors could not check it."""
    session.rollback()
    photo = session.get(Photo, photo.id) or photo
    photo.status = PhotoStatus.WITHHELD
    photo.failure_reason = reason[:500]
    photo.updated_at = utcnow()
    report = session.get(Report, photo.report_id)
    if report is not None and PHOTO_NEEDS_REVIEW not in (report.review_flags or []):
        report.review_flags = [*(report.review_flags or []), PHOTO_NEEDS_REVIEW]
    session.commit()
    log.warning("photo %s withheld for staff review: %s", photo.public_id, reason)
    return photo.status


def _reviewed(session: Session, photo: Photo) -> None:
    """Drop the report's `photo_needs_review` flag once none of its photos is withheld any
    more (a staff release that succeeded), in the caller's transaction."""
    report = session.get(Report, photo.report_id)
    if report is None or PHOTO_NEEDS_REVIEW not in (report.review_flags or []):
        return
    if session.scalar(select(func.count()).select_from(Photo).where(
            Photo.report_id == report.id, Photo.id != photo.id,
            Photo.status == PhotoStatus.WITHHELD)):
        return
    report.review_flags = [f for f in report.review_flags or [] if f != PHOTO_NEEDS_REVIEW]


def _fail(session: Session, photo: Photo, reason: str) -> str:
    photo.status = PhotoStatus.FAILED
    photo.failure_reason = reason
    photo.updated_at = utcnow()
    session.commit()
    return photo.status


def fail_processing(session: Session, photo_id: int, reason: str) -> str:
    """Mark a still-pending photo failed with `reason` (e.g. it exceeded the time or memory
    limit: trying again would end the same way); returns its status afterwards."""
    session.execute(update(Photo).where(
        Photo.id == photo_id, Photo.status == PhotoStatus.PENDING
    ).values(status=PhotoStatus.FAILED, failure_reason=reason[:500], updated_at=utcnow()))
    session.commit()
    return session.scalar(select(Photo.status).where(Photo.id == photo_id)) or "missing"


def start_attempt(session: Session, photo_id: int) -> None:
    """Count a processing attempt (the sweeper gives up on a photo after too many)."""
    session.execute(update(Photo).where(Photo.id == photo_id).values(
        attempts=Photo.attempts + 1, updated_at=utcnow()))
    session.commit()


def record_error(session: Session, photo_id: int, error: str) -> None:
    """Keep the last transient error on a still-pending photo, where staff can see it."""
    session.execute(update(Photo).where(
        Photo.id == photo_id, Photo.status == PhotoStatus.PENDING
    ).values(failure_reason=error[:500], updated_at=utcnow()))
    session.commit()


def give_up_on_exhausted(session: Session, max_attempts: int) -> int:
    """Mark photos that failed `max_attempts` times as failed, keeping their last error."""
    result = session.execute(update(Photo).where(
        Photo.status == PhotoStatus.PENDING, Photo.attempts >= max_attempts
    ).values(status=PhotoStatus.FAILED, updated_at=utcnow(),
             failure_reason=func.coalesce(Photo.failure_reason, "processing kept failing")))
    session.commit()
    return result.rowcount or 0


def pending_photo_ids(session: Session, updated_before: datetime, max_attempts: int
                      ) -> list[int]:
    """Photos still waiting for processing (e.g. their job was lost with Redis)."""
    return list(session.scalars(
        select(Photo.id).where(Photo.status == PhotoStatus.PENDING,
                               Photo.updated_at < updated_before,
                               Photo.attempts < max_attempts)
        .order_by(Photo.id)
    ))

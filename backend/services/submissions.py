"""A citizen's submission: a report with its photos, accepted together or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.errors import InvalidInput, NotFound
from backend.media.storage import PhotoStorage
from backend.models import Photo, Report
from backend.queue import JobQueue
from backend.services import photos as photo_service
from backend.services.city_cache import CitySnapshot
from backend.services.reports import CreatedReport, NewReport, create_report
from backend.tokens import hash_token


@dataclass(frozen=True)
class PhotoLimits:
    """How large and how many photos may be."""

    max_bytes: int
    max_pixels: int
    per_report: int
    far_m: float


def submit_report(session: Session, storage: PhotoStorage, jobs: JobQueue | None,
                  data: NewReport, uploads: Sequence[bytes], limits: PhotoLimits, *,
                  secret_key: str, idempotency_key: str | None = None, locale: str = "de",
                  snapshot: CitySnapshot | None = None, source: str = "api") -> CreatedReport:
    """Validate the photos, store originals, create the report and photo rows, then enqueue.

    Any refusal leaves nothing behind: files this call wrote are removed again when the
    report is not stored (or already existed under the same idempotency key).
    """
    # Photo checks and file writes are slow: no transaction may be open meanwhile (on SQLite
    # any transaction holds the write lock).
    session.commit()
    inspected = photo_service.inspect_uploads(
        uploads, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels,
        limit=limits.per_report,
    )
    pairs = list(zip(inspected, uploads, strict=True))
    written = photo_service.store_originals(storage, pairs)
    try:
        result = create_report(
            session, data, secret_key=secret_key, idempotency_key=idempotency_key,
            locale=locale, snapshot=snapshot, photos=inspected, source=source,
            review_flags=lambda lon, lat: photo_service.review_flags(
                inspected, lon, lat, limits.far_m,
                (data.photo_lat, data.photo_lon) if data.photo_lat is not None else None),
        )
    except BaseException:
        session.rollback()
        photo_service.discard(storage, written)
        raise
    if not result.created:
        photo_service.discard(storage, written)
    else:
        photo_service.ensure_originals(storage, pairs)
    photo_service.enqueue_processing(jobs, result.photo_ids)
    return result


def add_photos(session: Session, storage: PhotoStorage, jobs: JobQueue | None,
               public_id: str, tracking_token: str, uploads: Sequence[bytes],
               limits: PhotoLimits) -> list[Photo]:
    """Add photos to an existing report (the reporter's token required); same photo twice is
    stored once, so an offline retry adds nothing new."""
    session.commit()  # no transaction (SQLite: write lock) during the slow checks and writes
    inspected = photo_service.inspect_uploads(
        uploads, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels,
        limit=limits.per_report,
    )
    report = _report_for_token(session, public_id, tracking_token)
    known = _photo_hashes(session, report.id)
    session.commit()
    new, seen = [], set(known)
    for photo, data in zip(inspected, uploads, strict=True):
        if photo.sha256 not in seen:
            new.append((photo, data))
            seen.add(photo.sha256)
    _check_count(len(known), len(new), limits.per_report)
    written = photo_service.store_originals(storage, new)
    try:
        known = _photo_hashes(session, report.id)  # again, now inside the writing transaction
        new = [(photo, data) for photo, data in new if photo.sha256 not in known]
        _check_count(len(known), len(new), limits.per_report)
        rows = photo_service.photo_rows(report.id, [p for p, _ in new], len(known))
        flags = photo_service.review_flags(
            [p for p, _ in new], *_point(session, report.id), limits.far_m)
        if flags and not report.review_flags:
            report.review_flags = flags
        ids = photo_service.insert_photo_rows(session, rows)
        session.commit()
    except BaseException:
        session.rollback()
        photo_service.discard(storage, written)
        raise
    photo_service.ensure_originals(storage, new)
    photo_service.enqueue_processing(jobs, ids)
    by_sha = {p.original_sha256: p for p in session.scalars(
        select(Photo).where(Photo.report_id == report.id))}
    return [by_sha[photo.sha256] for photo in inspected]


def _report_for_token(session: Session, public_id: str, tracking_token: str) -> Report:
    report = session.scalar(select(Report).where(Report.public_id == public_id))
    if report is None or report.tracking_token_hash != hash_token(tracking_token):
        raise NotFound("No report with this id and tracking token.", {"id": ["not found"]})
    return report


def _photo_hashes(session: Session, report_id: int) -> set[str]:
    return set(session.scalars(select(Photo.original_sha256).where(
        Photo.report_id == report_id)))


def _check_count(existing: int, adding: int, limit: int) -> None:
    if existing + adding > limit:
        raise InvalidInput(
            f"A report can have at most {limit} photos.",
            {"photos": [f"this report has {existing}; at most {limit}"]},
        )


def _point(session: Session, report_id: int) -> tuple[float, float]:
    row = session.execute(select(func.ST_X(Report.geom), func.ST_Y(Report.geom))
                          .where(Report.id == report_id)).one()
    return float(row[0]), float(row[1])

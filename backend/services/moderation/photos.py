"""What staff do to a report's photos. Each action is checked like every staff report action
(`ReportAction.PHOTOS`: dispatchers and admins, the report's department scope), changes the
photo and writes its audit entry in one transaction, and only then hands a re-render to the
photo queue. The public keeps the copies it has until the re-render swapped them
(`backend.services.redaction.rerun.redo_photo`), so no unredacted image is public at any
moment; a withheld photo becomes public only when its re-render succeeded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import Conflict, InvalidInput, NotFound
from backend.media.redaction.regions import (
    REGION,
    STAFF,
    Region,
    regions_from_json,
    regions_json,
    turned,
)
from backend.media.storage import PhotoStorage
from backend.models import Photo, PhotoStatus, Report, StaffUser
from backend.models.base import utcnow
from backend.permissions import ReportAction
from backend.queue import JobQueue
from backend.services import photos as photo_service
from backend.services.redaction.rerun import SHOW_AFTER_RENDER
from backend.services.staff.actions import run_action

REDACT_JOB = "workers.photo_jobs.redact_photo"
MAX_STAFF_REGIONS = 50
MIN_SIDE = 0.005  # of the image's width or height: smaller is below a pixel of a thumbnail


@dataclass(frozen=True)
class PhotoResult:
    """What an action left: the report, the photo, whether a re-render was handed out."""

    report_id: str
    photo_id: str
    rerender: bool
    replayed: bool = False


def find_photo(session: Session, report: Report, photo_id: str) -> Photo:
    """A photo of this report by its public id (404 otherwise)."""
    photo = session.scalar(select(Photo).where(Photo.report_id == report.id,
                                               Photo.public_id == photo_id))
    if photo is None:
        raise NotFound("The report has no photo with this id.", {"photo": ["not found"]})
    return photo


def _has_original(storage: PhotoStorage, photo: Photo) -> bool:
    return photo.original_key is not None and storage.exists(photo.original_key)


def _renderable(photo: Photo) -> None:
    if photo.status == PhotoStatus.PENDING:
        raise Conflict("The photo is still being processed; try again in a moment.",
                       {"photo": ["still being processed"]})
    if photo.status == PhotoStatus.FAILED:
        raise Conflict("The photo could not be processed; there is nothing to change.",
                       {"photo": ["processing failed"]})


def _staff(photo: Photo) -> list[Region]:
    return regions_from_json((photo.redaction or {}).get(STAFF))


def _set_staff(photo: Photo, regions: list[Region]) -> None:
    # A new dict: the JSON column notices assignment, not changes inside it.
    photo.redaction = {**(photo.redaction or {}), STAFF: regions_json(regions)}


def _act(session: Session, user: StaffUser, report_id: str, photo_id: str, name: str,
         key: str | None, change: Any, jobs: JobQueue | None) -> PhotoResult:
    """Run `change(photo) -> (details, job)` as the audited action `photo_<name>`, then
    hand out the job it asked for ("redact", "process" or None) after the commit."""
    done: dict[str, Any] = {}

    def work(report: Report) -> tuple[dict[str, Any], list[int]]:
        photo = find_photo(session, report, photo_id)
        details, job = change(photo)
        photo.updated_at = utcnow()
        done.update(id=photo.id, job=job)
        return {"photo": photo.public_id, **details}, []

    result = run_action(session, user, report_id, ReportAction.PHOTOS, key, None, work,
                        audit_as=f"photo_{name}")
    job = done.get("job")
    if job == "redact" and jobs is not None:
        jobs.submit(REDACT_JOB, done["id"], job_id=f"redact-{done['id']}",
                    description=f"redact photo {done['id']}")
    elif job == "process":
        photo_service.enqueue_processing(jobs, [done["id"]])
    return PhotoResult(report_id, photo_id, job is not None, result.replayed)


def hide(session: Session, user: StaffUser, report_id: str, photo_id: str, *,
         key: str | None = None) -> PhotoResult:
    """Take a photo out of every public view and file at once (it stays for staff)."""
    def change(photo: Photo) -> tuple[dict[str, Any], None]:
        if photo.hidden_at is not None:
            raise Conflict("The photo is hidden already.", {"photo": ["hidden already"]})
        photo.hidden_at = utcnow()
        return {}, None
    return _act(session, user, report_id, photo_id, "hide", key, change, None)


def unhide(session: Session, user: StaffUser, report_id: str, photo_id: str, *,
           key: str | None = None, jobs: JobQueue | None = None) -> PhotoResult:
    """Let a hidden photo be public again (its public copies are the redacted ones; a photo
    that is not `ready` stays private until it is, one waiting for a new area to be drawn in
    until that is done)."""
    def change(photo: Photo) -> tuple[dict[str, Any], str | None]:
        if photo.hidden_at is None:
            raise Conflict("The photo is not hidden.", {"photo": ["not hidden"]})
        if (photo.redaction or {}).get(SHOW_AFTER_RENDER):
            # Hidden until its new area is drawn in: shown by that re-render, asked again
            # here in case the first job was lost.
            return {"after_render": True}, "redact"
        photo.hidden_at = None
        return {}, None
    return _act(session, user, report_id, photo_id, "unhide", key, change, jobs)


def _job_after_change(photo: Photo) -> str | None:
    """A ready photo is rendered again; a withheld one keeps the change for its release."""
    return "redact" if photo.status == PhotoStatus.READY else None


def rotate(session: Session, user: StaffUser, report_id: str, photo_id: str, degrees: int,
           *, key: str | None = None, jobs: JobQueue | None = None) -> PhotoResult:
    """Turn the photo `degrees` clockwise (90, 180, 270); the regions staff drew turn with
    it, the detectors look at the turned image again."""
    if degrees not in (90, 180, 270):
        raise InvalidInput("Turn by 90, 180 or 270 degrees.", {"degrees": ["90, 180 or 270"]})

    def change(photo: Photo) -> tuple[dict[str, Any], str | None]:
        _renderable(photo)
        before = photo.rotation or 0
        photo.rotation = (before + degrees) % 360
        _set_staff(photo, [turned(r, degrees) for r in _staff(photo)])
        return {"degrees": degrees, "rotation": photo.rotation}, _job_after_change(photo)
    return _act(session, user, report_id, photo_id, "rotate", key, change, jobs)


def add_region(session: Session, user: StaffUser, report_id: str, photo_id: str,
               box: tuple[float, float, float, float], *, key: str | None = None,
               jobs: JobQueue | None = None) -> PhotoResult:
    """Hide one more area: `box` is (x, y, width, height) as fractions of the turned image.
    A public photo is hidden until its re-render hides the area too (then shown again)."""
    x, y, w, h = box
    problems: dict[str, list[str]] = {}
    if w < MIN_SIDE:
        problems["width"] = [f"at least {MIN_SIDE}"]
    if h < MIN_SIDE:
        problems["height"] = [f"at least {MIN_SIDE}"]
    if x + w > 1.0 + 1e-9:
        problems.setdefault("width", []).append("x + width must be at most 1")
    if y + h > 1.0 + 1e-9:
        problems.setdefault("height", []).append("y + height must be at most 1")
    if problems:
        raise InvalidInput("The region does not fit the photo.", problems)
    region = Region(REGION, (x, y, min(1.0, x + w), min(1.0, y + h)), source=STAFF)

    def change(photo: Photo) -> tuple[dict[str, Any], str | None]:
        _renderable(photo)
        regions = _staff(photo)
        if len(regions) >= MAX_STAFF_REGIONS:
            raise Conflict(f"At most {MAX_STAFF_REGIONS} regions per photo.",
                           {"photo": [f"at most {MAX_STAFF_REGIONS} regions"]})
        _set_staff(photo, [*regions, region])
        if photo.status == PhotoStatus.READY and photo.hidden_at is None:
            # Its public copy shows what the area is to hide: private until the re-render
            # swaps in the copy that hides it (`rerun.redo_photo` shows it again then).
            photo.hidden_at = utcnow()
            photo.redaction = {**(photo.redaction or {}), SHOW_AFTER_RENDER: True}
        return {"box": region.as_json()["box"]}, _job_after_change(photo)
    return _act(session, user, report_id, photo_id, "region_add", key, change, jobs)


def remove_region(session: Session, storage: PhotoStorage, user: StaffUser, report_id: str,
                  photo_id: str, index: int, *, key: str | None = None,
                  jobs: JobQueue | None = None) -> PhotoResult:
    """Drop one staff region (by its place in the list); needs the original, because the
    public copies have it burnt in."""
    def change(photo: Photo) -> tuple[dict[str, Any], str | None]:
        _renderable(photo)
        regions = _staff(photo)
        if not 0 <= index < len(regions):
            raise NotFound("The photo has no staff region with this number.",
                           {"region": ["not found"]})
        if photo.status == PhotoStatus.READY and not _has_original(storage, photo):
            raise Conflict("The original was not kept: the area stays hidden.",
                           {"region": ["the original was not kept"]})
        removed = regions.pop(index)
        _set_staff(photo, regions)
        return {"box": removed.as_json()["box"]}, _job_after_change(photo)
    return _act(session, user, report_id, photo_id, "region_remove", key, change, jobs)


def restore(session: Session, storage: PhotoStorage, user: StaffUser, report_id: str,
            photo_id: str, *, key: str | None = None, jobs: JobQueue | None = None
            ) -> PhotoResult:
    """Back to the automatic result: no staff regions, no rotation, rendered again from the
    private original."""
    def change(photo: Photo) -> tuple[dict[str, Any], str | None]:
        _renderable(photo)
        if not _has_original(storage, photo):
            raise Conflict("The original was not kept: there is nothing to restore from.",
                           {"photo": ["the original was not kept"]})
        if not _staff(photo) and not photo.rotation:
            raise Conflict("The photo has no staff changes.", {"photo": ["nothing to restore"]})
        details = {"rotation": photo.rotation, "regions": len(_staff(photo))}
        photo.rotation = 0
        _set_staff(photo, [])
        return details, _job_after_change(photo)
    return _act(session, user, report_id, photo_id, "restore", key, change, jobs)


def release(session: Session, storage: PhotoStorage, user: StaffUser, report_id: str,
            photo_id: str, *, key: str | None = None, jobs: JobQueue | None = None
            ) -> PhotoResult:
    """Try a withheld photo again: the photo job renders it from the original with the
    detectors and the staff regions, and only when that succeeds is it `ready` (public unless
    hidden); a failing detector withholds it again."""
    def change(photo: Photo) -> tuple[dict[str, Any], str]:
        if photo.status != PhotoStatus.WITHHELD:
            raise Conflict("Only a withheld photo can be released.",
                           {"photo": [f"the photo is {photo.status}"]})
        if not _has_original(storage, photo):
            raise Conflict("The original is missing: the photo cannot be rendered.",
                           {"photo": ["the original is missing"]})
        return {"reason": photo.failure_reason}, "process"
    return _act(session, user, report_id, photo_id, "release", key, change, jobs)

"""Redaction again over photos already published (after a model or setting change): each
photo is rendered from its private original (or, where that was not kept, from its public
display copy) with the current detectors and the regions staff drew, then its public files
are swapped in one transaction. The public sees the old
copies until then and the new ones after, never an unredacted one; a photo the detectors
fail on is withheld instead. Resumable: what is done is what carries the current detector
version, so a second run continues where the first stopped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from backend.media.imaging import PhotoRejected
from backend.media.redaction.detect import VERSION
from backend.media.redaction.regions import regions_from_json, regions_json
from backend.media.redaction.render import Options, render_public
from backend.media.storage import PhotoStorage
from backend.models import Photo, PhotoDerivative, PhotoStatus
from backend.models.base import utcnow
from backend.services.photos import drop_unused_derivatives, replace_derivatives, withhold

BATCH = 100
# On `photo.redaction` while a new staff area is not drawn into the public copy yet: the
# photo is hidden meanwhile and shown again by the swap (backend.services.moderation).
SHOW_AFTER_RENDER = "show_after_render"


@dataclass
class Progress:
    """How far a run got."""

    todo: int = 0
    redacted: int = 0
    withheld: int = 0
    no_original: int = 0  # neither the original nor a display copy is left
    unreadable: int = 0

    @property
    def done(self) -> int:
        return self.redacted + self.withheld + self.no_original + self.unreadable

    def line(self) -> str:
        return (f"{self.done}/{self.todo}: {self.redacted} redacted again, {self.withheld} "
                f"withheld, {self.no_original} without any source, {self.unreadable} "
                "unreadable")


def _outdated(version: str) -> object:
    stored = Photo.redaction["version"].as_string()
    return and_(Photo.status == PhotoStatus.READY,
                or_(Photo.redaction.is_(None), stored.is_(None), stored != version))


def count_outdated(session: Session, version: str = VERSION) -> int:
    """Published photos not redacted by detectors of `version`."""
    return session.scalar(select(func.count()).select_from(Photo)
                          .where(_outdated(version))) or 0


def redo_photo(session: Session, storage: PhotoStorage, photo_id: int, options: Options
               ) -> str:
    """Render one published photo again; returns redacted, withheld, no_original or
    unreadable."""
    photo = session.get(Photo, photo_id)
    if photo is None or photo.status != PhotoStatus.READY:
        session.commit()
        return "unreadable"
    staff = regions_from_json((photo.redaction or {}).get("staff"))
    wanted = photo.rotation or 0
    key, rotation = photo.original_key, wanted
    if key is None or not storage.exists(key):
        # The original is gone (not kept): the published display copy is the very image
        # the detectors look at, upright and turned already (by the rotation it was
        # rendered with); it is turned by the difference and re-encoded once more.
        key = session.scalar(select(PhotoDerivative.storage_key).where(
            PhotoDerivative.photo_id == photo.id, PhotoDerivative.name == "display",
            PhotoDerivative.format == "jpeg"))
        rotation = (wanted - int((photo.redaction or {}).get("rotation") or 0)) % 360
        if key is None or not storage.exists(key):
            session.commit()
            return "no_original"
    session.commit()  # no transaction (SQLite: the write lock) while rendering
    try:
        rendered = render_public(storage.get(key), options, rotation=rotation, staff=staff)
    except PhotoRejected:
        return "unreadable"
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - not checkable now: no longer public
        withhold(session, photo, f"redaction failed: {type(exc).__name__}: {exc}")
        return "withheld"
    photo = session.get(Photo, photo_id)
    if photo is None or photo.status != PhotoStatus.READY:
        return "unreadable"  # hidden, withheld or deleted meanwhile: leave it
    if ((photo.rotation or 0) != wanted
            or (photo.redaction or {}).get("staff", []) != regions_json(staff)):
        session.commit()  # staff changed it meanwhile: their own job renders the new state
        return "redacted"
    stale = replace_derivatives(session, storage, photo, rendered.derivatives)
    if (photo.redaction or {}).get(SHOW_AFTER_RENDER):
        photo.hidden_at = None  # hidden while its new staff area was not drawn in yet
    photo.redaction = {"version": rendered.version, "auto": regions_json(rendered.found),
                       "staff": regions_json(staff), "rotation": wanted}
    photo.updated_at = utcnow()
    session.commit()
    drop_unused_derivatives(session, storage, stale)
    return "redacted"


def redo_all(session: Session, storage: PhotoStorage, options: Options, *,
             limit: int | None = None, report: Callable[[Progress], None] | None = None
             ) -> Progress:
    """Every published photo whose redaction is not the current one, oldest first
    (`options.enabled` must be true: without detectors there is nothing to redo)."""
    assert options.enabled, "photo redaction is off"
    version = VERSION
    progress = Progress(todo=count_outdated(session, version))
    if limit is not None:
        progress.todo = min(progress.todo, limit)
    after = 0
    while limit is None or progress.done < limit:
        ids = list(session.scalars(select(Photo.id).where(_outdated(version), Photo.id > after)
                                   .order_by(Photo.id)
                                   .limit(BATCH)))
        session.commit()
        if not ids:
            break
        for photo_id in ids:
            outcome = redo_photo(session, storage, photo_id, options)
            setattr(progress, outcome, getattr(progress, outcome) + 1)
            after = max(after, photo_id)
            if limit is not None and progress.done >= limit:
                break
        if report:
            report(progress)
    return progress

"""The private original as staff see it before deciding what to hide: display size, turned
as the photo is, not redacted, without metadata. Every view is audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.media.redaction.preview import preview_jpeg
from backend.media.storage import PhotoStorage
from backend.models import StaffUser
from backend.permissions import ReportAction, require_report_action
from backend.services.moderation.photos import find_photo
from backend.services.staff.actions import audit_entry
from backend.services.staff.detail import load_report


def private_preview(session: Session, storage: PhotoStorage, user: StaffUser,
                    report_id: str, photo_id: str) -> bytes:
    """The preview JPEG of a photo's original (404 when it was not kept); audited."""
    report = load_report(session, report_id)
    require_report_action(user, report.department_id, ReportAction.PHOTOS)
    photo = find_photo(session, report, photo_id)
    key, rotation = photo.original_key, photo.rotation or 0
    session.add(audit_entry(user, "photo_preview", report.id,
                            {"photo": photo.public_id}, None))
    session.commit()  # audited before anything is shown, even if the file turns out gone
    if key is None or not storage.exists(key):
        raise NotFound("The original of this photo was not kept.",
                       {"photo": ["the original was not kept"]})
    return preview_jpeg(storage.get(key), rotation)


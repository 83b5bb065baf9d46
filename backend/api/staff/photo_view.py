"""A report's photo as staff see it: its state, what its public copies hide, and where the
public and the private (staff-only, audited) images are."""

from __future__ import annotations

from typing import Any

from backend.api.presenters import public_photo
from backend.models import Photo, PhotoStatus
from backend.services.redaction.rerun import SHOW_AFTER_RENDER


def staff_photo_view(photo: Photo, report_id: str, base_url: str, photos_public: bool,
                     moderate: bool = True) -> dict[str, Any]:
    """One photo for the staff detail (never its EXIF facts' file, never the original);
    `moderate`: the caller may see the private preview."""
    redaction = photo.redaction or {}
    ready = photo.status == PhotoStatus.READY
    entry: dict[str, Any] = {
        "id": photo.public_id,
        "kind": photo.kind,
        "status": photo.status,
        "hidden": photo.hidden_at is not None,
        "hidden_at": photo.hidden_at,
        "public": ready and photo.hidden_at is None and photos_public,
        # hidden until the re-render with a new staff area is done (then public again)
        "hidden_until_redrawn": bool(redaction.get(SHOW_AFTER_RENDER)),
        "rotation": photo.rotation or 0,
        "regions": {"auto": list(redaction.get("auto") or []),
                    "staff": list(redaction.get("staff") or [])},
        "redaction_version": redaction.get("version"),
        "failure_reason": photo.failure_reason
        if photo.status in (PhotoStatus.WITHHELD, PhotoStatus.FAILED) else None,
        "has_original": photo.original_key is not None,
        "preview": f"{base_url}/api/v1/staff/reports/{report_id}/photos/{photo.public_id}"
                   "/preview" if moderate and photo.original_key is not None else None,
        "thumbnail": None,
        "display": None,
    }
    if ready:
        shown = public_photo(photo, base_url)
        entry.update(thumbnail=shown["thumb"], display=shown["display"])
    return entry

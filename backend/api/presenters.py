"""Turn stored rows into the dictionaries the output schemas dump (public data only)."""

from __future__ import annotations

from typing import Any

from backend.services.public_views.render import photo_path


def photo_url(base_url: str, sha256: str, fmt: str) -> str:
    """The public URL of a derivative."""
    return base_url + photo_path(sha256, fmt)


def public_photo(photo: Any, base_url: str) -> dict[str, Any]:
    """A ready photo's web sizes (never the original, never EXIF facts)."""
    sizes: dict[str, dict[str, Any]] = {}
    for d in photo.derivatives:
        size = sizes.setdefault(d.name, {"width": d.width, "height": d.height})
        size[d.format] = photo_url(base_url, d.sha256, d.format)
    return {"id": photo.public_id, "kind": getattr(photo, "kind", None) or "report",
            "display": sizes.get("display"), "thumb": sizes.get("thumb")}


def uploaded_photo(photo: Any) -> dict[str, Any]:
    """What the uploader learns about their photo: status, and where the photo says it was."""
    get = photo.get if isinstance(photo, dict) else lambda key: getattr(photo, key)
    has_place = get("exif_lat") is not None and get("exif_lon") is not None
    return {
        "id": get("public_id"),
        "status": get("status"),
        "location": {"lat": get("exif_lat"), "lon": get("exif_lon")} if has_place else None,
        "taken_at": get("taken_at"),
    }

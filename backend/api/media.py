"""Public photo files: only the re-encoded web sizes, immutable and named by their hash."""

from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy import select

from backend.api.context import session, storage
from backend.errors import NotFound
from backend.models import Photo, PhotoDerivative
from backend.services.redaction.visibility import public_photo

bp = Blueprint("media", __name__)

CONTENT_TYPES = {"jpg": ("jpeg", "image/jpeg"), "webp": ("webp", "image/webp")}


@bp.get("/media/photos/<sha256>.<ext>")
def photo_file(sha256: str, ext: str) -> Response:
    """A derivative of a ready photo, with long-lived caching and an ETag."""
    if ext not in CONTENT_TYPES or len(sha256) != 64:
        raise NotFound("No such photo.")
    fmt, content_type = CONTENT_TYPES[ext]
    key = session().scalar(
        select(PhotoDerivative.storage_key)
        .join(Photo, Photo.id == PhotoDerivative.photo_id)
        .where(PhotoDerivative.sha256 == sha256, PhotoDerivative.format == fmt,
               public_photo())
        .limit(1)
    )
    if key is None:
        raise NotFound("No such photo.")
    # The name is the content hash, so the file never changes: cache it for a year.
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "ETag": f'"{sha256}"'}
    if request.if_none_match.contains(sha256):
        return Response(status=304, headers=headers)
    try:
        data = storage().get(key)
    except FileNotFoundError as exc:
        raise NotFound("No such photo.") from exc
    return Response(data, mimetype=content_type,
                    headers={**headers, "X-Content-Type-Options": "nosniff"})

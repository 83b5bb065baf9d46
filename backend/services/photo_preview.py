"""A preview of a photo the browser cannot show itself (HEIC on most browsers): a small
upright JPEG without any metadata, and the position the photo's EXIF names, so the form can
offer "use the photo's location" as it does for a JPEG. Nothing is stored."""

from __future__ import annotations

import io
from dataclasses import dataclass

from backend.media.imaging import render_display
from backend.services.photos import inspect_uploads
from backend.services.submissions import PhotoLimits

PREVIEW_MAX = 480  # px on the long side: sharp in a 96 px tile on a 3x screen, small to send
PREVIEW_QUALITY = 75


@dataclass(frozen=True)
class PhotoPreview:
    jpeg: bytes
    width: int
    height: int
    place: tuple[float, float] | None  # (lat, lon) from the photo's EXIF


def preview_photo(data: bytes, limits: PhotoLimits) -> PhotoPreview:
    """Check the photo as an upload is checked (same errors, named `photos[0]`), then render
    the preview; raises the upload's DomainErrors."""
    [inspected] = inspect_uploads([data], max_bytes=limits.max_bytes,
                                  max_pixels=limits.max_pixels, limit=1)
    image = render_display(data, max_pixels=limits.max_pixels)
    image.thumbnail((PREVIEW_MAX, PREVIEW_MAX))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=PREVIEW_QUALITY)  # no exif or icc written
    place = inspected.facts.place
    return PhotoPreview(out.getvalue(), image.width, image.height,
                        (place.lat, place.lon) if place else None)

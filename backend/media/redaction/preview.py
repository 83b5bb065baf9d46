"""The staff preview of a private original: display size, upright, turned as staff asked,
re-encoded without any metadata, and NOT redacted (staff judge what to hide from it)."""

from __future__ import annotations

import io

from backend.media.imaging import render_display
from backend.media.redaction.render import turn


def preview_jpeg(data: bytes, rotation: int = 0) -> bytes:
    """A plain JPEG of the display copy (no EXIF, no ICC, no comments)."""
    image = turn(render_display(data), rotation).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()

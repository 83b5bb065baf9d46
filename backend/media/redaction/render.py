"""The public copies of a photo: upright, turned as staff asked, every face and plate hidden
(found by the detectors, or drawn by staff)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from backend.media.imaging import Derivative, encode_derivatives, render_display
from backend.media.redaction.blur import hide
from backend.media.redaction.detect import DETECT_MAX, PLATE_DETECT_MAX, VERSION, find_regions
from backend.media.redaction.regions import Region

ROTATIONS = (0, 90, 180, 270)
_TURN = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
         270: Image.Transpose.ROTATE_90}  # Pillow turns counter-clockwise


@dataclass(frozen=True)
class Options:
    """How to redact: `enabled` False publishes what staff drew only (for a city that has
    its photos reviewed by people before they are public)."""

    enabled: bool = True
    detect_max: int = DETECT_MAX
    face_model: str = ""
    plate_max: int = PLATE_DETECT_MAX


@dataclass(frozen=True)
class Rendered:
    """The four public files and the regions the detectors found in them."""

    derivatives: list[Derivative]
    found: list[Region]
    version: str | None


def turn(image: Image.Image, rotation: int) -> Image.Image:
    """The image turned `rotation` degrees clockwise (0, 90, 180 or 270)."""
    return image.transpose(_TURN[rotation]) if rotation in _TURN else image


def render_public(data: bytes, options: Options, *, rotation: int = 0,
                  staff: Sequence[Region] = ()) -> Rendered:
    """Render, turn (degrees clockwise), detect, hide. Raises PhotoRejected for a photo that
    cannot be rendered, and anything a detector raises (the photo then stays private)."""
    display = turn(render_display(data), rotation)
    found = find_regions(display, options.detect_max, options.face_model, options.plate_max) \
        if options.enabled else []
    hidden = hide(display, [*found, *staff])
    return Rendered(encode_derivatives(hidden), found, VERSION if options.enabled else None)

"""A staff region turns with the photo: after any turn it covers the same pixels, checked on
a real image turned by Pillow (no database)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from backend.media.redaction.preview import preview_jpeg
from backend.media.redaction.regions import REGION, STAFF, Region, turned
from backend.media.redaction.render import turn


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_a_turned_region_covers_the_same_pixels(degrees: int) -> None:
    rng = np.random.default_rng(degrees)
    image = Image.fromarray(rng.integers(0, 255, (60, 100, 3), dtype=np.uint8))
    region = Region(REGION, (0.1, 0.2, 0.45, 0.7), source=STAFF)
    x0, y0, x1, y1 = region.pixels(*image.size)
    inside = np.asarray(image)[y0:y1, x0:x1]
    after = turn(image, degrees)
    box = turned(region, degrees)
    tx0, ty0, tx1, ty1 = box.pixels(*after.size)
    # The same pixels, turned by the same amount (np.rot90 turns counter-clockwise).
    assert np.array_equal(np.asarray(after)[ty0:ty1, tx0:tx1],
                          np.rot90(inside, k=-(degrees // 90)))
    assert turned(turned(region, degrees), (360 - degrees) % 360).box == pytest.approx(region.box)
    assert box.kind == REGION and box.source == STAFF


def test_the_preview_is_turned_and_carries_no_metadata() -> None:
    image = Image.new("RGB", (80, 40), "red")
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x9003] = "2026:12:07 10:00:00"
    source = io.BytesIO()
    image.save(source, "JPEG", exif=exif.tobytes())
    shown = Image.open(io.BytesIO(preview_jpeg(source.getvalue(), 90)))
    assert shown.size == (40, 80)
    assert not shown.getexif() and "exif" not in shown.info and "icc_profile" not in shown.info

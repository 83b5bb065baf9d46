"""Hiding regions: the detail inside is gone for good, everything outside is untouched, and
the same input gives the same output."""

from __future__ import annotations

import numpy as np
from PIL import Image

from backend.media.redaction.blur import MARGIN, hide
from backend.media.redaction.regions import Region, regions_from_json, regions_json, relative


def _noise(width: int = 400, height: int = 300) -> Image.Image:
    rng = np.random.default_rng(19)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def test_the_region_loses_its_detail_and_the_rest_stays() -> None:
    image = _noise()
    region = relative("face", (100, 60, 180, 160), image.width, image.height, 0.9)
    out = np.asarray(hide(image, [region]), dtype=np.int16)
    before = np.asarray(image, dtype=np.int16)
    inside = out[60:160, 100:180]
    detail = lambda a: np.abs(np.diff(a, axis=1)).mean()  # noqa: E731
    assert detail(inside) < detail(before[60:160, 100:180]) / 10
    grow_x, grow_y = int(80 * MARGIN) + 1, int(100 * MARGIN) + 1
    outside = np.ones(before.shape[:2], dtype=bool)
    outside[60 - grow_y:160 + grow_y, 100 - grow_x:180 + grow_x] = False
    assert (out[outside] == before[outside]).all()
    # Deterministic: the same photo gives the same public bytes (content-addressed files).
    assert (np.asarray(hide(image, [region])) == out).all()


def test_nothing_to_hide_returns_the_image_itself() -> None:
    image = _noise(50, 40)
    assert hide(image, []) is image


def test_regions_are_relative_clipped_and_stored_round_trip() -> None:
    region = relative("plate", (-10, 20, 410, 150), 400, 300, source="staff")
    assert region.box == (0.0, 20 / 300, 1.0, 0.5)
    assert region.pixels(800, 600) == (0, 40, 800, 300)
    assert regions_from_json(regions_json([region])) == [
        Region("plate", (0.0, 0.0667, 1.0, 0.5), None, "staff")]
    assert regions_from_json(None) == []

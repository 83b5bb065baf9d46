"""Hiding regions for good: each (with a margin) is pixelated into a few coarse blocks, then
blurred over the blocks' edges. Nothing of the original detail survives either step, and the
result is deterministic (the same photo gives the same bytes)."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageFilter

from backend.media.redaction.regions import Region

MARGIN = 0.2  # of the box's size on each side: hair, chin, a plate's frame
BLOCKS = 6  # across the longer side of a box: a face becomes a few flat patches


def _grown(region: Region, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = region.pixels(width, height)
    dx, dy = int((x1 - x0) * MARGIN) + 1, int((y1 - y0) * MARGIN) + 1
    return max(0, x0 - dx), max(0, y0 - dy), min(width, x1 + dx), min(height, y1 + dy)


def hide(image: Image.Image, regions: Sequence[Region]) -> Image.Image:
    """A copy of `image` (RGB) with every region made unrecognisable; the image itself when
    there is nothing to hide."""
    if not regions:
        return image
    out = image.copy()
    for region in regions:
        box = _grown(region, out.width, out.height)
        w, h = box[2] - box[0], box[3] - box[1]
        if w < 2 or h < 2:
            continue
        block = max(2, max(w, h) // BLOCKS)
        patch = out.crop(box)
        coarse = patch.resize((max(1, w // block), max(1, h // block)), Image.Resampling.BOX)
        patch = coarse.resize((w, h), Image.Resampling.NEAREST)
        patch = patch.filter(ImageFilter.GaussianBlur(radius=max(1, block // 2)))
        out.paste(patch, box[:2])
    return out

"""What a redaction hides: boxes relative to the upright image (0–1 on each axis), so the same
list applies to the display copy, the thumbnail and any later size."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

FACE = "face"
PLATE = "plate"
REGION = "region"  # drawn by staff
KINDS = (FACE, PLATE, REGION)
AUTO, STAFF = "auto", "staff"


@dataclass(frozen=True)
class Region:
    """One box to hide: `box` is (x0, y0, x1, y1) as fractions of the width and height."""

    kind: str
    box: tuple[float, float, float, float]
    score: float | None = None
    source: str = AUTO

    def as_json(self) -> dict[str, Any]:
        """The stored form (rounded: 1/10,000 of a side is below a pixel of any copy)."""
        data: dict[str, Any] = {"kind": self.kind, "box": [round(v, 4) for v in self.box],
                                "source": self.source}
        if self.score is not None:
            data["score"] = round(self.score, 3)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Region:
        """A stored region (see `as_json`)."""
        x0, y0, x1, y1 = (float(v) for v in data["box"])
        return cls(str(data["kind"]), (x0, y0, x1, y1), data.get("score"),
                   str(data.get("source", AUTO)))

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The box in pixels of an image of this size (rounded outwards)."""
        x0, y0, x1, y1 = self.box
        return (max(0, math.floor(x0 * width)), max(0, math.floor(y0 * height)),
                min(width, math.ceil(x1 * width)), min(height, math.ceil(y1 * height)))


def relative(kind: str, box: Sequence[float], width: int, height: int,
             score: float | None = None, source: str = AUTO) -> Region:
    """A region from a pixel box of an image of `width` × `height`, clipped to the image."""
    x0, y0, x1, y1 = box
    clip = lambda v: min(1.0, max(0.0, v))  # noqa: E731
    return Region(kind, (clip(x0 / width), clip(y0 / height), clip(x1 / width),
                         clip(y1 / height)), score, source)


def regions_json(regions: Iterable[Region]) -> list[dict[str, Any]]:
    """The stored form of several regions."""
    return [r.as_json() for r in regions]


def regions_from_json(data: Iterable[dict[str, Any]] | None) -> list[Region]:
    """Stored regions back (none for None)."""
    return [Region.from_json(item) for item in data or ()]


def turned(region: Region, degrees: int) -> Region:
    """The same region after the image is turned `degrees` clockwise (0, 90, 180, 270), so a
    box staff drew keeps covering what it covered."""
    x0, y0, x1, y1 = region.box
    boxes = {0: (x0, y0, x1, y1), 90: (1 - y1, x0, 1 - y0, x1),
             180: (1 - x1, 1 - y1, 1 - x0, 1 - y0), 270: (y0, 1 - x1, y1, 1 - x0)}
    return Region(region.kind, boxes[degrees % 360], region.score, region.source)

"""How well the detectors hide what the labelled set (tests/data/redaction) says is there,
measured the way the photo job runs them: on the display copy of each photo.

A labelled face or plate counts as hidden when at least `HIDDEN_SHARE` of its box lies inside
the redacted area (the detections grown by the blur's margin): that is what protects a
person. A detection is a false alarm when less than `ON_TARGET_SHARE` of it lies on any
labelled box of its kind. Boxes marked small, crowd or depiction count neither way: hiding
them is no error, missing them no miss.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backend.media.imaging import render_display
from backend.media.redaction.blur import MARGIN
from backend.media.redaction.detect import DETECT_MAX, find_regions
from backend.media.redaction.regions import FACE, PLATE, Region
from tests.shared_data import shared_data_dir

DATA = Path(__file__).resolve().parents[3] / "data" / "redaction"
SHARED_PREFIX = "../shared/data/"
NEUTRAL = ("small", "crowd", "depiction")  # labels that count neither way
HIDDEN_SHARE = 0.7
ON_TARGET_SHARE = 0.3


@dataclass
class Tally:
    """Counts for one kind (face or plate)."""

    labelled: int = 0
    hidden: int = 0
    detections: int = 0
    false_alarms: int = 0
    missed: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.hidden / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return 1 - self.false_alarms / self.detections if self.detections else 1.0


def labelled_images() -> Iterator[tuple[Path, int, int, list[dict]]]:
    """(file, width, height, boxes) of every labelled photo."""
    data = json.loads((DATA / "labels.json").read_text())
    for item in data["images"]:
        path = DATA / item["file"]
        shared = item.get("path", "")
        if shared.startswith(SHARED_PREFIX):  # a negative from the shared photos
            path = shared_data_dir() / shared[len(SHARED_PREFIX):]
        yield path, item["width"], item["height"], item.get("boxes", [])


def _mask(shape: tuple[int, int], regions: list[Region], grow: float) -> np.ndarray:
    height, width = shape
    mask = np.zeros(shape, dtype=bool)
    for region in regions:
        x0, y0, x1, y1 = region.pixels(width, height)
        dx, dy = int((x1 - x0) * grow), int((y1 - y0) * grow)
        mask[max(0, y0 - dy):y1 + dy, max(0, x0 - dx):x1 + dx] = True
    return mask


def measure(detect_max: int = DETECT_MAX) -> dict[str, Tally]:
    """Run the detectors over the labelled set; a tally per kind."""
    tallies = {FACE: Tally(), PLATE: Tally()}
    for path, width, height, boxes in labelled_images():
        display = render_display(path.read_bytes())
        shape = (display.height, display.width)
        found = find_regions(display, detect_max)
        labels = [Region(b["kind"], (b["box"][0] / width, b["box"][1] / height,
                                     b["box"][2] / width, b["box"][3] / height))
                  for b in boxes]
        small = [any(b.get(flag) for flag in NEUTRAL) for b in boxes]
        for kind, tally in tallies.items():
            hidden = _mask(shape, [r for r in found if r.kind == kind], MARGIN)
            for label, is_small in zip(labels, small, strict=True):
                if label.kind != kind or is_small:
                    continue
                tally.labelled += 1
                box = _mask(shape, [label], 0.0)
                share = (hidden & box).sum() / max(1, box.sum())
                if share >= HIDDEN_SHARE:
                    tally.hidden += 1
                else:
                    tally.missed.append(f"{path.name} {label.box}")
            target = _mask(shape, [r for r in labels if r.kind == kind], 0.0)
            for region in (r for r in found if r.kind == kind):
                tally.detections += 1
                area = _mask(shape, [region], 0.0)
                if (area & target).sum() / max(1, area.sum()) < ON_TARGET_SHARE:
                    tally.false_alarms += 1
                    tally.alarms.append(f"{path.name} {region.box}")
    return tallies


def report(tallies: dict[str, Tally]) -> str:
    """One line per kind."""
    return "\n".join(
        f"{kind}: recall {t.recall:.0%} ({t.hidden}/{t.labelled}), precision "
        f"{t.precision:.0%} ({t.detections - t.false_alarms}/{t.detections})"
        for kind, t in tallies.items())

"""Both detectors on the image that becomes public, loaded once per process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from backend.media.redaction.faces import DetectorUnavailable, FaceDetector
from backend.media.redaction.plates import PlateDetector
from backend.media.redaction.regions import FACE, PLATE, Region, relative

# Stored with every redacted photo: `maengelmelder photos redact` re-runs the photos whose
# version differs after a model or setting change.
VERSION = "centerface-1+plates-haar-1"
DETECT_MAX = 1280  # detection runs on a copy this long at most (the display copy is 1600)


@dataclass
class Detectors:
    """The loaded models (about 0.2 s to load; kept for the life of the process)."""

    faces: FaceDetector
    plates: PlateDetector


_loaded: dict[str, Detectors] = {}
_lock = threading.Lock()


def detectors(face_model: str = "") -> Detectors:
    """The process's detectors (`face_model`: another CenterFace file than the installed
    one), loaded on first use: a worker loads them before it forks its job processes, which
    then share them."""
    with _lock:
        if face_model not in _loaded:
            _loaded[face_model] = Detectors(
                FaceDetector(Path(face_model) if face_model else None), PlateDetector())
        return _loaded[face_model]


def find_regions(image: Image.Image, detect_max: int = DETECT_MAX,
                 face_model: str = "") -> list[Region]:
    """Faces and plates in `image` (upright RGB), as relative regions.

    Raises DetectorUnavailable when a model is missing, and whatever a model raises: the
    caller then keeps the photo private, never publishes it undetected.
    """
    loaded = detectors(face_model)
    small = image
    if max(image.size) > detect_max:
        factor = detect_max / max(image.size)
        small = image.resize((max(1, round(image.width * factor)),
                              max(1, round(image.height * factor))), Image.Resampling.BILINEAR)
    rgb = np.asarray(small.convert("RGB"))
    found: list[Region] = []
    for kind, detect in ((FACE, loaded.faces.detect), (PLATE, loaded.plates.detect)):
        for x0, y0, x1, y1, score in detect(rgb):
            found.append(relative(kind, (x0, y0, x1, y1), small.width, small.height, score))
    return found


Finder = Callable[[Image.Image], list[Region]]

__all__ = ["VERSION", "DetectorUnavailable", "Finder", "detectors", "find_regions"]

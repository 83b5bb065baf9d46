"""Both detectors on the image that becomes public, loaded once per process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from backend.media.redaction.faces import DetectorUnavailable, FaceDetector
from backend.media.redaction.plates import PlateDetector
from backend.media.redaction.regions import FACE, PLATE, Region, relative

# Stored with every redacted photo: `maengelmelder photos redact` re-runs the photos whose
# version differs after a model or setting change.
VERSION = "centerface-1+plates-haar-2"
DETECT_MAX = 1280  # faces are looked for on a copy this long at most (the display copy is 1600)
# Plates on one this long: as many plates of the labelled set found as at 1280, at 2/3 of
# the cost (ADR 0016).
PLATE_DETECT_MAX = 1024


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


def _copy(image: Image.Image, longest: int) -> np.ndarray:
    """`image` as an RGB array at most `longest` pixels long."""
    if max(image.size) > longest:
        factor = longest / max(image.size)
        image = image.resize((max(1, round(image.width * factor)),
                              max(1, round(image.height * factor))), Image.Resampling.BILINEAR)
    return np.asarray(image.convert("RGB"))


def find_regions(image: Image.Image, detect_max: int = DETECT_MAX, face_model: str = "",
                 plate_max: int = PLATE_DETECT_MAX) -> list[Region]:
    """Faces and plates in `image` (upright RGB), as relative regions. Faces are looked for
    on a copy at most `detect_max` long, plates on one at most `plate_max` long (never
    longer than the faces' copy).

    The face model and the plate cascade's two bands of scales run at the same time on
    threads of this call (onnxruntime and OpenCV release the GIL; the threads are made here,
    in the job process, never inherited across a fork), so a photo takes about half the CPU
    time on two cores.

    Raises DetectorUnavailable when a model is missing, and whatever a model raises: the
    caller then keeps the photo private, never publishes it undetected.
    """
    loaded = detectors(face_model)
    face_rgb = _copy(image, detect_max)
    rgb = np.asarray(image.convert("RGB"))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="detect") as pool:
        faces = pool.submit(loaded.faces.detect, face_rgb)
        plates = loaded.plates.detect(rgb, min(plate_max or detect_max, detect_max),
                                      run=lambda work: pool.submit(work).result)
        found = [_region(FACE, box, face_rgb) for box in faces.result()]
    return found + [_region(PLATE, box, rgb) for box in plates]


def _region(kind: str, box: tuple[float, float, float, float, float],
            rgb: np.ndarray) -> Region:
    x0, y0, x1, y1, score = box
    return relative(kind, (x0, y0, x1, y1), rgb.shape[1], rgb.shape[0], score)


Finder = Callable[[Image.Image], list[Region]]

__all__ = ["VERSION", "DetectorUnavailable", "Finder", "detectors", "find_regions"]

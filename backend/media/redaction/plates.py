"""Licence plates, found by a Haar cascade that OpenCV ships inside its wheel (trained on
plates of the same shape as European ones: one line of dark characters on a light ground,
about 4.5 : 1). See the ADR for what it finds and misses on our labelled set.

The cascade scans a pyramid of scales; the finest scales (small plates, the whole image at
almost full size) cost as much as all the others together. So the work is split into two
bands of scales that run at the same time on two threads, each with its own classifier
(a classifier keeps per-image state), and their raw hits are grouped together exactly as
OpenCV groups them in one call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from backend.media.redaction.faces import DetectorUnavailable
from backend.media.redaction.nms import suppress

CASCADE = "haarcascade_russian_plate_number.xml"
SCALE_STEP = 1.05
MIN_NEIGHBOURS = 3  # measured on the labelled set: see the ADR
MIN_SIZE = (60, 20)  # the cascade's own window: nothing smaller is found anyway
GROUP_EPS = 0.2  # OpenCV's own, so that two bands group like one call
# Window width where the fine band ends: the scales below √2 hold about half of the work.
SPLIT_WIDTH = 84
NMS_IOU = 0.3

Box = tuple[float, float, float, float, float]
Runner = Callable[[Callable[[], list[tuple[int, int, int, int]]]],
                  Callable[[], list[tuple[int, int, int, int]]]]


def _inline(work: Callable[[], list[tuple[int, int, int, int]]]
            ) -> Callable[[], list[tuple[int, int, int, int]]]:
    result = work()
    return lambda: result


class _Band:
    """One classifier scanning the window widths `min_width`..`max_width`."""

    def __init__(self, cv2, path: Path, min_size: tuple[int, int],
                 max_size: tuple[int, int]) -> None:
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise DetectorUnavailable(f"{path} is missing or unreadable")
        self.min_size, self.max_size = min_size, max_size
        self._lock = threading.Lock()

    def hits(self, grey: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Every window the cascade accepted, ungrouped (x, y, w, h)."""
        with self._lock:
            found = self.cascade.detectMultiScale(
                grey, scaleFactor=SCALE_STEP, minNeighbors=0, minSize=self.min_size,
                maxSize=self.max_size)
        return [tuple(int(v) for v in rect) for rect in found]  # type: ignore[misc]


class PlateDetector:
    """OpenCV's plate cascade on an equalised grey copy of the image (single-threaded OpenCV:
    fork-safe; the two bands run on threads the caller provides)."""

    def __init__(self) -> None:
        try:
            import cv2
        except ImportError as exc:
            raise DetectorUnavailable("opencv-python-headless is not installed") from exc
        cv2.setNumThreads(1)
        path = Path(cv2.data.haarcascades) / CASCADE
        # maxSize stops the fine band at SPLIT_WIDTH; the coarse band starts one pixel wider.
        # Window sizes grow with the scale, so the two bands split the very same scales.
        self.fine = _Band(cv2, path, MIN_SIZE, (SPLIT_WIDTH, 1 << 20))
        self.coarse = _Band(cv2, path, (SPLIT_WIDTH + 1, MIN_SIZE[1]), (0, 0))
        self._cv2 = cv2

    def detect(self, rgb: np.ndarray, longest: int = 0, run: Runner = _inline) -> list[Box]:
        """Plate boxes (x0, y0, x1, y1, score) in pixels of `rgb` (H × W × 3, uint8), looked
        for on a copy at most `longest` pixels long (0: as it is); the score is the number of
        raw hits that agreed, scaled to 0–1. `run` starts the coarse band elsewhere (a thread
        pool's submit-and-wait) while this thread scans the fine one.
        """
        cv2 = self._cv2
        height, width = rgb.shape[:2]
        factor = longest / max(height, width) if 0 < longest < max(height, width) else 1.0
        if factor < 1.0:
            rgb = cv2.resize(rgb, (max(1, round(width * factor)), max(1, round(height * factor))),
                             interpolation=cv2.INTER_AREA)
        grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        grouped, neighbours = self.group(grey, run)
        if len(grouped) == 0:
            return []
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in grouped],
                         dtype=np.float64) / factor
        scores = np.clip(np.asarray(neighbours, dtype=np.float64).reshape(-1) / 12.0, 0.0, 1.0)
        keep = suppress(boxes, scores, NMS_IOU)
        return [(*map(float, boxes[i]), float(scores[i])) for i in keep]

    def group(self, grey: np.ndarray, run: Runner = _inline
              ) -> tuple[list[tuple[int, int, int, int]], list[int]]:
        """The plate windows (x, y, w, h) in an equalised grey image and how many raw hits
        each stands for: what one `detectMultiScale` call with MIN_NEIGHBOURS would give."""
        coarse = run(lambda: self.coarse.hits(grey))
        hits = self.fine.hits(grey) + coarse()
        if len(hits) <= MIN_NEIGHBOURS:
            return [], []
        grouped, neighbours = self._cv2.groupRectangles(hits, MIN_NEIGHBOURS, GROUP_EPS)
        return ([tuple(int(v) for v in rect) for rect in grouped],  # type: ignore[misc]
                [int(n) for n in np.asarray(neighbours).reshape(-1)])

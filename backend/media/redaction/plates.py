"""Licence plates, found by a Haar cascade that OpenCV ships inside its wheel (trained on
plates of the same shape as European ones: one line of dark characters on a light ground,
about 4.5 : 1). See the ADR for what it finds and misses on our labelled set."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from backend.media.redaction.faces import DetectorUnavailable
from backend.media.redaction.nms import suppress

CASCADE = "haarcascade_russian_plate_number.xml"
SCALE_STEP = 1.05
MIN_NEIGHBOURS = 3  # measured on the labelled set: see the ADR
MIN_SIZE = (60, 20)  # the cascade's own window: nothing smaller is found anyway
NMS_IOU = 0.3


class PlateDetector:
    """OpenCV's plate cascade on a grey copy of the image (single-threaded, fork-safe)."""

    def __init__(self) -> None:
        try:
            import cv2
        except ImportError as exc:
            raise DetectorUnavailable("opencv-python-headless is not installed") from exc
        cv2.setNumThreads(1)
        path = Path(cv2.data.haarcascades) / CASCADE
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise DetectorUnavailable(f"{path} is missing or unreadable")
        self._cv2 = cv2
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[tuple[float, float, float, float, float]]:
        """Plate boxes (x0, y0, x1, y1, score) in pixels of `rgb` (H × W × 3, uint8); the
        score is the number of overlapping detections that agreed, scaled to 0–1."""
        grey = self._cv2.cvtColor(rgb, self._cv2.COLOR_RGB2GRAY)
        grey = self._cv2.equalizeHist(grey)
        with self._lock:
            found, _levels, weights = self.cascade.detectMultiScale3(
                grey, scaleFactor=SCALE_STEP, minNeighbors=MIN_NEIGHBOURS,
                minSize=MIN_SIZE, outputRejectLevels=True)
        if len(found) == 0:
            return []
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in found], dtype=np.float64)
        scores = np.clip(np.asarray(weights, dtype=np.float64).reshape(-1) / 4.0, 0.0, 1.0)
        keep = suppress(boxes, scores, NMS_IOU)
        return [(*map(float, boxes[i]), float(scores[i])) for i in keep]

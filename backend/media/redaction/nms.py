"""Non-maximum suppression: of boxes that overlap much, keep the most confident."""

from __future__ import annotations

import numpy as np


def suppress(boxes: np.ndarray, scores: np.ndarray, max_iou: float) -> list[int]:
    """Indices of the boxes (N × 4: x0, y0, x1, y1) to keep, best first."""
    order = list(np.argsort(-scores))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order:
        best = order.pop(0)
        keep.append(int(best))
        if not order:
            break
        rest = np.array(order)
        x0 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[best, 3], boxes[rest, 3])
        overlap = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        iou = overlap / (areas[best] + areas[rest] - overlap + 1e-9)
        order = [int(i) for i, o in zip(rest, iou, strict=True) if o <= max_iou]
    return keep

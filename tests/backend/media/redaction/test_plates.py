"""The plate cascade split into two bands of scales finds exactly what one OpenCV call finds."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from backend.media.redaction import plates
from backend.media.redaction.plates import PlateDetector

DATA = Path(__file__).resolve().parents[3] / "data" / "redaction"


@pytest.mark.parametrize("name", ["plate_flickr_3853685157.jpg", "plate_flickr_6011433427.jpg",
                                  "street_azure_rome.jpg", "plate_egoblur_parking.jpg"])
def test_two_bands_on_two_threads_group_like_one_call(name: str) -> None:
    rgb = np.asarray(Image.open(DATA / name).convert("RGB"))
    grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    detector = PlateDetector()
    one_call = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / plates.CASCADE))
    expected = one_call.detectMultiScale(grey, scaleFactor=plates.SCALE_STEP,
                                         minNeighbors=plates.MIN_NEIGHBOURS,
                                         minSize=plates.MIN_SIZE)
    with ThreadPoolExecutor(max_workers=1) as pool:
        grouped, neighbours = detector.group(grey, run=lambda work: pool.submit(work).result)
    assert sorted(grouped) == sorted(tuple(int(v) for v in r) for r in expected)
    assert all(n > plates.MIN_NEIGHBOURS for n in neighbours)


def test_plates_are_found_on_a_smaller_copy_and_given_in_the_callers_pixels() -> None:
    name = "plate_flickr_3853685157.jpg"
    labels = json.loads((DATA / "labels.json").read_text())["images"]
    (x0, y0, x1, y1), = (box["box"] for item in labels if item["file"] == name
                         for box in item["boxes"] if box["kind"] == "plate")
    rgb = np.asarray(Image.open(DATA / name).convert("RGB"))
    height, width = rgb.shape[:2]
    for longest in (0, 900):
        found = PlateDetector().detect(rgb, longest=longest)
        assert all(0 <= b[0] < b[2] <= width and 0 <= b[1] < b[3] <= height and 0 < b[4] <= 1
                   for b in found)
        # the labelled plate is covered in the caller's pixels, whatever size was searched
        assert any(b[0] <= x0 + 0.1 * (x1 - x0) and b[2] >= x1 - 0.1 * (x1 - x0)
                   and b[1] <= y0 + 0.2 * (y1 - y0) and b[3] >= y1 - 0.2 * (y1 - y0)
                   for b in found), (longest, found)

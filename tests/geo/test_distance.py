"""Geodesic distances from one point to many."""

from __future__ import annotations

import numpy as np
import pytest

from geo.distance import distances_m
from geo.photo_exif import distance_m as haversine_m

MARIENPLATZ = (11.5755, 48.1374)


def test_distances_agree_with_the_haversine_within_half_a_percent() -> None:
    lons = np.array([11.5600, 11.5465, 11.6247, 11.6950, 11.5755])
    lats = np.array([48.1402, 48.1731, 48.2188, 48.1360, 48.1374])

    found = distances_m(*MARIENPLATZ, lons, lats)

    expected = [haversine_m(MARIENPLATZ[1], MARIENPLATZ[0], lat, lon)
                for lon, lat in zip(lons, lats, strict=True)]
    assert found[-1] == 0.0
    assert found[:-1] == pytest.approx(expected[:-1], rel=0.005)


def test_no_points_no_distances() -> None:
    assert distances_m(*MARIENPLATZ, np.array([]), np.array([])).size == 0

"""Distances on the WGS84 ellipsoid."""

from __future__ import annotations

import numpy as np
import pyproj

_GEOD = pyproj.Geod(ellps="WGS84")


def distances_m(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Geodesic distances in metres from one point to many (WGS84, Karney's algorithm)."""
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    if lons.size == 0:
        return np.empty(0)
    _, _, dist = _GEOD.inv(np.full(lons.shape, lon), np.full(lats.shape, lat), lons, lats)
    return np.asarray(dist, dtype=float)

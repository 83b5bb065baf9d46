"""The map's clustering grid: square cells of a fixed size on screen at each zoom level of
the web map (Web Mercator tiles of 256 px), as pure vectorised functions.

A cell is `CELL_PX` screen pixels wide at its zoom, so a zoomed-out map shows at most a few
hundred clusters whatever the number of reports; cell (z, x, y) covers the same ground for
every client, which makes answers shareable and cacheable.
"""

from __future__ import annotations

import math

import numpy as np

CELL_PX = 64
CELLS_PER_TILE = 256 // CELL_PX
MAX_LAT = 85.05112878


def cells_across(zoom: int) -> int:
    """How many cells span the world's width at `zoom`."""
    return (1 << zoom) * CELLS_PER_TILE


def cell_xy(lons: np.ndarray, lats: np.ndarray, zoom: int) -> tuple[np.ndarray, np.ndarray]:
    """The cell column and row (integers) of each point at `zoom`."""
    n = cells_across(zoom)
    lat = np.radians(np.clip(lats, -MAX_LAT, MAX_LAT))
    x = np.floor((np.asarray(lons) + 180.0) / 360.0 * n)
    y = np.floor((1.0 - np.log(np.tan(lat) + 1.0 / np.cos(lat)) / math.pi) / 2.0 * n)
    return np.clip(x, 0, n - 1).astype(np.int64), np.clip(y, 0, n - 1).astype(np.int64)


def cell_range(bbox: tuple[float, float, float, float], zoom: int
               ) -> tuple[int, int, int, int]:
    """The cells (x0, y0, x1, y1, inclusive) a lon/lat box touches at `zoom`."""
    minx, miny, maxx, maxy = bbox
    xs, ys = cell_xy(np.array([minx, maxx]), np.array([maxy, miny]), zoom)
    return int(xs[0]), int(ys[0]), int(xs[1]), int(ys[1])


def cell_bounds(zoom: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The lon/lat box (minLon, minLat, maxLon, maxLat) of a cell."""
    n = cells_across(zoom)

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return (x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y))

"""Grid clusters of the reports matching a filter, at one zoom level of the map.

The whole city's cells are counted once per zoom, filter and version of the points (a few
milliseconds per 100,000 reports, with numpy), then each request only slices the cells of
its viewport.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from backend.jsonout import safe_json
from backend.services.public_map.points import STATUS_INDEX, Points
from geo.map_grid import cell_bounds, cell_range, cell_xy

MIN_ZOOM, MAX_ZOOM = 3, 16
_CACHE_SIZE = 64


@dataclass(frozen=True)
class ClusterFilter:
    """Which reports are counted."""

    zoom: int
    statuses: frozenset[str] | None = None
    category_ids: frozenset[int] | None = None
    updated_after: int | None = None  # microseconds since the epoch


@dataclass(frozen=True)
class CellCounts:
    """The non-empty cells: their column, row, count, and each one's GeoJSON feature already
    rendered (a request only picks the cells of its viewport)."""

    xs: np.ndarray
    ys: np.ndarray
    count: np.ndarray
    features: list[bytes]


def count_cells(points: Points, flt: ClusterFilter) -> CellCounts:
    """Count the matching points per cell, and render each cell's feature."""
    mask = np.ones(len(points.ids), bool)
    if flt.statuses is not None:
        mask &= np.isin(points.status, [STATUS_INDEX[s] for s in flt.statuses])
    if flt.category_ids is not None:
        mask &= np.isin(points.category, list(flt.category_ids))
    if flt.updated_after is not None:
        mask &= points.updated >= flt.updated_after
    lon, lat = points.lon[mask], points.lat[mask]
    if not len(lon):
        none = np.zeros(0, np.int64)
        return CellCounts(none, none, none, [])
    xs, ys = cell_xy(lon, lat, flt.zoom)
    x0, y0 = int(xs.min()), int(ys.min())
    ny = int(ys.max()) - y0 + 1
    size = (int(xs.max()) - x0 + 1) * ny
    flat = (xs - x0) * ny + (ys - y0)
    count = np.bincount(flat, minlength=size)
    filled = np.nonzero(count)[0]
    n = count[filled]
    mean_lon = np.bincount(flat, weights=lon, minlength=size)[filled] / n
    mean_lat = np.bincount(flat, weights=lat, minlength=size)[filled] / n
    cx, cy = filled // ny + x0, filled % ny + y0
    features = [safe_json({
        "type": "Feature",
        "id": f"{flt.zoom}/{x}/{y}",
        "geometry": {"type": "Point", "coordinates": [round(float(mx), 6), round(float(my), 6)]},
        "properties": {"count": int(k),
                       "bbox": [round(v, 6) for v in cell_bounds(flt.zoom, int(x), int(y))]},
    }) for x, y, k, mx, my in zip(cx, cy, n, mean_lon, mean_lat, strict=True)]
    return CellCounts(cx, cy, n, features)


class ClusterCache:
    """Cell counts by (filter, version of the points), the most recently used kept."""

    def __init__(self) -> None:
        self._cells: OrderedDict[ClusterFilter, tuple[int, CellCounts]] = OrderedDict()

    def cells(self, points: Points, flt: ClusterFilter) -> CellCounts:
        found = self._cells.get(flt)
        if found is None or found[0] != points.version:
            found = (points.version, count_cells(points, flt))
            self._cells[flt] = found
            if len(self._cells) > _CACHE_SIZE:
                self._cells.popitem(last=False)
        self._cells.move_to_end(flt)
        return found[1]


def clusters_in(cells: CellCounts, zoom: int, bbox: tuple[float, float, float, float]
                ) -> tuple[list[bytes], int]:
    """The rendered features of the non-empty cells the box touches (a point at the mean
    position of the cell's reports, the count, the cell's id and bounds), and their total."""
    if not len(cells.xs):
        return [], 0
    x0, y0, x1, y1 = cell_range(bbox, zoom)
    inside = np.nonzero((cells.xs >= x0) & (cells.xs <= x1)
                        & (cells.ys >= y0) & (cells.ys <= y1))[0]
    return [cells.features[i] for i in inside], int(cells.count[inside].sum())

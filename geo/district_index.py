"""Fast point-in-district lookup: a uniform grid answers most points without a polygon test."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# Bound once: a module global is cheaper to reach than an attribute chain on the hot path.
# (Calling shapely.lib.intersects_xy directly would save ~1 µs per boundary-cell test, but that
# is private API and the public call is already fast enough.)
_intersects_xy = shapely.intersects_xy

_METERS_PER_DEGREE = 111_320.0
# Cell boxes are widened by this much (degrees, ~0.1 mm) when classifying them, so that float
# rounding of the cell index in lookup() can never land a point in a cell classified too boldly.
_EPS = 1e-9
_EMPTY, _MIXED = -1, -2


class DistrictIndex:
    """Answer "which district contains this lon/lat point?" in well under a microsecond.

    A grid over the layer's bbox stores per cell: "inside district X" (answered from the grid
    alone), "outside all" (None), or the candidate districts whose boundary crosses the cell;
    only those few boundary cells run a prepared point-in-polygon test. Points are covered by
    a district if inside it or on its boundary; on a shared border the district given first
    wins, so the answer is deterministic and never None inside the union of all districts.
    """

    def __init__(
        self,
        districts: Iterable[tuple[str, BaseGeometry]],
        cell_size_m: float = 100.0,
        max_cells: int = 4_000_000,
    ) -> None:
        numbers: list[str] = []
        geoms: list[BaseGeometry] = []
        for number, geom in districts:
            if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
                raise ValueError(f"district {number!r}: need a non-empty (Multi)Polygon")
            numbers.append(str(number))
            geoms.append(geom)
        if not geoms:
            raise ValueError("a DistrictIndex needs at least one district")
        if not cell_size_m > 0:
            raise ValueError("cell_size_m must be positive")
        shapely.prepare(geoms)
        # GEOS builds a prepared geometry's point locator lazily on first use; do that now, in
        # one thread, so concurrent lookups later only ever read it.
        shapely.intersects_xy(np.array(geoms, dtype=object), 0.0, 0.0)
        self._numbers = tuple(numbers)
        self._geoms = tuple(geoms)
        x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(geoms))
        self._x0, self._y0, self._x1, self._y1 = x0, y0, x1, y1
        cw, ch = _cell_size_degrees(self.bounds, cell_size_m, max_cells)
        self._cw, self._ch = cw, ch
        self._inv_w, self._inv_h = 1.0 / cw, 1.0 / ch
        # Same expression as in lookup(), so a point on the max edge still maps to a real cell.
        self._ncols = int((x1 - x0) * self._inv_w) + 1
        self._nrows = int((y1 - y0) * self._inv_h) + 1
        self._build()

    @property
    def numbers(self) -> tuple[str, ...]:
        """Return the district numbers in priority order (as given)."""
        return self._numbers

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Return the bbox (min lon, min lat, max lon, max lat) of all districts."""
        return (self._x0, self._y0, self._x1, self._y1)

    def __len__(self) -> int:
        """Return the number of districts."""
        return len(self._numbers)

    def geometries(self) -> tuple[tuple[str, BaseGeometry], ...]:
        """(number, polygon) of every district, in priority order."""
        return tuple(zip(self._numbers, self._geoms, strict=True))

    def representative_points(self) -> dict[str, tuple[float, float]]:
        """A point surely inside each district (lon, lat), e.g. to stand for it on a form."""
        return {
            number: (float(p.x), float(p.y))
            for number, p in zip(self._numbers, shapely.point_on_surface(self._geoms), strict=True)
        }

    def lookup(self, lon: float, lat: float) -> str | None:
        """Return the number of the district covering (lon, lat), or None outside all."""
        # NaN fails these comparisons too and so yields None.
        if not (self._x0 <= lon <= self._x1 and self._y0 <= lat <= self._y1):
            return None
        cell = self._cells[
            int((lat - self._y0) * self._inv_h) * self._ncols + int((lon - self._x0) * self._inv_w)
        ]
        if cell is None or cell.__class__ is str:
            return cell
        for number, geom in cell:
            if _intersects_xy(geom, lon, lat):
                return number
        return None

    def lookup_many(self, lons: np.ndarray, lats: np.ndarray) -> list[str | None]:
        """Return the district number (or None) for each point; vectorised for large batches."""
        codes = self.lookup_codes(lons, lats)
        names = np.array([*self._numbers, None], dtype=object)
        return names[codes].tolist()  # code -1 picks the trailing None

    def lookup_codes(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Return per point the position of its district in `numbers`, or -1 outside all."""
        x = np.asarray(lons, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("lons and lats must have the same length")
        codes = np.full(x.shape, _EMPTY, dtype=np.intp)
        in_box = (x >= self._x0) & (x <= self._x1) & (y >= self._y0) & (y <= self._y1)
        inside = np.flatnonzero(in_box)  # also drops NaN
        cols = ((x[inside] - self._x0) * self._inv_w).astype(np.intp)
        rows = ((y[inside] - self._y0) * self._inv_h).astype(np.intp)
        cells = rows * self._ncols + cols
        cell_codes = self._cell_code[cells]
        codes[inside] = np.where(cell_codes >= 0, cell_codes, _EMPTY)
        mixed = cell_codes == _MIXED
        self._resolve_mixed(x, y, inside[mixed], cells[mixed], codes)
        return codes

    def _resolve_mixed(
        self, x: np.ndarray, y: np.ndarray, points: np.ndarray, cells: np.ndarray, codes: np.ndarray
    ) -> None:
        """Test points of boundary cells against their candidates, first candidate first."""
        rank = 0
        while points.size:
            has_rank = self._cand_count[cells] > rank
            points, cells = points[has_rank], cells[has_rank]
            district = self._cand_district[self._cand_start[cells] + rank]
            hit = np.zeros(points.size, dtype=bool)
            # One batched prepared test per district instead of one call per point.
            for k in np.unique(district).tolist():
                sel = np.flatnonzero(district == k)
                hit[sel] = shapely.intersects_xy(self._geoms[k], x[points[sel]], y[points[sel]])
            codes[points[hit]] = district[hit]
            points, cells = points[~hit], cells[~hit]
            rank += 1

    def _build(self) -> None:
        """Classify every grid cell as empty, inside one district, or mixed with candidates."""
        ncells = self._ncols * self._nrows
        mixed = _boundary_cells(self._geoms, self._grid_args())
        full = self._interior_cells(mixed, ncells)
        # All (cell, district) candidate pairs, ordered by cell then by district priority.
        cell_ids = np.concatenate([mixed[:, 0], full[:, 0]])
        districts = np.concatenate([mixed[:, 1], full[:, 1]])
        is_full = np.concatenate([np.zeros(len(mixed), bool), np.ones(len(full), bool)])
        order = np.lexsort((districts, cell_ids))
        cell_ids, districts, is_full = cell_ids[order], districts[order], is_full[order]
        count = np.bincount(cell_ids, minlength=ncells)
        start = np.zeros(ncells, dtype=np.intp)
        start[1:] = np.cumsum(count)[:-1]
        code = np.full(ncells, _EMPTY, dtype=np.intp)
        single_full = np.zeros(ncells, dtype=bool)
        single_full[cell_ids[is_full]] = True
        single_full &= count == 1
        code[count > 0] = _MIXED
        code[single_full] = districts[start[single_full]]
        self._cell_code, self._cand_start, self._cand_count = code, start, count
        self._cand_district = districts
        # The scalar path reads a plain list: indexing it is far cheaper than numpy scalars.
        cells: list[str | tuple[tuple[str, BaseGeometry], ...] | None] = [None] * ncells
        full_cells = np.flatnonzero(code >= 0)
        for cell, k in zip(full_cells.tolist(), code[full_cells].tolist(), strict=True):
            cells[cell] = self._numbers[k]
        for cell in np.flatnonzero(code == _MIXED).tolist():
            ks = districts[start[cell] : start[cell] + count[cell]].tolist()
            cells[cell] = tuple((self._numbers[k], self._geoms[k]) for k in ks)
        self._cells = cells

    def _grid_args(self) -> tuple[float, float, float, float, int, int]:
        """Return the grid origin, cell size and shape for the helper functions."""
        return (self._x0, self._y0, self._cw, self._ch, self._ncols, self._nrows)

    def _interior_cells(self, mixed: np.ndarray, ncells: int) -> np.ndarray:
        """Return (cell, district) pairs of cells lying entirely inside a district."""
        pairs = []
        crossed = np.zeros(ncells, dtype=bool)
        for k, geom in enumerate(self._geoms):
            own_mixed = mixed[mixed[:, 1] == k, 0]
            crossed[own_mixed] = True
            minx, miny, maxx, maxy = shapely.bounds(geom)
            gx, gy = np.meshgrid(
                np.arange(*_index_range(minx, maxx, self._x0, self._cw, self._ncols)),
                np.arange(*_index_range(miny, maxy, self._y0, self._ch, self._nrows)),
            )
            cells = (gy * self._ncols + gx).ravel()
            keep = ~crossed[cells]
            cells, gx, gy = cells[keep], gx.ravel()[keep], gy.ravel()[keep]
            # A cell no boundary of k touches is wholly inside or outside k: its centre decides.
            cx = self._x0 + (gx + 0.5) * self._cw
            cy = self._y0 + (gy + 0.5) * self._ch
            inside = cells[shapely.intersects_xy(geom, cx, cy)]
            pairs.append(np.column_stack([inside, np.full(inside.size, k)]))
            crossed[own_mixed] = False  # reset the scratch array for the next district
        return np.concatenate(pairs).astype(np.intp)


def _cell_size_degrees(
    bounds: tuple[float, float, float, float], cell_size_m: float, max_cells: int
) -> tuple[float, float]:
    """Convert a metric cell size to degrees at the layer's mid latitude, capping the count."""
    x0, y0, x1, y1 = bounds
    # A degree of longitude shrinks with cos(latitude); clamp so polar layers stay finite.
    cos_lat = max(math.cos(math.radians((y0 + y1) / 2)), 0.01)
    cw = cell_size_m / (_METERS_PER_DEGREE * cos_lat)
    ch = cell_size_m / _METERS_PER_DEGREE
    cells = (int((x1 - x0) / cw) + 1) * (int((y1 - y0) / ch) + 1)
    if cells > max_cells:
        scale = math.sqrt(cells / max_cells) * 1.01
        cw, ch = cw * scale, ch * scale
    return cw, ch


def _index_range(lo: float, hi: float, origin: float, size: float, n: int) -> tuple[int, int]:
    """Return the half-open range of cell indices overlapping [lo, hi], widened by _EPS."""
    first = max(int(math.floor((lo - _EPS - origin) / size)), 0)
    last = min(int(math.floor((hi + _EPS - origin) / size)), n - 1)
    return first, last + 1


def _index_spans(
    lo: np.ndarray, hi: np.ndarray, origin: float, size: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised _index_range: first cell index and cell count per [lo, hi] interval."""
    first = np.clip(np.floor((lo - _EPS - origin) / size), 0, n - 1).astype(np.intp)
    last = np.clip(np.floor((hi + _EPS - origin) / size), 0, n - 1).astype(np.intp)
    return first, last - first + 1


def _boundary_cells(
    geoms: tuple[BaseGeometry, ...], grid: tuple[float, float, float, float, int, int]
) -> np.ndarray:
    """Return unique (cell, district) pairs of cells that a district's boundary passes through."""
    x0, y0, cw, ch, ncols, nrows = grid
    # Boundary = all exterior and interior rings; split them into single segments.
    rings = [shapely.get_rings(shapely.get_parts(g)) for g in geoms]
    ring_owner = np.repeat(np.arange(len(geoms)), [len(r) for r in rings])
    coords, ring_of = shapely.get_coordinates(np.concatenate(rings), return_index=True)
    same_ring = ring_of[1:] == ring_of[:-1]
    a, b = coords[:-1][same_ring], coords[1:][same_ring]
    owner = ring_owner[ring_of[:-1][same_ring]]
    ix, nx = _index_spans(np.minimum(a[:, 0], b[:, 0]), np.maximum(a[:, 0], b[:, 0]), x0, cw, ncols)
    iy, ny = _index_spans(np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1]), y0, ch, nrows)
    # Expand each segment to every cell of its bbox, then keep the cells it really crosses.
    per_seg = nx * ny
    seg = np.repeat(np.arange(len(a)), per_seg)
    offset = np.arange(seg.size) - np.repeat(np.cumsum(per_seg) - per_seg, per_seg)
    cx = ix[seg] + offset % nx[seg]
    cy = iy[seg] + offset // nx[seg]
    # A segment whose bbox lies in one cell surely crosses it; only the rest needs a test.
    test = np.flatnonzero(per_seg[seg] > 1)
    lines = shapely.linestrings(np.stack([a[seg[test]], b[seg[test]]], axis=1))
    boxes = shapely.box(
        x0 + cx[test] * cw - _EPS,
        y0 + cy[test] * ch - _EPS,
        x0 + (cx[test] + 1) * cw + _EPS,
        y0 + (cy[test] + 1) * ch + _EPS,
    )
    keep = np.ones(seg.size, dtype=bool)
    keep[test] = shapely.intersects(lines, boxes)
    pairs = np.column_stack([(cy * ncols + cx)[keep], owner[seg[keep]]])
    return np.unique(pairs, axis=0)

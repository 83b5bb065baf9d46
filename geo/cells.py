"""Where a point falls for aggregation: metric grid squares and H3 hexagons (pure functions).

Reports store their metric coordinates (the city's projected CRS, e.g. EPSG:25832 for Munich)
and their H3 cell at resolution 10, computed once at intake. Aggregations then group by plain
integer arithmetic in SQL, identically on PostGIS and SpatiaLite.
"""

from __future__ import annotations

from collections.abc import Sequence

import h3
import numpy as np

from geo.crs import LONLAT, transformer

H3_STORED_RES = 10
H3_RESOLUTIONS = range(7, 11)
_RES_SHIFT = 52
_DIGIT_BITS = 3
_MAX_RES = 15


def metric_xy(lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray,
              crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat to the city's metric CRS (metres), vectorised."""
    x, y = transformer(LONLAT, crs).transform(np.asarray(lons, dtype=float),
                                              np.asarray(lats, dtype=float))
    return np.asarray(x), np.asarray(y)


def h3_cells(lons: Sequence[float], lats: Sequence[float], res: int = H3_STORED_RES
             ) -> list[int]:
    """The H3 cell (as a 64-bit integer) of each point."""
    return [h3.str_to_int(h3.latlng_to_cell(float(lat), float(lon), res))
            for lon, lat in zip(lons, lats, strict=True)]


def h3_parent_mask(res: int) -> tuple[int, int]:
    """(and_mask, or_bits) turning a stored resolution-10 cell into its parent at `res`:
    `parent = (cell & and_mask) | or_bits` — the resolution field set to `res` and the digits
    below it set to 7 ("unused"), as H3 defines. Plain integer SQL on both backends."""
    if res not in H3_RESOLUTIONS:
        raise ValueError(f"H3 resolution must be {H3_RESOLUTIONS.start} to "
                         f"{H3_RESOLUTIONS.stop - 1}")
    and_mask = ~(0xF << _RES_SHIFT) & (2**63 - 1)
    or_bits = (res << _RES_SHIFT) | ((1 << (_DIGIT_BITS * (_MAX_RES - res))) - 1)
    return and_mask, or_bits


def h3_parent(cell: int, res: int) -> int:
    """The parent cell at `res`, computed the way the SQL does (for tests and Python paths)."""
    and_mask, or_bits = h3_parent_mask(res)
    return (cell & and_mask) | or_bits


def h3_ring(cell: int) -> list[list[float]]:
    """The hexagon of a cell as a closed GeoJSON ring of [lon, lat]."""
    boundary = h3.cell_to_boundary(h3.int_to_str(cell))
    ring = [[round(lon, 7), round(lat, 7)] for lat, lon in boundary]
    return ring + [ring[0]]


def h3_center(cell: int) -> tuple[float, float]:
    """The centre (lon, lat) of a cell."""
    lat, lon = h3.cell_to_latlng(h3.int_to_str(cell))
    return lon, lat


def square_rings(ix: np.ndarray, iy: np.ndarray, cell_m: float, crs: str) -> np.ndarray:
    """Closed lon/lat rings of grid squares (ix, iy) of `cell_m` metres in `crs`, as an
    (n, 5, 2) array rounded to 7 decimals (about 1 cm)."""
    x0, y0 = np.asarray(ix, float) * cell_m, np.asarray(iy, float) * cell_m
    xs = np.stack([x0, x0 + cell_m, x0 + cell_m, x0, x0], axis=1)
    ys = np.stack([y0, y0, y0 + cell_m, y0 + cell_m, y0], axis=1)
    lon, lat = transformer(crs, LONLAT).transform(xs, ys)
    return np.round(np.stack([lon, lat], axis=2), 7)


def square_centers(ix: np.ndarray, iy: np.ndarray, cell_m: float, crs: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat centres of grid squares."""
    x = (np.asarray(ix, float) + 0.5) * cell_m
    y = (np.asarray(iy, float) + 0.5) * cell_m
    lon, lat = transformer(crs, LONLAT).transform(x, y)
    return np.asarray(lon), np.asarray(lat)

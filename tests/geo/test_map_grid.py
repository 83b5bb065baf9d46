"""The map's clustering grid: cells are CELL_PX screen pixels at their zoom, consistent
between points, boxes and cell bounds."""

from __future__ import annotations

import numpy as np
import pytest

from geo.map_grid import CELL_PX, cell_bounds, cell_range, cell_xy, cells_across


def test_a_cell_is_cell_px_on_screen() -> None:
    # At zoom z the world is 256 * 2^z pixels wide.
    assert cells_across(0) * CELL_PX == 256
    assert cells_across(12) * CELL_PX == 256 * 4096


@pytest.mark.parametrize("zoom", [8, 11, 13, 16])
def test_points_fall_inside_the_bounds_of_their_cell(zoom: int) -> None:
    rng = np.random.default_rng(1)
    lons, lats = rng.uniform(11.36, 11.72, 500), rng.uniform(48.06, 48.25, 500)
    xs, ys = cell_xy(lons, lats, zoom)
    for lon, lat, x, y in zip(lons, lats, xs, ys, strict=True):
        minx, miny, maxx, maxy = cell_bounds(zoom, int(x), int(y))
        assert minx <= lon < maxx and miny < lat <= maxy


def test_a_box_covers_exactly_the_cells_of_its_corners() -> None:
    box = (11.5, 48.1, 11.6, 48.2)
    x0, y0, x1, y1 = cell_range(box, 12)
    assert x0 <= x1 and y0 <= y1  # rows grow southwards: the north edge gives y0
    minx, _, _, maxy = cell_bounds(12, x0, y0)
    assert minx <= 11.5 and maxy >= 48.2
    _, miny, maxx, _ = cell_bounds(12, x1, y1)
    assert maxx >= 11.6 and miny <= 48.1


def test_neighbouring_zooms_nest() -> None:
    xs, ys = cell_xy(np.array([11.5755]), np.array([48.1374]), 13)
    px, py = cell_xy(np.array([11.5755]), np.array([48.1374]), 12)
    assert (xs[0] // 2, ys[0] // 2) == (px[0], py[0])

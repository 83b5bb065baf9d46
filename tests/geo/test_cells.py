"""Aggregation cells: H3 parents by integer arithmetic, metric squares of the asked size."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from geo.cells import (
    h3_cells,
    h3_parent,
    h3_parent_mask,
    h3_ring,
    metric_xy,
    square_centers,
    square_rings,
)
from geo.crs import LONLAT, transformer

POINTS = [(11.5755, 48.1374), (11.6247, 48.2188), (11.4, 48.06), (11.72, 48.2)]


@pytest.mark.parametrize("res", [7, 8, 9, 10])
def test_the_integer_parent_is_the_h3_parent(res: int) -> None:
    for cell in h3_cells([p[0] for p in POINTS], [p[1] for p in POINTS]):
        expected = h3.str_to_int(h3.cell_to_parent(h3.int_to_str(cell), res))
        assert h3_parent(cell, res) == expected


def test_resolutions_outside_7_to_10_are_refused() -> None:
    for res in (6, 11):
        with pytest.raises(ValueError):
            h3_parent_mask(res)


def test_a_hexagon_ring_is_closed_and_contains_its_point() -> None:
    from shapely.geometry import Point, Polygon

    cell = h3_parent(h3_cells([11.5755], [48.1374])[0], 8)
    ring = h3_ring(cell)
    assert ring[0] == ring[-1] and len(ring) == 7
    assert Polygon(ring).contains(Point(11.5755, 48.1374))


@pytest.mark.parametrize("cell_m", [50, 100, 2000])
def test_squares_are_the_asked_size_in_metres(cell_m: int) -> None:
    x, y = metric_xy([11.5755], [48.1374], "EPSG:25832")
    ix, iy = np.floor(x / cell_m), np.floor(y / cell_m)
    ring = square_rings(ix, iy, cell_m, "EPSG:25832")[0]
    back_x, back_y = transformer(LONLAT, "EPSG:25832").transform(
        [p[0] for p in ring], [p[1] for p in ring])
    assert max(back_x) - min(back_x) == pytest.approx(cell_m, abs=0.01)
    assert max(back_y) - min(back_y) == pytest.approx(cell_m, abs=0.01)
    lon, lat = square_centers(ix, iy, cell_m, "EPSG:25832")
    assert abs(lon[0] - 11.5755) < cell_m / 70_000 and abs(lat[0] - 48.1374) < cell_m / 100_000

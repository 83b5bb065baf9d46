"""Tests for geo.district_index: correctness against plain shapely, edge cases and speed."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from bench.points import random_points_in_bbox
from geo.district_index import DistrictIndex
from geo.district_layer import DistrictShape, parse_district_layer
from tests.shared_data import shared_data_dir


@pytest.fixture(scope="module")
def districts() -> list[DistrictShape]:
    return parse_district_layer(
        (shared_data_dir() / "munich" / "stadtbezirke.geojson").read_bytes()
    )


@pytest.fixture(scope="module")
def index(districts: list[DistrictShape]) -> DistrictIndex:
    return DistrictIndex((d.number, d.geometry) for d in districts)


def _reference(districts: list[DistrictShape], lons: np.ndarray, lats: np.ndarray) -> list:
    """First district (in index order) whose polygon covers each point, by plain shapely."""
    result: list[str | None] = [None] * len(lons)
    for district in reversed(districts):
        for i in np.flatnonzero(shapely.intersects_xy(district.geometry, lons, lats)).tolist():
            result[i] = district.number
    return result


@pytest.mark.parametrize(
    ("place", "lon", "lat", "number"),
    [
        ("Marienplatz", 11.5755, 48.1374, "01"),
        ("Hauptbahnhof", 11.5600, 48.1402, "02"),
        ("Olympiastadion", 11.5465, 48.1731, "11"),
        ("Allianz Arena", 11.6247, 48.2188, "12"),
        ("Messe Riem", 11.6950, 48.1360, "15"),
        ("outside Munich", 11.0, 48.0, None),
    ],
)
def test_known_points(
    index: DistrictIndex, place: str, lon: float, lat: float, number: str
) -> None:
    assert index.lookup(lon, lat) == number, place
    assert index.lookup_many(np.array([lon]), np.array([lat])) == [number], place


def test_properties(index: DistrictIndex, districts: list[DistrictShape]) -> None:
    assert len(index) == 25
    assert index.numbers == tuple(f"{n:02d}" for n in range(1, 26))
    expected = shapely.total_bounds([d.geometry for d in districts])
    assert index.bounds == pytest.approx(tuple(expected))


def test_agrees_with_shapely_for_random_points(
    index: DistrictIndex, districts: list[DistrictShape]
) -> None:
    lons, lats = random_points_in_bbox(index.bounds, 20_000, seed=7)
    expected = _reference(districts, lons, lats)
    assert expected.count(None) > 1_000 and len(set(expected)) == 26  # the sample is meaningful
    assert [
        index.lookup(x, y) for x, y in zip(lons.tolist(), lats.tolist(), strict=True)
    ] == expected
    assert index.lookup_many(lons, lats) == expected
    codes = index.lookup_codes(lons, lats)
    assert [index.numbers[c] if c >= 0 else None for c in codes.tolist()] == expected


def test_points_near_boundaries_agree_with_shapely(
    index: DistrictIndex, districts: list[DistrictShape]
) -> None:
    # Jitter boundary vertices by up to ~1 m so nearly every point lands in a boundary cell.
    coords = shapely.get_coordinates(shapely.boundary([d.geometry for d in districts]))
    rng = np.random.default_rng(3)
    sample = coords[rng.choice(len(coords), 5_000, replace=False)]
    lons = sample[:, 0] + rng.uniform(-1e-5, 1e-5, len(sample))
    lats = sample[:, 1] + rng.uniform(-1e-5, 1e-5, len(sample))
    expected = _reference(districts, lons, lats)
    assert [
        index.lookup(x, y) for x, y in zip(lons.tolist(), lats.tolist(), strict=True)
    ] == expected
    assert index.lookup_many(lons, lats) == expected


def test_vertices_are_never_none(index: DistrictIndex, districts: list[DistrictShape]) -> None:
    # Boundary vertices lie on shared borders or the city limit: always inside the union.
    coords = shapely.get_coordinates(shapely.boundary([d.geometry for d in districts]))[::7]
    assert all(index.lookup(x, y) is not None for x, y in coords.tolist())
    assert None not in index.lookup_many(coords[:, 0], coords[:, 1])


@pytest.mark.parametrize("cell_size_m", [25.0, 400.0, 5_000.0])
def test_cell_size_does_not_change_answers(
    districts: list[DistrictShape], index: DistrictIndex, cell_size_m: float
) -> None:
    other = DistrictIndex(((d.number, d.geometry) for d in districts), cell_size_m=cell_size_m)
    lons, lats = random_points_in_bbox(index.bounds, 5_000, seed=11)
    assert other.lookup_many(lons, lats) == index.lookup_many(lons, lats)
    assert [other.lookup(x, y) for x, y in zip(lons.tolist(), lats.tolist(), strict=True)] == (
        index.lookup_many(lons, lats)
    )


def test_max_cells_caps_the_grid(districts: list[DistrictShape]) -> None:
    small = DistrictIndex(
        ((d.number, d.geometry) for d in districts), cell_size_m=1, max_cells=10_000
    )
    assert small.lookup(11.5755, 48.1374) == "01"
    assert small.lookup(11.0, 48.0) is None


def test_shared_border_is_deterministic_and_never_none() -> None:
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    index = DistrictIndex([("A", left), ("B", right)], cell_size_m=10_000)
    assert index.lookup(1.0, 0.5) == "A"
    assert index.lookup(0.5, 0.5) == "A" and index.lookup(1.5, 0.5) == "B"
    assert index.lookup(0.0, 0.0) == "A" and index.lookup(2.0, 1.0) == "B"  # outer corners
    assert index.lookup(2.0 + 1e-9, 0.5) is None
    swapped = DistrictIndex([("B", right), ("A", left)], cell_size_m=10_000)
    assert swapped.lookup(1.0, 0.5) == "B"
    assert index.lookup_many(np.array([1.0, 0.0]), np.array([0.5, 0.0])) == ["A", "A"]


def test_holes_and_multipolygons() -> None:
    ring = Polygon([(0, 0), (3, 0), (3, 3), (0, 3)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])
    island = box(1.25, 1.25, 1.75, 1.75)
    spread = MultiPolygon([box(5, 0, 6, 1), box(7, 0, 8, 1)])
    index = DistrictIndex([("ring", ring), ("island", island), ("spread", spread)], 5_000)
    lons = np.array([0.5, 1.1, 1.5, 5.5, 6.5, 7.5])
    lats = np.array([0.5, 1.1, 1.5, 0.5, 0.5, 0.5])
    expected = ["ring", None, "island", "spread", None, "spread"]
    assert [index.lookup(x, y) for x, y in zip(lons, lats, strict=True)] == expected
    assert index.lookup_many(lons, lats) == expected


def test_odd_inputs(index: DistrictIndex) -> None:
    assert index.lookup(float("nan"), 48.1) is None
    assert index.lookup(11.5755, float("inf")) is None
    assert index.lookup_many(np.array([]), np.array([])) == []
    assert index.lookup_many([11.5755, float("nan")], [48.1374, 48.1]) == ["01", None]
    with pytest.raises(ValueError, match="same length"):
        index.lookup_many(np.zeros(2), np.zeros(3))


def test_rejects_bad_districts() -> None:
    with pytest.raises(ValueError, match="at least one"):
        DistrictIndex([])
    with pytest.raises(ValueError, match="Polygon"):
        DistrictIndex([("01", shapely.LineString([(0, 0), (1, 1)]))])
    with pytest.raises(ValueError, match="positive"):
        DistrictIndex([("01", box(0, 0, 1, 1))], cell_size_m=0)


def test_district_smaller_than_a_cell() -> None:
    index = DistrictIndex([("tiny", box(0, 0, 0.0001, 0.0001))], cell_size_m=10_000)
    assert index.lookup(0.00005, 0.00005) == "tiny"
    assert index.lookup(0.0001, 0.0001) == "tiny"
    assert index.lookup_many([0.00005, 0.0002], [0.00005, 0.0]) == ["tiny", None]

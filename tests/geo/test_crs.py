"""Tests for geo.crs: CRS names in GeoJSON and reprojection to lon/lat."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import Point, Polygon

from geo.crs import crs_of_geojson, to_lonlat, transformer
from geo.errors import LayerError


def _named(name: object) -> dict:
    return {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": name}}}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("urn:ogc:def:crs:EPSG::25832", "EPSG:25832"),
        ("urn:ogc:def:crs:EPSG:6.6:4326", "EPSG:4326"),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", "OGC:CRS84"),
        ("EPSG:25832", "EPSG:25832"),
        ("epsg:31468", "EPSG:31468"),
        ("http://www.opengis.net/def/crs/EPSG/0/25832", "EPSG:25832"),
        ("https://www.opengis.net/def/crs/OGC/1.3/CRS84", "OGC:CRS84"),
        ("  EPSG:3857 ", "EPSG:3857"),
    ],
)
def test_crs_name_forms(name: str, expected: str) -> None:
    assert crs_of_geojson(_named(name)) == expected


def test_no_crs_member_means_crs84() -> None:
    assert crs_of_geojson({"type": "FeatureCollection", "features": []}) == "OGC:CRS84"


@pytest.mark.parametrize(
    "crs",
    [
        {"type": "name", "properties": {"name": "WGS 84 please"}},
        {"type": "name", "properties": {"name": "EPSG:abc"}},
        {"type": "name", "properties": {"name": "EPSG:999999"}},
        {"type": "name", "properties": {"name": 25832}},
        {"type": "name", "properties": {}},
        {"type": "link", "properties": {"href": "http://example.com/crs"}},
        "EPSG:25832",
    ],
)
def test_unparseable_crs_raises_layer_error(crs: object) -> None:
    with pytest.raises(LayerError) as info:
        crs_of_geojson({"type": "FeatureCollection", "crs": crs})
    assert info.value.problems, "the error must say what is wrong"
    assert "crs" in str(info.value).lower()


def test_lonlat_input_is_returned_unchanged() -> None:
    geom = Point(11.5755, 48.1374)
    assert to_lonlat(geom, "OGC:CRS84") is geom
    assert to_lonlat(geom, "EPSG:4326") is geom


def test_utm_to_lonlat_point() -> None:
    # The central meridian of UTM zone 32 is 9°E; the equator has northing 0.
    lon, lat = to_lonlat(Point(500_000, 0), "EPSG:25832").coords[0]
    assert lon == pytest.approx(9.0, abs=1e-9)
    assert lat == pytest.approx(0.0, abs=1e-9)


def test_utm_to_lonlat_polygon_keeps_structure() -> None:
    ring = [(691_000, 5_334_000), (692_000, 5_334_000), (692_000, 5_335_000), (691_000, 5_334_000)]
    hole_free = Polygon(ring)
    result = to_lonlat(hole_free, "EPSG:25832")
    assert result.geom_type == "Polygon"
    assert len(result.exterior.coords) == len(hole_free.exterior.coords)
    minx, miny, maxx, maxy = result.bounds
    # Munich city centre.
    assert 11.5 < minx < maxx < 11.7
    assert 48.1 < miny < maxy < 48.2


def test_to_lonlat_accepts_geometry_arrays() -> None:
    points = shapely.points([(500_000, 0), (500_000, 1_000)])
    result = to_lonlat(points, "EPSG:25832")
    assert shapely.get_coordinates(result)[0].tolist() == pytest.approx([9.0, 0.0], abs=1e-9)


def test_transformer_is_cached_and_lon_first() -> None:
    assert transformer("EPSG:4326", "EPSG:25832") is transformer("EPSG:4326", "EPSG:25832")
    x, y = transformer("EPSG:4326", "EPSG:25832").transform(9.0, 0.0)
    assert x == pytest.approx(500_000, abs=1e-6)
    assert y == pytest.approx(0.0, abs=1e-6)

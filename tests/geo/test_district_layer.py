"""Tests for geo.district_layer: parsing, validating and merging GeoJSON district layers."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
import shapely

from geo.district_layer import DistrictShape, parse_district_layer
from geo.errors import LayerError
from tests.shared_data import shared_data_dir

CRS84_FILE = "stadtbezirke.geojson"
RAW_FILE = "stadtbezirke_epsg25832_raw.geojson"


@pytest.fixture(scope="module")
def munich() -> Path:
    return shared_data_dir() / "munich"


@pytest.fixture(scope="module")
def crs84_districts(munich: Path) -> list[DistrictShape]:
    return parse_district_layer((munich / CRS84_FILE).read_bytes())


@pytest.fixture(scope="module")
def raw_districts(munich: Path) -> list[DistrictShape]:
    return parse_district_layer((munich / RAW_FILE).read_text(encoding="utf-8"))


def _feature(number: Any, name: Any, geometry: dict | None) -> dict:
    return {
        "type": "Feature",
        "properties": {"sb_nummer": number, "sb_name": name},
        "geometry": geometry,
    }


def _square(x: float, y: float, size: float = 0.01) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _collection(*features: dict, crs: str | None = None) -> dict:
    obj: dict[str, Any] = {"type": "FeatureCollection", "features": list(features)}
    if crs:
        obj["crs"] = {"type": "name", "properties": {"name": crs}}
    return obj


def _problems(data: Any, **kwargs: str) -> list[str]:
    with pytest.raises(LayerError) as info:
        parse_district_layer(data, **kwargs)
    assert info.value.problems
    return info.value.problems


# --- the real Munich layers -------------------------------------------------------------------


def test_crs84_file_gives_25_districts(crs84_districts: list[DistrictShape]) -> None:
    assert [d.number for d in crs84_districts] == [f"{n:02d}" for n in range(1, 26)]
    assert crs84_districts[0].name == "Altstadt-Lehel"
    for district in crs84_districts:
        assert district.geometry.geom_type == "MultiPolygon"
        assert district.geometry.is_valid
        minx, miny, maxx, maxy = district.geometry.bounds
        assert 11.3 < minx < maxx < 11.8 and 48.0 < miny < maxy < 48.3


def test_raw_file_merges_27_features_into_25_districts(
    munich: Path, raw_districts: list[DistrictShape]
) -> None:
    raw = json.loads((munich / RAW_FILE).read_text(encoding="utf-8"))
    assert len(raw["features"]) == 27
    assert len(raw_districts) == 25
    parts = {d.number: len(d.geometry.geoms) for d in raw_districts}
    assert parts["18"] == 2 and parts["19"] == 2
    assert all(count == 1 for number, count in parts.items() if number not in ("18", "19"))


def test_both_files_give_the_same_districts(
    crs84_districts: list[DistrictShape], raw_districts: list[DistrictShape]
) -> None:
    assert [(d.number, d.name) for d in raw_districts] == [
        (d.number, d.name) for d in crs84_districts
    ]
    for a, b in zip(crs84_districts, raw_districts, strict=True):
        assert b.geometry.area == pytest.approx(a.geometry.area, rel=0.005), a.number
        overlap = shapely.intersection(a.geometry, b.geometry).area
        assert overlap >= 0.995 * a.geometry.area, a.number
        assert overlap >= 0.995 * b.geometry.area, a.number


def test_accepts_bytes_str_and_dict(munich: Path, crs84_districts: list[DistrictShape]) -> None:
    text = (munich / CRS84_FILE).read_text(encoding="utf-8")
    from_dict = parse_district_layer(json.loads(text))
    from_bom = parse_district_layer("\ufeff" + text)
    assert [d.number for d in from_dict] == [d.number for d in crs84_districts]
    assert from_bom[5].geometry.equals(crs84_districts[5].geometry)


def test_metric_file_without_crs_member_is_rejected(munich: Path) -> None:
    raw = json.loads((munich / RAW_FILE).read_text(encoding="utf-8"))
    del raw["crs"]
    problems = _problems(raw)
    assert len(problems) == 27
    assert "outside the lon/lat range" in problems[0]
    assert "'crs' member" in problems[0]


# --- broken inputs ----------------------------------------------------------------------------


def test_not_json() -> None:
    assert "not valid JSON" in _problems(b"{this is not json")[0]
    assert "not valid JSON" in _problems(b"\xff\xfe\xfa garbage")[0]


@pytest.mark.parametrize(
    "data",
    [
        {"type": "Feature", "properties": {}, "geometry": None},
        {"type": "Polygon", "coordinates": []},
        "[1, 2, 3]",
        "42",
    ],
)
def test_not_a_feature_collection(data: Any) -> None:
    assert "expected a GeoJSON FeatureCollection" in _problems(data)[0]


def test_empty_collection() -> None:
    assert _problems(_collection()) == ["the FeatureCollection contains no features"]
    assert "no 'features' list" in _problems({"type": "FeatureCollection"})[0]


def test_missing_property_names_field_and_feature() -> None:
    feature = {"type": "Feature", "properties": {"nr": "01"}, "geometry": _square(11, 48)}
    problems = _problems(_collection(feature))
    assert problems[0].startswith("feature 0: property 'sb_nummer' is missing")
    assert "'nr'" in problems[0]  # shows which properties exist
    assert any("'sb_name' is missing" in p for p in problems)


def test_empty_property() -> None:
    problems = _problems(_collection(_feature("  ", "Name", _square(11, 48))))
    assert problems == ["feature 0: property 'sb_nummer' is empty"]


def test_linestring_geometry() -> None:
    line = {"type": "LineString", "coordinates": [[11, 48], [11.1, 48.1]]}
    problems = _problems(
        _collection(_feature("01", "A", _square(11, 48)), _feature("02", "B", line))
    )
    assert problems == [
        "feature 1 (sb_nummer '02'): geometry type 'LineString' is not Polygon or MultiPolygon"
    ]


def test_missing_and_malformed_geometry() -> None:
    bad = {"type": "Polygon", "coordinates": [[[11, 48], [11.1, 48]]]}
    problems = _problems(_collection(_feature("01", "A", None), _feature("02", "B", bad)))
    assert "feature 0 (sb_nummer '01'): has no geometry" in problems
    assert any(p.startswith("feature 1 (sb_nummer '02'): geometry coordinates") for p in problems)


def test_same_number_with_different_names() -> None:
    data = _collection(
        _feature("01", "Alpha", _square(11, 48)), _feature("01", "Beta", _square(12, 48))
    )
    (problem,) = _problems(data)
    assert "'01'" in problem and "'Beta'" in problem and "'Alpha'" in problem


def test_all_problems_are_collected_at_once() -> None:
    line = {"type": "LineString", "coordinates": [[11, 48], [11.1, 48.1]]}
    data = _collection(
        _feature(None, "A", _square(11, 48)),
        _feature("02", "", _square(11.1, 48)),
        _feature("03", "C", line),
        _feature("04", "D", _square(11.3, 48)),
    )
    problems = _problems(data)
    assert len(problems) == 3
    assert problems == [
        "feature 0: property 'sb_nummer' is null",
        "feature 1 (sb_nummer '02'): property 'sb_name' is empty",
        "feature 2 (sb_nummer '03'): geometry type 'LineString' is not Polygon or MultiPolygon",
    ]


def test_unparseable_crs_is_collected_with_other_problems() -> None:
    data = _collection(_feature("01", None, _square(11, 48)), crs="urn:foo:bar")
    problems = _problems(data)
    assert any("cannot parse CRS name" in p for p in problems)
    assert any("'sb_name' is null" in p for p in problems)


def test_layer_error_text_and_pickling() -> None:
    err = LayerError("invalid district layer", ["feature 3: property 'sb_nummer' is missing"])
    assert str(err) == "invalid district layer: feature 3: property 'sb_nummer' is missing"
    assert isinstance(err, ValueError)
    copy = pickle.loads(pickle.dumps(err))
    assert copy.message == err.message and copy.problems == err.problems


# --- repair, merging, numbering ---------------------------------------------------------------


def test_bow_tie_polygon_is_repaired() -> None:
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[11, 48], [11.1, 48.1], [11.1, 48], [11, 48.1], [11, 48]]],
    }
    (district,) = parse_district_layer(_collection(_feature("01", "Bow", bow_tie)))
    assert district.geometry.is_valid
    assert district.geometry.geom_type == "MultiPolygon"
    assert len(district.geometry.geoms) == 2
    assert district.geometry.area == pytest.approx(0.005)


def test_int_numbers_become_text_and_sort_numerically() -> None:
    data = _collection(
        _feature(10, "Ten", _square(11.2, 48)),
        _feature(2, "Two", _square(11.1, 48)),
        _feature(1, " One ", _square(11.0, 48)),
    )
    districts = parse_district_layer(data)
    assert [(d.number, d.name) for d in districts] == [("1", "One"), ("2", "Two"), ("10", "Ten")]


def test_features_with_same_number_are_merged() -> None:
    data = _collection(
        _feature("01", "A", _square(11.0, 48)),
        _feature("01", "A", _square(11.01, 48)),  # touches the first: becomes one polygon
        _feature("01", "A", _square(11.5, 48)),  # separate: second part
    )
    (district,) = parse_district_layer(data)
    assert len(district.geometry.geoms) == 2
    assert district.geometry.area == pytest.approx(3 * 0.01**2)


def test_custom_field_names_and_metric_crs() -> None:
    ring = [[691_000, 5_334_000], [692_000, 5_334_000], [692_000, 5_335_000], [691_000, 5_334_000]]
    feature = {
        "type": "Feature",
        "properties": {"nr": 7, "label": "Seven"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    data = _collection(feature, crs="urn:ogc:def:crs:EPSG::25832")
    (district,) = parse_district_layer(data, number_field="nr", name_field="label")
    assert (district.number, district.name) == ("7", "Seven")
    minx, _, maxx, _ = district.geometry.bounds
    assert 11.5 < minx < maxx < 11.7


def test_degenerate_geometry_has_no_area() -> None:
    flat = {"type": "Polygon", "coordinates": [[[11, 48], [11.1, 48], [11.2, 48], [11, 48]]]}
    assert _problems(_collection(_feature("01", "Flat", flat))) == [
        "district '01': geometry has no area after repair"
    ]

"""Reading asset files: every format, any CRS, and every bad input named by its row."""

from __future__ import annotations

import json

import pytest

from backend.errors import ConfigurationError
from backend.services.assets.readers import MAX_PROBLEMS, ReadOptions, read_assets
from tests.shared_data import shared_data_dir

MARIENPLATZ = (11.5755, 48.1374)
# The same two places in EPSG:25832 (UTM 32N, metres), computed once with PROJ.
MARIENPLATZ_UTM = (691603.0319930979, 5334780.03078066)
HAUPTBAHNHOF = (11.5600, 48.1402)
HAUPTBAHNHOF_UTM = (690439.638913112, 5335052.703109922)


def _feature(ident: str | None, lon: float, lat: float, **props: object) -> dict:
    properties = dict(props)
    if ident is not None:
        properties["id"] = ident
    return {"type": "Feature", "properties": properties,
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def _geojson(*features: dict, **extra: object) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features), **extra}).encode()


def _problems(data: bytes, options: ReadOptions | None = None) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        read_assets(data, options or ReadOptions(), "test.file")
    assert "nothing was changed" in caught.value.message
    return caught.value.fields["problems"]


# ------------------------------------------------------------------------ formats --


def test_geojson_points_with_id_name_and_ref() -> None:
    data = _geojson(_feature("lsa-1", *MARIENPLATZ, name="Marienplatz", ref="LSA 0815"),
                    _feature("lsa-2", *HAUPTBAHNHOF))

    result = read_assets(data, ReadOptions())

    assert result.format == "geojson"
    first, second = result.records
    assert (first.external_id, first.name, first.number) == ("lsa-1", "Marienplatz", "LSA 0815")
    assert (first.lon, first.lat) == MARIENPLATZ
    assert (second.external_id, second.name, second.number) == ("lsa-2", None, None)
    assert first.properties == {"id": "lsa-1", "name": "Marienplatz", "ref": "LSA 0815"}


def test_geojson_feature_id_member_and_chosen_fields() -> None:
    feature = _feature(None, *MARIENPLATZ, bezeichnung="Ampel Rathaus", lsa_nr="K123")
    feature["id"] = 4711

    record, = read_assets(_geojson(feature), ReadOptions(
        name_field="bezeichnung", number_field="lsa_nr")).records

    assert (record.external_id, record.name, record.number) == ("4711", "Ampel Rathaus", "K123")


def test_geojson_in_epsg_25832_from_its_crs_member_is_reprojected() -> None:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}
    data = _geojson(_feature("a", *MARIENPLATZ_UTM), _feature("b", *HAUPTBAHNHOF_UTM), crs=crs)

    first, second = read_assets(data, ReadOptions()).records

    assert first.lon == pytest.approx(MARIENPLATZ[0], abs=1e-7)
    assert first.lat == pytest.approx(MARIENPLATZ[1], abs=1e-7)
    assert second.lon == pytest.approx(HAUPTBAHNHOF[0], abs=1e-7)


def test_csv_with_x_y_in_epsg_25832_is_reprojected() -> None:
    data = ("id;x;y;name;ref\n"
            f"K1;{MARIENPLATZ_UTM[0]};{MARIENPLATZ_UTM[1]};Marienplatz;LSA 1\n"
            f"K2;{str(HAUPTBAHNHOF_UTM[0]).replace('.', ',')};"
            f"{str(HAUPTBAHNHOF_UTM[1]).replace('.', ',')};Hauptbahnhof;\n").encode()

    first, second = read_assets(data, ReadOptions(crs="EPSG:25832")).records

    assert (first.external_id, first.name, first.number) == ("K1", "Marienplatz", "LSA 1")
    assert (first.lon, first.lat) == pytest.approx(MARIENPLATZ, abs=1e-7)
    assert (second.lon, second.lat) == pytest.approx(HAUPTBAHNHOF, abs=1e-7)
    assert second.number is None
    assert first.properties == {"id": "K1", "name": "Marienplatz", "ref": "LSA 1"}


def test_csv_with_lon_lat_columns_and_a_bom() -> None:
    data = "\ufeffosm_id,Longitude,Latitude\nnode/1,11.5755,48.1374\n".encode()

    record, = read_assets(data, ReadOptions()).records

    assert (record.external_id, record.lon, record.lat) == ("node/1", *MARIENPLATZ)


def test_overpass_json_nodes_get_osm_ids_and_the_osm_licence() -> None:
    data = json.dumps({"version": 0.6, "elements": [
        {"type": "node", "id": 123, "lat": 48.1374, "lon": 11.5755,
         "tags": {"highway": "traffic_signals", "ref:lsa": "0815", "name": "Rathaus"}},
        {"type": "node", "id": 124, "lat": 48.1402, "lon": 11.56},
    ]}).encode()

    result = read_assets(data, ReadOptions())

    assert result.format == "osm"
    assert [(r.external_id, r.number, r.name) for r in result.records] == [
        ("node/123", "0815", "Rathaus"), ("node/124", None, None)]
    assert result.records[0].properties == {"highway": "traffic_signals", "ref:lsa": "0815",
                                            "name": "Rathaus"}
    assert "ODbL" in result.licence and result.attribution == "© OpenStreetMap contributors"


def test_the_shared_osm_extract_reads_1740_signals_with_its_attribution() -> None:
    data = (shared_data_dir() / "munich" / "traffic_signals_osm.geojson").read_bytes()

    result = read_assets(data, ReadOptions(id_field="osm_id"))

    assert len(result.records) == 1740
    assert result.records[0].external_id == "node/128226"
    assert "OpenStreetMap" in result.attribution


# -------------------------------------------------------------------- bad input --


@pytest.mark.parametrize(("data", "options", "expected"), [
    (b'{"type": "FeatureCollection", "features": [', ReadOptions(),
     "the file is not valid JSON (line 1, column"),
    (b'[1, 2]', ReadOptions(), "expected a GeoJSON FeatureCollection or OpenStreetMap JSON"),
    (_geojson(_feature("a", *MARIENPLATZ), crs={"type": "name", "properties": {
        "name": "EPSG:999999"}}), ReadOptions(), "unknown CRS: CRS EPSG:999999"),
    (b"id,x,y\na,1,2\n", ReadOptions(crs="EPSG:nope"), "unknown CRS:"),
    (_geojson(_feature("a", *MARIENPLATZ), _feature(None, *HAUPTBAHNHOF, name="x")),
     ReadOptions(), "feature 1: no id (looked for 'id', 'osm_id', '@id' and the feature's id"),
    (_geojson(_feature("a", *MARIENPLATZ), _feature("b", *MARIENPLATZ),
              _feature("a", *HAUPTBAHNHOF)), ReadOptions(),
     "feature 2 (a): id 'a' is used by feature 0 too"),
    (_geojson({"type": "Feature", "properties": {"id": "m"}, "geometry": {
        "type": "MultiPoint", "coordinates": [list(MARIENPLATZ)]}}), ReadOptions(),
     "feature 0 (m): geometry type 'MultiPoint' is not Point"),
    (_geojson({"type": "Feature", "properties": {"id": "l"}, "geometry": {
        "type": "LineString", "coordinates": [list(MARIENPLATZ), list(HAUPTBAHNHOF)]}}),
     ReadOptions(), "feature 0 (l): geometry type 'LineString' is not Point"),
    (_geojson({"type": "Feature", "properties": {"id": "n"}, "geometry": None}),
     ReadOptions(), "feature 0 (n): has no geometry"),
    (_geojson(_feature("u", *MARIENPLATZ_UTM)), ReadOptions(),
     "feature 0 (u): coordinates (691603.0319930979, 5334780.03078066) are not lon/lat"),
    (b"id;lon;lat\na;11,5;48,1\nb;elf;48,1\n", ReadOptions(),
     "line 3 (b): 'lon'/'lat' are not numbers ('elf', '48,1')"),
    (b"id,lon,lat\na,11.5,48.1\n,11.6,48.1\n", ReadOptions(),
     "line 3: column 'id' (the id) is empty"),
    (b"name,lon,lat\na,11.5,48.1\n", ReadOptions(), "line 1: no id column (looked for"),
    (b"id,east,north\na,1,2\n", ReadOptions(), "line 1: no coordinate columns"),
    (b"id,lon,lat\na,11.5,48.1\nb,11.5,48.1\na,11.6,48.2\n", ReadOptions(),
     "line 4 (a): id 'a' is used by line 2 too"),
    (json.dumps({"elements": [{"type": "way", "id": 5, "nodes": [1, 2]}]}).encode(),
     ReadOptions(), "element 0 (way/5): is a 'way', not a node"),
    (json.dumps({"elements": [{"type": "node", "id": 6}]}).encode(),
     ReadOptions(), "element 0 (node/6): node without numeric lat/lon"),
    (json.dumps({"elements": [{"type": "node", "id": 7, "lat": 48.1, "lon": 11.5}]}).encode(),
     ReadOptions(id_field="ref"), "element 0 (node/7): no id (looked for 'ref'"),
    (b"\xff\xfe\x00broken", ReadOptions(), "the file is neither JSON nor UTF-8 CSV text"),
], ids=["broken-json", "not-a-collection", "unknown-crs-member", "unknown-crs-option",
        "missing-id", "duplicate-ids", "multipoint", "linestring", "no-geometry",
        "metres-without-crs", "csv-not-a-number", "csv-empty-id", "csv-no-id-column",
        "csv-no-coordinates", "csv-duplicate-ids", "osm-way", "osm-no-coordinates",
        "osm-missing-id-tag", "binary"])
def test_bad_input_is_refused_naming_the_row(data: bytes, options: ReadOptions,
                                             expected: str) -> None:
    problems = _problems(data, options)

    assert any(expected in problem for problem in problems), problems


def test_every_problem_is_listed_up_to_the_limit_then_counted() -> None:
    features = [_feature(None, *MARIENPLATZ, name=str(i)) for i in range(MAX_PROBLEMS + 5)]

    problems = _problems(_geojson(*features))

    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[0].startswith("feature 0: no id")
    assert problems[-1] == "… and 5 more problem(s)"

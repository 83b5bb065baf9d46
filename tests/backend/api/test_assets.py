"""The public asset API on both backends: the viewport layer (attribution, truncation, ETag),
the nearest asset, the number lookup, one asset with its open reports, the layers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from backend.services.assets import public
from tests.backend.api.helpers import MARIENPLATZ, assert_error, check_table, create, offset
from tests.backend.api.public_asset_helpers import (
    ASSETS_URL,
    SIGN_ATTRIBUTION,
    SIGN_POINTS,
    SIGNALS,
    SIGNS,
    load_test_layers,
    reimport_signs,
)
from tests.backend.api.test_openapi import SpecValidators

AROUND = "11.570,48.132,11.582,48.142"  # Marienplatz and a few hundred metres around it


@pytest.fixture
def ids(session: Session, tmp_path: Path) -> dict[str, int]:
    return load_test_layers(session, tmp_path)


@pytest.fixture
def validators(client: Any) -> SpecValidators:
    return SpecValidators(client.get("/api/v1/openapi.json").get_json())


def _viewport(client: Any, **params: Any) -> Any:
    return client.get(ASSETS_URL, query_string=params)


def test_viewport_lists_active_sign_posts_compactly_with_attribution(
        client: Any, ids: dict[str, int], validators: SpecValidators) -> None:
    response = _viewport(client, bbox=AROUND, group="schild")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    validators.check("get", "/api/v1/assets", response)
    body = response.get_json()
    assert body["type"] == "FeatureCollection" and body["truncated"] is False
    features = {f["id"]: f for f in body["features"]}
    assert set(features) == {ids["vz-1"], ids["vz-2"]}  # vz-old is retired
    first = features[ids["vz-1"]]
    assert first["properties"] == {"name": "Halteverbot", "number": "VZ 283-1",
                                   "type": "sign_post", "layer": SIGNS}
    assert first["geometry"]["coordinates"] == pytest.approx(list(SIGN_POINTS["vz-1"]), abs=1e-7)
    assert body["attribution"] == [{"layer": SIGNS, "text": SIGN_ATTRIBUTION,
                                    "licence": "dl-de/by-2-0"}]


def test_viewport_by_type_or_group_and_the_osm_attribution(client: Any,
                                                          ids: dict[str, int]) -> None:
    by_group = _viewport(client, bbox=AROUND, group="ampel").get_json()
    by_type = _viewport(client, bbox=AROUND, type="traffic_signal").get_json()
    assert by_group["features"] == by_type["features"]
    assert {ids["lsa-1"], ids["lsa-2"]} <= {f["id"] for f in by_group["features"]}
    assert all(f["properties"]["type"] == "traffic_signal" for f in by_group["features"])
    texts = {a["layer"]: a["text"] for a in by_group["attribution"]}
    assert texts[SIGNALS] == "Testdaten"
    if "lsa-osm" in texts:  # the demo layer (loaded when the shared data is present)
        assert texts["lsa-osm"] == "© OpenStreetMap contributors"
    everything = _viewport(client, bbox=AROUND).get_json()
    assert {f["id"] for f in everything["features"]} >= {f["id"] for f in by_group["features"]}


def test_viewport_says_when_it_is_truncated(session: Session, ids: dict[str, int]) -> None:
    bbox = tuple(float(v) for v in AROUND.split(","))
    found = public.viewport(session, bbox, "schild", "group", limit=1)  # type: ignore[arg-type]
    assert found.truncated is True and [a.id for a in found.assets] == [ids["vz-1"]]
    assert public.viewport(session, bbox, "schild", "group", limit=2).truncated is False  # type: ignore[arg-type]


def test_viewport_answers_304_until_an_import_changes_a_layer(
        client: Any, session: Session, tmp_path: Path, ids: dict[str, int]) -> None:
    first = _viewport(client, bbox=AROUND, group="schild")
    tag = first.headers["ETag"]
    again = client.get(ASSETS_URL, query_string={"bbox": AROUND, "group": "schild"},
                       headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == "public, max-age=300"
    other = _viewport(client, bbox=AROUND, group="ampel")
    assert other.headers["ETag"] != tag
    (tmp_path / "again").mkdir()
    reimport_signs(session, tmp_path / "again")  # nothing changed: the same versions
    assert client.get(ASSETS_URL, query_string={"bbox": AROUND, "group": "schild"},
                      headers={"If-None-Match": tag}).status_code == 304
    from backend.services.assets.importer import LayerSpec, import_assets
    from tests.backend.services.assets.helpers import write_geojson
    moved = {"vz-1": offset(MARIENPLATZ, east_m=45), "vz-2": SIGN_POINTS["vz-2"]}
    import_assets(session, str(write_geojson(tmp_path / "moved.geojson", moved)),
                  LayerSpec(SIGNS, "sign_post"))
    changed = client.get(ASSETS_URL, query_string={"bbox": AROUND, "group": "schild"},
                         headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag


def test_bad_viewport_queries_name_the_field(client: Any, ids: dict[str, int]) -> None:
    cases = [
        ({"group": "schild"}, "bbox"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "11.6,48.1,11.5,48.2"}, "bbox"),
        ({"bbox": "nan,48.1,11.6,48.2"}, "bbox"),
        ({"bbox": AROUND, "group": "laterne"}, "group"),
        ({"bbox": AROUND, "type": "street_light"}, "type"),
        ({"bbox": AROUND, "group": "schild", "type": "sign_post"}, "type"),
        ({"bbox": AROUND, "group": ""}, "group"),
    ]

    def check(params: dict[str, str], field: str) -> None:
        assert_error(_viewport(client, **params), 422, "validation_failed", {field})

    check_table([(str(params), params, field) for params, field in cases], check)


def test_nearest_asset_with_its_distance_or_null(client: Any, ids: dict[str, int],
                                                 validators: SpecValidators) -> None:
    lon, lat = offset(MARIENPLATZ, east_m=30)
    response = client.get(f"{ASSETS_URL}/nearest", query_string={
        "lat": lat, "lon": lon, "group": "schild"})
    assert response.status_code == 200
    validators.check("get", "/api/v1/assets/nearest", response)
    asset = response.get_json()["asset"]
    assert asset["id"] == ids["vz-1"] and asset["layer"] == SIGNS
    assert asset["distance_m"] == pytest.approx(10, abs=1)
    far = client.get(f"{ASSETS_URL}/nearest", query_string={
        "lat": 48.16, "lon": 11.62, "type": "sign_post", "max_distance_m": 50})
    assert far.status_code == 200 and far.get_json() == {"asset": None}
    validators.check("get", "/api/v1/assets/nearest", far)


def test_bad_nearest_queries_name_the_field(client: Any, ids: dict[str, int]) -> None:
    base = {"lat": MARIENPLATZ[1], "lon": MARIENPLATZ[0]}
    cases = [
        ({"lon": 11.5}, "lat"),
        ({**base, "lat": 91}, "lat"),
        ({**base, "lon": "x"}, "lon"),
        ({**base, "max_distance_m": 2001}, "max_distance_m"),
        ({**base, "max_distance_m": 0}, "max_distance_m"),
        ({**base, "group": "nix"}, "group"),
    ]

    def check(params: dict[str, Any], field: str) -> None:
        response = client.get(f"{ASSETS_URL}/nearest", query_string=params)
        assert_error(response, 422, "validation_failed", {field})

    check_table([(str(params), params, field) for params, field in cases], check)


def test_lookup_by_number_ignores_spaces_and_case(client: Any, ids: dict[str, int],
                                                  validators: SpecValidators) -> None:
    response = client.get(f"{ASSETS_URL}/lookup", query_string={"number": "lsa0815"})
    assert response.status_code == 200
    validators.check("get", "/api/v1/assets/lookup", response)
    assert [a["id"] for a in response.get_json()["assets"]] == [ids["lsa-1"]]
    assert response.get_json()["assets"][0]["number"] == "LSA 0815"
    wrong_group = client.get(f"{ASSETS_URL}/lookup", query_string={
        "number": "LSA 0815", "group": "schild"})
    assert wrong_group.get_json() == {"assets": []}
    assert_error(client.get(f"{ASSETS_URL}/lookup"), 422, "validation_failed", {"number"})
    assert_error(client.get(f"{ASSETS_URL}/lookup", query_string={
        "number": "1", "type": "nix"}), 422, "validation_failed", {"type"})


def test_one_asset_with_its_open_reports_and_nothing_personal(
        client: Any, ids: dict[str, int], validators: SpecValidators) -> None:
    report = create(client, "schild-fehlt", asset_id=ids["vz-1"], email="anna@example.org")
    create(client, "schild-fehlt")  # about no asset
    response = client.get(f"{ASSETS_URL}/{ids['vz-1']}")
    assert response.status_code == 200
    validators.check("get", "/api/v1/assets/{asset_id}", response)
    body = response.get_json()
    assert body["id"] == ids["vz-1"] and body["name"] == "Halteverbot"
    assert body["retired"] is False and "distance_m" not in body
    assert [(r["id"], r["status"]) for r in body["open_reports"]] == [(report["id"],
                                                                       "submitted")]
    assert body["open_reports"][0]["url"].endswith(f"/api/v1/reports/{report['id']}")
    assert "anna" not in response.get_data(as_text=True)
    retired = client.get(f"{ASSETS_URL}/{ids['vz-old']}").get_json()
    assert retired["retired"] is True and retired["open_reports"] == []
    assert_error(client.get(f"{ASSETS_URL}/{10**12}"), 404, "not_found", {"id"})
    assert_error(client.get(f"{ASSETS_URL}/{2**70}"), 404, "not_found", {"id"})
    assert_error(client.get(f"{ASSETS_URL}/abc"), 404, "not_found")


def test_layers_show_source_licence_attribution_and_counts(
        client: Any, ids: dict[str, int], validators: SpecValidators, tmp_path: Path) -> None:
    response = client.get("/api/v1/asset-layers")
    assert response.status_code == 200
    validators.check("get", "/api/v1/asset-layers", response)
    layers = {layer["code"]: layer for layer in response.get_json()["layers"]}
    signs = layers[SIGNS]
    assert (signs["type"], signs["licence"], signs["attribution"]) == (
        "sign_post", "dl-de/by-2-0", SIGN_ATTRIBUTION)
    assert (signs["active_count"], signs["retired_count"]) == (2, 1)
    assert signs["source"] == "vz2.geojson"  # a file by its name: no server path
    assert str(tmp_path) not in response.get_data(as_text=True)
    if "lsa-osm" in layers:
        assert layers["lsa-osm"]["attribution"] == "© OpenStreetMap contributors"
        assert layers["lsa-osm"]["licence"].startswith("ODbL")


def test_public_source_keeps_urls_and_hides_paths() -> None:
    assert public.public_source("https://example.org/lsa.geojson") == \
        "https://example.org/lsa.geojson"
    assert public.public_source("/srv/data/munich/lsa.geojson") == "lsa.geojson"

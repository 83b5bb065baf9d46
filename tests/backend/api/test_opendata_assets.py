"""Open data with assets: the asset columns in CSV, GeoJSON and the nightly files (both
backends)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Flask

from tests.backend.api.asset_helpers import point_at, signals
from tests.backend.api.helpers import create

ASSET_COLUMNS = ["asset_id", "asset_layer", "asset_external_id", "asset_name", "asset_number"]


def test_csv_and_geojson_carry_the_asset_or_nothing(app: Flask, client: Any) -> None:
    [signal] = signals(app, 1)
    with_asset = create(client, "ampel-lampe")["id"]
    without = create(client, "schild-fehlt")["id"]
    point_at(app, with_asset, signal.id)
    text = client.get("/api/v1/opendata/reports.csv").get_data(as_text=True)
    assert text.splitlines()[0].split(",")[-6:-1] == ASSET_COLUMNS
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert [rows[with_asset][c] for c in ASSET_COLUMNS] == [
        str(signal.id), "lsa-osm", signal.external_id, signal.name or "", signal.number or ""]
    assert [rows[without][c] for c in ASSET_COLUMNS] == [""] * 5
    features = {f["id"]: f["properties"] for f in client.get(
        "/api/v1/opendata/reports.geojson").get_json()["features"]}
    assert {c: features[with_asset][c] for c in ASSET_COLUMNS} == {
        "asset_id": signal.id, "asset_layer": "lsa-osm", "asset_external_id": signal.external_id,
        "asset_name": signal.name, "asset_number": signal.number}
    assert {c: features[without][c] for c in ASSET_COLUMNS} == dict.fromkeys(ASSET_COLUMNS)
    fields = client.get("/api/v1/opendata/metadata.json").get_json()["resources"][0][
        "schema"]["fields"]
    assert [f["name"] for f in fields][-6:-1] == ASSET_COLUMNS

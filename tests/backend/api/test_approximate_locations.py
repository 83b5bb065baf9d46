"""Reports placed only by district are `approximate` everywhere (public JSON, map, staff
queue and detail, open data, Open311) and out of the distance-based duplicate search; a
report placed by address search is exact. Both backends."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from typing import Any

from flask import Flask

from tests.backend.api.helpers import MARIENPLATZ, NEARBY_URL, assert_error, create, offset
from tests.backend.api.open311_helpers import BASE, assert_valid, open311_validators
from tests.backend.api.staff_helpers import QUEUE_URL, make_user, report_url, token_for


def _pair(client: Any) -> tuple[str, str]:
    """An approximate (district) and an exact (address) report at the same point."""
    approx = create(client, address="irgendwo am Marienplatz", location_source="district")
    exact = create(client, address="Marienplatz 1, 80331 München", location_source="address")
    assert approx["approximate"] is True and exact["approximate"] is False
    return approx["id"], exact["id"]


def test_the_public_views_and_open_data_say_approximate(client: Any) -> None:
    approx, exact = _pair(client)

    for public_id, expected in ((approx, True), (exact, False)):
        assert client.get(f"/api/v1/reports/{public_id}").get_json()["approximate"] is expected
    features = {f["id"]: f["properties"] for f in
                client.get("/api/v1/reports").get_json()["features"]}
    assert (features[approx]["approximate"], features[exact]["approximate"]) == (True, False)
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(
        client.get("/api/v1/opendata/reports.csv").get_data(as_text=True)))}
    assert (rows[approx]["approximate"], rows[exact]["approximate"]) == ("true", "false")
    geo = {f["id"]: f["properties"] for f in
           client.get("/api/v1/opendata/reports.geojson").get_json()["features"]}
    assert (geo[approx]["approximate"], geo[exact]["approximate"]) == (True, False)


def test_open311_says_approximate_in_an_extended_attribute_and_stays_valid(
        client: Any) -> None:
    approx, exact = _pair(client)
    validator = open311_validators()["requests.json"]

    listed = client.get(f"{BASE}/requests.json?extensions=true").get_json()
    plain = client.get(f"{BASE}/requests.json").get_json()

    assert_valid(validator, listed)
    assert_valid(validator, plain)
    shown = {r["service_request_id"]: r["extended_attributes"]["approximate"] for r in listed}
    assert shown == {approx: True, exact: False}
    root = ET.fromstring(client.get(f"{BASE}/requests/{approx}.xml?extensions=true").data)
    assert root.findtext("request/extended_attributes/approximate") == "true"


def test_staff_queue_and_detail_say_approximate(app: Flask, client: Any) -> None:
    make_user(app, "dora", "dispatcher", ("anliegenmanagement",), password=None)
    approx, exact = _pair(client)
    headers = token_for(app, "dora")

    queue = {f["id"]: f["properties"] for f in
             client.get(QUEUE_URL, headers=headers).get_json()["features"]}
    assert (queue[approx]["approximate"], queue[exact]["approximate"]) == (True, False)
    assert queue[approx]["review_flags"] == ["approximate_location"]
    detail = client.get(report_url(approx), headers=headers).get_json()
    assert detail["approximate"] is True
    assert client.get(report_url(exact), headers=headers).get_json()["approximate"] is False


def test_approximate_reports_are_never_found_by_distance(client: Any) -> None:
    approx, exact = _pair(client)
    near = offset(MARIENPLATZ, north_m=10)

    found = client.get(NEARBY_URL, query_string={
        "lon": near[0], "lat": near[1], "category": "schild-fehlt"}).get_json()["features"]

    assert [f["id"] for f in found] == [exact]


def test_an_approximate_point_searches_nothing_by_distance(client: Any) -> None:
    _pair(client)

    found = client.get(NEARBY_URL, query_string={
        "lon": MARIENPLATZ[0], "lat": MARIENPLATZ[1], "category": "schild-fehlt",
        "approximate": "true"}).get_json()["features"]

    assert found == []


def test_an_unknown_location_source_is_refused(client: Any) -> None:
    response = client.post("/api/v1/reports", json={
        "category": "schild-fehlt", "lat": MARIENPLATZ[1], "lon": MARIENPLATZ[0],
        "description": "x", "location_source": "guess"})

    assert_error(response, 422, "validation_failed", {"location_source"})

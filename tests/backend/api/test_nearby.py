"""GET /api/v1/reports/nearby: 'already reported?' search, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from backend.models import Report
from tests.backend.api.helpers import (
    ALLIANZ_ARENA,
    MARIENPLATZ,
    NEARBY_URL,
    assert_error,
    check_table,
    create,
    offset,
)

LON, LAT = MARIENPLATZ


def _nearby(client: Any, category: str = "schild-fehlt", point: tuple[float, float] = MARIENPLATZ,
            **params: Any) -> list[dict[str, Any]]:
    response = client.get(NEARBY_URL, query_string={
        "lon": point[0], "lat": point[1], "category": category, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert body["next_cursor"] is None
    return body["features"]


def _ids(features: list[dict[str, Any]]) -> list[str]:
    return [f["properties"]["id"] for f in features]


def test_report_20_m_away_in_the_same_group_is_found_with_its_distance(client: Any) -> None:
    near = create(client, "schild-fehlt", offset(MARIENPLATZ, north_m=20))

    features = _nearby(client, "schild-verdreht")  # another category of the same group

    assert _ids(features) == [near["id"]]
    feature = features[0]
    assert feature["properties"]["distance_m"] == pytest.approx(20, abs=2)
    assert feature["properties"]["category"] == "schild-fehlt"
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx(offset(MARIENPLATZ, north_m=20), abs=1e-9)


def test_distance_is_metres_on_the_ground(client: Any) -> None:
    # one report per group, so that each is the only answer to its own group's query
    cases = [
        ("30-m-east", "schild-fehlt", 0, 30),
        ("40-m-south", "ampel-lampe", -40, 0),
        ("35-m-north-west", "sonstiges", 25, -25),
        ("here", "schild-fehlt", 0, 0),
    ]

    def check(category: str, north_m: float, east_m: float) -> None:
        report = create(client, category, offset(MARIENPLATZ, north_m=north_m, east_m=east_m))
        features = {f["properties"]["id"]: f for f in _nearby(client, category)}
        expected = (north_m ** 2 + east_m ** 2) ** 0.5
        distance = features[report["id"]]["properties"]["distance_m"]
        assert distance == pytest.approx(expected, abs=2)

    check_table(cases, check)


def test_report_80_m_away_needs_a_larger_radius(client: Any) -> None:
    far = create(client, point=offset(MARIENPLATZ, north_m=-80))

    assert _nearby(client) == []
    assert _nearby(client, radius_m=50) == []
    features = _nearby(client, radius_m=100)
    assert _ids(features) == [far["id"]]
    assert features[0]["properties"]["distance_m"] == pytest.approx(80, abs=2)


def test_nearest_report_comes_first(client: Any) -> None:
    at_80 = create(client, "schild-beschaedigt", offset(MARIENPLATZ, north_m=-80))
    at_20 = create(client, "schild-fehlt", offset(MARIENPLATZ, north_m=20))
    at_45 = create(client, "schild-unleserlich", offset(MARIENPLATZ, east_m=45))
    at_5 = create(client, "schild-verdreht", offset(MARIENPLATZ, east_m=-5))

    features = _nearby(client, radius_m=100)

    assert _ids(features) == [at_5["id"], at_20["id"], at_45["id"], at_80["id"]]
    distances = [f["properties"]["distance_m"] for f in features]
    assert distances == sorted(distances)
    assert _ids(_nearby(client)) == [at_5["id"], at_20["id"], at_45["id"]]


def test_report_of_another_group_is_not_offered(client: Any) -> None:
    ampel = create(client, "ampel-ausfall", offset(MARIENPLATZ, north_m=10))
    schild = create(client, "schild-fehlt", offset(MARIENPLATZ, north_m=30))
    sonst = create(client, "sonstiges", offset(MARIENPLATZ, north_m=15))

    assert _ids(_nearby(client, "schild-fehlt")) == [schild["id"]]
    assert _ids(_nearby(client, "ampel-lampe")) == [ampel["id"]]
    assert _ids(_nearby(client, "sonstiges")) == [sonst["id"]]


def test_closed_reports_are_not_offered(client: Any, session: Session) -> None:
    closed = {status: create(client, point=offset(MARIENPLATZ, north_m=n))["id"]
              for n, status in [(3, "resolved"), (6, "rejected"), (9, "closed")]}
    still_open = create(client, point=offset(MARIENPLATZ, north_m=25))
    in_progress = create(client, point=offset(MARIENPLATZ, north_m=30))
    for status, public_id in [*closed.items(), ("in_progress", in_progress["id"])]:
        session.execute(update(Report).where(Report.public_id == public_id)
                        .values(status=status))
    session.commit()

    assert _ids(_nearby(client)) == [still_open["id"], in_progress["id"]]


def test_reports_elsewhere_in_the_city_are_not_offered(client: Any) -> None:
    create(client, point=ALLIANZ_ARENA)
    assert _nearby(client, radius_m=1000) == []
    assert len(_nearby(client, point=ALLIANZ_ARENA)) == 1


def test_nearby_with_no_reports_is_empty(client: Any) -> None:
    assert _nearby(client, radius_m=1000) == []


def test_nearby_search_does_not_create_anything(client: Any) -> None:
    create(client, point=offset(MARIENPLATZ, north_m=10))
    _nearby(client)
    _nearby(client)
    assert len(client.get("/api/v1/reports").get_json()["features"]) == 1


BASE = {"lat": LAT, "lon": LON, "category": "schild-fehlt"}


def _without(name: str) -> dict[str, Any]:
    return {k: v for k, v in BASE.items() if k != name}


INVALID_QUERIES = [
    # (name, query, the fields the error names)
    ("no-lat", _without("lat"), {"lat"}),
    ("no-lon", _without("lon"), {"lon"}),
    ("no-category", _without("category"), {"category"}),
    ("nothing", {}, {"lat", "lon", "category"}),
    ("lat-letters", {**BASE, "lat": "abc"}, {"lat"}),
    ("lat-91", {**BASE, "lat": "91"}, {"lat"}),
    ("lon-minus-181", {**BASE, "lon": "-181"}, {"lon"}),
    ("lat-nan", {**BASE, "lat": "nan"}, {"lat"}),
    ("lon-inf", {**BASE, "lon": "inf"}, {"lon"}),
    ("unknown-category", {**BASE, "category": "laterne"}, {"category"}),
    ("radius-5000", {**BASE, "radius_m": "5000"}, {"radius_m"}),
    ("radius-1001", {**BASE, "radius_m": "1001"}, {"radius_m"}),
    ("radius-0", {**BASE, "radius_m": "0"}, {"radius_m"}),
    ("radius-negative", {**BASE, "radius_m": "-5"}, {"radius_m"}),
    ("radius-letters", {**BASE, "radius_m": "zehn"}, {"radius_m"}),
]


def test_invalid_nearby_query_is_rejected(client: Any) -> None:
    check_table(INVALID_QUERIES, lambda params, fields: assert_error(
        client.get(NEARBY_URL, query_string=params), 422, "validation_failed", fields))


def test_largest_radius_is_accepted(client: Any) -> None:
    far = create(client, point=offset(MARIENPLATZ, east_m=900))
    assert _ids(_nearby(client, radius_m=1000)) == [far["id"]]

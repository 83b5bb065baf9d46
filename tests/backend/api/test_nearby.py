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


@pytest.mark.parametrize(("north_m", "east_m"), [(0, 30), (-40, 0), (25, -25), (0, 0)])
def test_distance_is_metres_on_the_ground(client: Any, north_m: float, east_m: float) -> None:
    create(client, point=offset(MARIENPLATZ, north_m=north_m, east_m=east_m))
    features = _nearby(client)

    expected = (north_m ** 2 + east_m ** 2) ** 0.5
    assert features[0]["properties"]["distance_m"] == pytest.approx(expected, abs=2)


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


@pytest.mark.parametrize("status", ["resolved", "rejected", "closed"])
def test_closed_reports_are_not_offered(client: Any, session: Session, status: str) -> None:
    closed = create(client, point=offset(MARIENPLATZ, north_m=5))
    still_open = create(client, point=offset(MARIENPLATZ, north_m=25))
    session.execute(update(Report).where(Report.public_id == closed["id"])
                    .values(status=status))
    session.commit()

    assert _ids(_nearby(client)) == [still_open["id"]]


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


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        (_without("lat"), {"lat"}),
        (_without("lon"), {"lon"}),
        (_without("category"), {"category"}),
        ({}, {"lat", "lon", "category"}),
        ({**BASE, "lat": "abc"}, {"lat"}),
        ({**BASE, "lat": "91"}, {"lat"}),
        ({**BASE, "lon": "-181"}, {"lon"}),
        ({**BASE, "lat": "nan"}, {"lat"}),
        ({**BASE, "lon": "inf"}, {"lon"}),
        ({**BASE, "category": "laterne"}, {"category"}),
        ({**BASE, "radius_m": "5000"}, {"radius_m"}),
        ({**BASE, "radius_m": "1001"}, {"radius_m"}),
        ({**BASE, "radius_m": "0"}, {"radius_m"}),
        ({**BASE, "radius_m": "-5"}, {"radius_m"}),
        ({**BASE, "radius_m": "zehn"}, {"radius_m"}),
    ],
    ids=["no-lat", "no-lon", "no-category", "nothing", "lat-letters", "lat-91", "lon-minus-181",
         "lat-nan", "lon-inf", "unknown-category", "radius-5000", "radius-1001", "radius-0",
         "radius-negative", "radius-letters"],
)
def test_invalid_nearby_query_is_rejected(client: Any, params: dict[str, Any],
                                          fields: set[str]) -> None:
    assert_error(client.get(NEARBY_URL, query_string=params), 422, "validation_failed", fields)


def test_largest_radius_is_accepted(client: Any) -> None:
    far = create(client, point=offset(MARIENPLATZ, east_m=900))
    assert _ids(_nearby(client, radius_m=1000)) == [far["id"]]

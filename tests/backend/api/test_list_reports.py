"""GET /api/v1/reports: GeoJSON, filters and cursor pagination, on both backends."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from backend.models import Report
from tests.backend.api.helpers import (
    ALLIANZ_ARENA,
    MARIENPLATZ,
    REPORTS_URL,
    assert_error,
    check_table,
    create,
    offset,
)

# (category, (lon, lat), district) in creation order
SEED = [
    ("schild-fehlt", MARIENPLATZ, "01"),
    ("ampel-ausfall", offset(MARIENPLATZ, north_m=120), "01"),
    ("schild-beschaedigt", (11.5763, 48.1351), "01"),             # Viktualienmarkt
    ("sonstiges", offset(MARIENPLATZ, east_m=250, north_m=-80), "01"),
    ("schild-fehlt", (11.5775, 48.1425), "01"),                   # Odeonsplatz
    ("ampel-lampe", offset(MARIENPLATZ, east_m=-300), "01"),
    ("schild-fehlt", ALLIANZ_ARENA, "12"),
    ("ampel-ausfall", offset(ALLIANZ_ARENA, north_m=150), "12"),
    ("schild-verdreht", offset(ALLIANZ_ARENA, east_m=-200, north_m=-100), "12"),
    ("sonstiges", (11.6036, 48.2134), "12"),                      # Fröttmaning
    ("schild-fehlt", (11.6000, 48.1822), "12"),                   # Studentenstadt
    ("schild-unleserlich", offset(ALLIANZ_ARENA, east_m=300), "12"),
]

BBOX_MARIENPLATZ = (11.570, 48.133, 11.582, 48.140)
BBOX_ALLIANZ_ARENA = (11.615, 48.212, 11.635, 48.225)


@dataclass(frozen=True)
class Seeded:
    id: str
    category: str
    lon: float
    lat: float
    district: str


@pytest.fixture
def seeded(client: Any) -> list[Seeded]:
    """The twelve SEED reports, created through the API in this order."""
    result = []
    for category, (lon, lat), district in SEED:
        body = create(client, category, (lon, lat))
        assert body["district"]["number"] == district, (category, lon, lat)
        result.append(Seeded(body["id"], category, lon, lat, district))
    return result


def _list(client: Any, **params: Any) -> dict[str, Any]:
    response = client.get(REPORTS_URL, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    return response.get_json()


def _ids(collection: dict[str, Any]) -> list[str]:
    return [f["properties"]["id"] for f in collection["features"]]


def _bbox(box: tuple[float, float, float, float]) -> str:
    return ",".join(repr(v) for v in box)


def _inside(report: Seeded, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= report.lon <= box[2] and box[1] <= report.lat <= box[3]


def _set_status(session: Session, public_id: str, status: str) -> None:
    session.execute(update(Report).where(Report.public_id == public_id).values(status=status))
    session.commit()


# --------------------------------------------------------------------------- structure


def test_empty_database_gives_empty_feature_collection(client: Any) -> None:
    body = _list(client)
    assert body == {"type": "FeatureCollection", "features": [], "next_cursor": None}


def test_list_is_a_geojson_feature_collection(client: Any, seeded: list[Seeded]) -> None:
    response = client.get(REPORTS_URL)
    assert response.mimetype == "application/geo+json"
    body = response.get_json()

    assert body["type"] == "FeatureCollection"
    assert body["next_cursor"] is None
    assert len(body["features"]) == len(SEED)
    by_id = {r.id: r for r in seeded}
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        props = feature["properties"]
        expected = by_id[props["id"]]
        assert feature["id"] == expected.id
        lon, lat = feature["geometry"]["coordinates"]
        assert lon == pytest.approx(expected.lon, abs=1e-9)
        assert lat == pytest.approx(expected.lat, abs=1e-9)
        assert props["category"] == expected.category
        assert props["group"] == expected.category.split("-")[0]
        assert props["district"] == expected.district
        assert props["status"] == "submitted"
        assert props["open311_status"] == "open"
        assert props["url"] == f"http://mm.test/api/v1/reports/{expected.id}"
        assert "distance_m" not in props
        assert "description" not in props


def test_list_is_newest_first(client: Any, seeded: list[Seeded]) -> None:
    body = _list(client)

    assert _ids(body) == [r.id for r in reversed(seeded)]
    times = [datetime.fromisoformat(f["properties"]["created_at"]) for f in body["features"]]
    assert times == sorted(times, reverse=True)


def test_category_names_in_list_follow_accept_language(client: Any,
                                                       seeded: list[Seeded]) -> None:
    de = client.get(REPORTS_URL, query_string={"category": "schild-fehlt", "limit": 1})
    en = client.get(REPORTS_URL, query_string={"category": "schild-fehlt", "limit": 1},
                    headers={"Accept-Language": "en"})
    assert de.get_json()["features"][0]["properties"]["category_name"] == "Verkehrszeichen fehlt"
    assert en.get_json()["features"][0]["properties"]["category_name"] == "Street sign missing"


# --------------------------------------------------------------------------- bbox


@pytest.mark.parametrize("box", [BBOX_MARIENPLATZ, BBOX_ALLIANZ_ARENA],
                         ids=["marienplatz", "allianz-arena"])
def test_bbox_returns_exactly_the_reports_inside(
    client: Any, seeded: list[Seeded], box: tuple[float, float, float, float]
) -> None:
    expected = [r.id for r in reversed(seeded) if _inside(r, box)]
    assert 2 <= len(expected) < len(seeded) // 2 + 1  # the box is a real, partial filter

    assert _ids(_list(client, bbox=_bbox(box))) == expected


def test_bbox_around_marienplatz_holds_only_altstadt_reports(
    client: Any, seeded: list[Seeded]
) -> None:
    body = _list(client, bbox=_bbox(BBOX_MARIENPLATZ))
    assert {f["properties"]["district"] for f in body["features"]} == {"01"}
    assert seeded[4].id not in _ids(body)  # Odeonsplatz is north of the box


def test_bbox_covering_the_city_returns_all(client: Any, seeded: list[Seeded]) -> None:
    assert len(_ids(_list(client, bbox="11.3,48.0,11.8,48.3"))) == len(seeded)


def test_bbox_with_no_reports_is_empty(client: Any, seeded: list[Seeded]) -> None:
    assert _list(client, bbox="11.40,48.10,11.45,48.12")["features"] == []


def test_report_exactly_on_the_bbox_edge_is_listed(client: Any) -> None:
    lon, lat = MARIENPLATZ
    report = create(client, point=MARIENPLATZ)
    for box in [(lon, lat, lon + 0.01, lat + 0.01), (lon - 0.01, lat - 0.01, lon, lat)]:
        assert _ids(_list(client, bbox=_bbox(box))) == [report["id"]], box


def test_report_just_outside_the_bbox_is_not_listed(client: Any) -> None:
    # 1e-6 degrees is about 11 cm (latitude) or 7 cm (longitude): outside is outside.
    lon, lat = MARIENPLATZ
    create(client, point=MARIENPLATZ)
    eps, wide = 1e-6, 0.01
    sides = [  # (the side of the box the report lies on, the box)
        ("north", (lon - wide, lat - wide, lon + wide, lat - eps)),
        ("south", (lon - wide, lat + eps, lon + wide, lat + wide)),
        ("east", (lon - wide, lat - wide, lon - eps, lat + wide)),
        ("west", (lon + eps, lat - wide, lon + wide, lat + wide)),
    ]

    def check(box: tuple[float, float, float, float]) -> None:
        listed = _ids(_list(client, bbox=_bbox(box)))
        assert listed == [], f"bbox={_bbox(box)} lists a report outside it"

    check_table(sides, check)


MALFORMED_BBOXES = [
    ("three-numbers", "11.5,48.1,11.6"),
    ("five-numbers", "11.5,48.1,11.6,48.2,11.7"),
    ("letters", "a,b,c,d"),
    ("semicolons", "11.5;48.1;11.6;48.2"),
    ("min-lon-gt-max", "11.6,48.1,11.5,48.2"),
    ("min-lat-gt-max", "11.5,48.2,11.6,48.1"),
    ("lat-95", "11.5,48.1,11.6,95"),
    ("lon-minus-181", "-181,48,11,49"),
    ("lon-181", "11.5,48.1,181,48.2"),
    ("nan", "nan,48.1,11.6,48.2"),
    ("inf", "11.5,48.1,inf,48.2"),
    ("empty", ""),
]


def test_malformed_bbox_is_rejected(client: Any) -> None:
    check_table(MALFORMED_BBOXES, lambda bbox: assert_error(
        client.get(REPORTS_URL, query_string={"bbox": bbox}), 422, "validation_failed",
        {"bbox"}))


# --------------------------------------------------------------------------- status, category


def test_status_open_includes_new_reports_and_closed_excludes_them(
    client: Any, seeded: list[Seeded]
) -> None:
    assert len(_ids(_list(client, status="open"))) == len(seeded)
    assert len(_ids(_list(client, status="submitted"))) == len(seeded)
    assert _list(client, status="closed")["features"] == []
    assert _list(client, status="resolved")["features"] == []


def test_status_filter_separates_open_and_closed(
    client: Any, session: Session, seeded: list[Seeded]
) -> None:
    _set_status(session, seeded[0].id, "resolved")
    _set_status(session, seeded[1].id, "rejected")
    _set_status(session, seeded[2].id, "in_progress")
    closed = {seeded[0].id, seeded[1].id}

    assert set(_ids(_list(client, status="closed"))) == closed
    assert set(_ids(_list(client, status="open"))) == {r.id for r in seeded} - closed
    assert _ids(_list(client, status="in_progress")) == [seeded[2].id]
    assert set(_ids(_list(client, status="resolved,in_progress"))) == {seeded[0].id,
                                                                       seeded[2].id}
    assert len(_ids(_list(client, status="open,closed"))) == len(seeded)
    listed = {f["properties"]["id"]: f["properties"] for f in _list(client)["features"]}
    assert listed[seeded[0].id]["status"] == "resolved"
    assert listed[seeded[0].id]["open311_status"] == "closed"


def test_unknown_status_is_rejected(client: Any) -> None:
    cases = [("bogus", "bogus"), ("one-bogus", "open,bogus"), ("only-commas", ",")]
    check_table(cases, lambda status: assert_error(
        client.get(REPORTS_URL, query_string={"status": status}), 422, "validation_failed",
        {"status"}))


def test_category_filter_returns_exactly_those_categories(
    client: Any, seeded: list[Seeded]
) -> None:
    cases = [(c, c) for c in ["schild-fehlt", "ampel-ausfall", "sonstiges",
                              "schild-fehlt,ampel-ausfall", "ampel-taster"]]

    def check(categories: str) -> None:
        wanted = set(categories.split(","))
        expected = [r.id for r in reversed(seeded) if r.category in wanted]
        assert _ids(_list(client, category=categories)) == expected

    check_table(cases, check)


def test_filters_combine(client: Any, seeded: list[Seeded]) -> None:
    expected = [r.id for r in reversed(seeded)
                if r.category == "schild-fehlt" and _inside(r, BBOX_ALLIANZ_ARENA)]
    assert expected == [seeded[6].id]
    assert _ids(_list(client, category="schild-fehlt", status="open",
                      bbox=_bbox(BBOX_ALLIANZ_ARENA))) == expected


def test_unknown_category_filter_is_rejected(client: Any) -> None:
    cases = [("unknown", "laterne"), ("one-unknown", "schild-fehlt,laterne"),
             ("only-commas", ",")]
    check_table(cases, lambda category: assert_error(
        client.get(REPORTS_URL, query_string={"category": category}), 422,
        "validation_failed", {"category"}))


# --------------------------------------------------------------------------- pagination


def _page_through(client: Any, **params: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        body = _list(client, **query)
        pages.append(_ids(body))
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert isinstance(cursor, str) and cursor
        assert len(pages) <= len(SEED) + 1, "pagination does not end"


def test_cursor_pages_through_all_reports_exactly_once(
    client: Any, seeded: list[Seeded]
) -> None:
    newest_first = [r.id for r in reversed(seeded)]
    cases = [(f"limit={limit}", limit, sizes) for limit, sizes in
             [(5, [5, 5, 2]), (4, [4, 4, 4]), (6, [6, 6]), (12, [12]), (1, [1] * 12),
              (500, [12])]]

    def check(limit: int, sizes: list[int]) -> None:
        pages = _page_through(client, limit=limit)
        assert [len(p) for p in pages] == sizes
        flat = [i for page in pages for i in page]
        assert len(set(flat)) == len(flat), "a report was listed twice"
        assert flat == newest_first

    check_table(cases, check)


def test_cursor_pagination_keeps_the_filters(client: Any, seeded: list[Seeded]) -> None:
    expected = [r.id for r in reversed(seeded) if r.category.startswith("schild-")]
    pages = _page_through(client, limit=2, category="schild-fehlt,schild-beschaedigt,"
                          "schild-verdreht,schild-unleserlich")

    assert [i for page in pages for i in page] == expected
    assert all(len(p) == 2 for p in pages[:-1])


def test_new_report_does_not_disturb_a_pagination_in_progress(
    client: Any, seeded: list[Seeded]
) -> None:
    first = _list(client, limit=5)
    create(client)  # newer than everything: belongs before page one, not into page two
    second = _list(client, limit=5, cursor=first["next_cursor"])

    assert _ids(second) == [r.id for r in reversed(seeded)][5:10]


def test_default_limit_is_100(client: Any) -> None:
    for _ in range(101):
        create(client)
    body = _list(client)
    assert len(body["features"]) == 100
    assert body["next_cursor"] is not None
    assert len(_list(client, cursor=body["next_cursor"])["features"]) == 1


def test_invalid_limit_is_rejected(client: Any) -> None:
    cases = [(repr(v), v) for v in ["0", "501", "x", "-1", "1.5", ""]]
    check_table(cases, lambda limit: assert_error(
        client.get(REPORTS_URL, query_string={"limit": limit}), 422, "validation_failed",
        {"limit"}))


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_malformed_cursor_is_rejected(client: Any) -> None:
    cases = [
        ("bangs", "!!!"), ("spaces", "not a cursor"), ("garbage", "abc"),
        ("wrong-prefix", _b64("x12")), ("no-number", _b64("r")), ("letters", _b64("rabc")),
        ("no-prefix", _b64("12")), ("percent", "%%%"),
    ]
    check_table(cases, lambda cursor: assert_error(
        client.get(REPORTS_URL, query_string={"cursor": cursor}), 422, "validation_failed",
        {"cursor"}))


def test_cursor_beyond_any_report_id_is_rejected_not_a_server_error(client: Any) -> None:
    # A forged cursor must be refused like any other invalid cursor, never end in a 500.
    cases = [("2**63", 2**63), ("10**30", 10**30)]
    check_table(cases, lambda number: assert_error(
        client.get(REPORTS_URL, query_string={"cursor": _b64(f"r{number}")}), 422,
        "validation_failed", {"cursor"}))


def test_updated_after_lists_only_recently_changed_reports(client: Any) -> None:
    from datetime import UTC, datetime, timedelta

    created = client.post(REPORTS_URL, json={
        "category": "schild-fehlt", "lat": 48.1374, "lon": 11.5755, "description": "x"})
    assert created.status_code == 201
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert client.get(REPORTS_URL, query_string={"updated_after": past}).get_json()["features"]
    assert client.get(REPORTS_URL, query_string={"updated_after": future}
                      ).get_json()["features"] == []
    assert client.get(REPORTS_URL, query_string={"updated_after": "yesterday"}
                      ).status_code == 422

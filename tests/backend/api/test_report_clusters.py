"""GET /api/v1/reports/clusters: the zoomed-out map as counts per grid cell, current with
every change, filtered like the list, with ETags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from backend.services import workflow
from backend.workflow import Actor, RejectReason, Status
from tests.backend.api.helpers import ALLIANZ_ARENA, MARIENPLATZ, assert_error, create, offset

CITY = "11.36,48.06,11.73,48.25"
URL = "/api/v1/reports/clusters"


def clusters(client: Any, **params: Any) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in {"bbox": CITY, "zoom": 12, **params}.items())
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    return response.get_json()


def test_reports_are_counted_per_cell_at_their_mean_position(client: Any) -> None:
    for i in range(3):
        create(client, point=offset(MARIENPLATZ, north_m=20 * i))
    create(client, point=ALLIANZ_ARENA)
    body = clusters(client)
    assert body["total"] == 4 and body["zoom"] == 12
    by_count = sorted(body["features"], key=lambda f: f["properties"]["count"])
    assert [f["properties"]["count"] for f in by_count] == [1, 3]
    centre = by_count[1]
    lon, lat = centre["geometry"]["coordinates"]
    assert abs(lon - MARIENPLATZ[0]) < 1e-4 and abs(lat - offset(MARIENPLATZ, 20)[1]) < 1e-4
    minx, miny, maxx, maxy = centre["properties"]["bbox"]
    assert minx <= lon <= maxx and miny <= lat <= maxy
    assert centre["id"].startswith("12/")
    # Zoomed in far enough, the three reports 20 m apart still share a 64 px cell at z13 ...
    assert clusters(client, zoom=13)["total"] == 4
    # ... and a viewport around the Allianz Arena holds only its report.
    arena = f"{ALLIANZ_ARENA[0] - 0.01},{ALLIANZ_ARENA[1] - 0.01}," \
            f"{ALLIANZ_ARENA[0] + 0.01},{ALLIANZ_ARENA[1] + 0.01}"
    assert clusters(client, bbox=arena)["total"] == 1


def test_filters_and_changes_show_in_the_next_answer(client: Any, engine: Engine) -> None:
    first = create(client)
    create(client, category="ampel-ausfall", point=ALLIANZ_ARENA)
    assert clusters(client, status="open")["total"] == 2
    assert clusters(client, category="ampel-ausfall")["total"] == 1
    with Session(engine) as session:
        workflow.change_status(session, first["id"], workflow.StatusChange(
            target=Status.REJECTED, actor=Actor.STAFF, actor_name="anna",
            reason=RejectReason.CANNOT_FIX, public_note="Kein Mangel."))
    assert clusters(client, status="open")["total"] == 1
    assert clusters(client, status="closed")["total"] == 1
    assert clusters(client, updated_after="2999-01-01T00:00:00Z")["total"] == 0


def test_an_unchanged_answer_is_a_304(client: Any) -> None:
    create(client)
    first = client.get(f"{URL}?bbox={CITY}&zoom=11")
    tag = first.headers["ETag"]
    assert client.get(f"{URL}?bbox={CITY}&zoom=11",
                      headers={"If-None-Match": tag}).status_code == 304
    create(client, point=ALLIANZ_ARENA)
    again = client.get(f"{URL}?bbox={CITY}&zoom=11", headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.get_json()["total"] == 2


def test_bad_queries_name_every_field(client: Any) -> None:
    assert_error(client.get(URL), 422, "validation_failed", {"bbox", "zoom"})
    assert_error(client.get(f"{URL}?bbox={CITY}&zoom=20"), 422, "validation_failed", {"zoom"})
    assert_error(client.get(f"{URL}?bbox=1,2,3&zoom=x&category=nope"), 422, "validation_failed",
                 {"bbox", "zoom"})
    assert_error(client.get(f"{URL}?bbox={CITY}&zoom=12&category=nope"), 422, "validation_failed",
                 {"category"})


def test_an_empty_city_has_no_clusters(client: Any) -> None:
    assert clusters(client) == {"type": "FeatureCollection", "features": [], "zoom": 12,
                                "total": 0}

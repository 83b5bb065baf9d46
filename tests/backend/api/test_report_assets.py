"""Reports that point at an asset, on both backends: snapped to it and shown in every public
view; refused (nothing stored) for an unknown, retired or wrong-type asset; idempotent
replays; the asset's open reports first in 'already reported?'; views follow a later
change of the asset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from backend.models import Report
from backend.services.assets.importer import LayerSpec, import_assets
from tests.backend.api.helpers import (
    MARIENPLATZ,
    NEARBY_URL,
    REPORTS_URL,
    assert_error,
    create,
    offset,
    report_body,
)
from tests.backend.api.public_asset_helpers import (
    SIGN_POINTS,
    SIGNALS,
    SIGNS,
    load_test_layers,
)
from tests.backend.api.test_openapi import SpecValidators
from tests.backend.services.assets.helpers import write_geojson

BOX = "11.57,48.13,11.58,48.14"


@pytest.fixture
def ids(session: Session, tmp_path: Path) -> dict[str, int]:
    return load_test_layers(session, tmp_path)


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Report)) or 0


def _stored_point(engine: Engine, public_id: str) -> tuple[float, float, int | None]:
    with Session(engine) as session:
        row = session.execute(select(func.ST_X(Report.geom), func.ST_Y(Report.geom),
                                     Report.asset_id).where(Report.public_id == public_id)).one()
        return float(row[0]), float(row[1]), row[2]


def test_report_with_an_asset_snaps_to_it_and_shows_it_everywhere(
        client: Any, engine: Engine, ids: dict[str, int]) -> None:
    validators = SpecValidators(client.get("/api/v1/openapi.json").get_json())
    asset_point = SIGN_POINTS["vz-1"]
    response = client.post(REPORTS_URL, json=report_body(
        "schild-fehlt", offset(MARIENPLATZ, north_m=15), asset_id=ids["vz-1"]))
    assert response.status_code == 201, response.get_data(as_text=True)
    validators.check("post", "/api/v1/reports", response)
    created = response.get_json()
    lon, lat, asset_id = _stored_point(engine, created["id"])
    assert (lon, lat) == pytest.approx(asset_point, abs=1e-9) and asset_id == ids["vz-1"]
    assert created["location"] == pytest.approx({"lon": asset_point[0], "lat": asset_point[1]})
    asset = created["asset"]
    assert (asset["id"], asset["layer"], asset["type"], asset["external_id"]) == (
        ids["vz-1"], SIGNS, "sign_post", "vz-1")
    assert (asset["name"], asset["number"], asset["retired"]) == ("Halteverbot", "VZ 283-1",
                                                                  False)
    assert "distance_m" not in asset
    detail = client.get(f"{REPORTS_URL}/{created['id']}")
    validators.check("get", "/api/v1/reports/{public_id}", detail)
    assert detail.get_json()["asset"] == asset
    tracked = client.get(f"/api/v1/track/{created['tracking_token']}")
    validators.check("get", "/api/v1/track/{token}", tracked)
    assert tracked.get_json()["asset"] == asset
    listing = client.get(f"{REPORTS_URL}?bbox={BOX}")
    validators.check("get", "/api/v1/reports", listing)
    listed = {f["id"]: f for f in listing.get_json()["features"]}
    assert listed[created["id"]]["properties"]["asset"] == asset
    assert listed[created["id"]]["geometry"]["coordinates"] == pytest.approx(list(asset_point))


def test_a_report_without_an_asset_shows_null(client: Any) -> None:
    created = create(client)
    assert created["asset"] is None
    listed = client.get(f"{REPORTS_URL}?bbox={BOX}").get_json()["features"]
    assert listed[0]["properties"]["asset"] is None


def test_multipart_report_takes_the_asset_id_as_a_form_field(client: Any, engine: Engine,
                                                            ids: dict[str, int]) -> None:
    response = client.post(REPORTS_URL, data={
        "category": "ampel-lampe", "lat": "48.1374", "lon": "11.5755",
        "description": "Rot ist dunkel", "asset_id": str(ids["lsa-1"])},
        content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["asset"]["id"] == ids["lsa-1"]
    assert _stored_point(engine, response.get_json()["id"])[2] == ids["lsa-1"]
    blank = client.post(REPORTS_URL, data={
        "category": "ampel-lampe", "lat": "48.1374", "lon": "11.5755",
        "description": "Gelb blinkt", "asset_id": ""}, content_type="multipart/form-data")
    assert blank.status_code == 201 and blank.get_json()["asset"] is None
    bad = client.post(REPORTS_URL, data={
        "category": "ampel-lampe", "lat": "48.1374", "lon": "11.5755",
        "description": "x", "asset_id": "zwölf"}, content_type="multipart/form-data")
    assert_error(bad, 422, "validation_failed", {"asset_id"})


@pytest.mark.parametrize(("case", "category", "asset", "message"), [
    ("unknown", "schild-fehlt", None, "unknown asset"),
    ("retired", "schild-fehlt", "vz-old", "retired asset"),
    ("signal for a sign", "schild-fehlt", "lsa-1",
     "a traffic signal cannot be chosen for a category of the group 'schild'"),
    ("sign for a signal", "ampel-lampe", "vz-1",
     "a sign post cannot be chosen for a category of the group 'ampel'"),
    ("a string", "schild-fehlt", "text", "must be an integer"),
    ("a boolean", "schild-fehlt", True, "must be an integer"),
    ("a fraction", "schild-fehlt", 1.5, "must be an integer"),
    ("zero", "schild-fehlt", 0, None),
    ("too large", "schild-fehlt", 2**70, None),
])
def test_a_wrong_asset_is_refused_naming_asset_id_and_nothing_is_stored(
        client: Any, engine: Engine, ids: dict[str, int], case: str, category: str,
        asset: Any, message: str | None) -> None:
    if asset is None:
        asset_id: Any = max(ids.values()) + 10**6
    elif asset == "text":
        asset_id = str(ids["vz-1"])
    elif isinstance(asset, str):
        asset_id = ids[asset]
    else:
        asset_id = asset
    response = client.post(REPORTS_URL, data=json.dumps(report_body(category, asset_id=asset_id)),
                           content_type="application/json",
                           headers={"Idempotency-Key": f"wrong-{case.replace(' ', '-')}"})
    error = assert_error(response, 422, "validation_failed", {"asset_id"})
    if message is not None:
        assert error["fields"]["asset_id"] == [message]
    assert _count(engine) == 0


def test_an_unknown_category_and_an_asset_name_the_category(client: Any,
                                                           ids: dict[str, int]) -> None:
    response = client.post(REPORTS_URL, json=report_body("gibt-es-nicht",
                                                         asset_id=ids["vz-1"]))
    assert_error(response, 422, "validation_failed", {"category"})


def test_idempotent_replay_with_an_asset_and_a_changed_asset_conflicts(
        client: Any, engine: Engine, ids: dict[str, int]) -> None:
    headers = {"Idempotency-Key": "asset-replay-1"}
    body = report_body("schild-fehlt", asset_id=ids["vz-1"])
    first = client.post(REPORTS_URL, json=body, headers=headers)
    again = client.post(REPORTS_URL, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["asset"] == first.get_json()["asset"]
    other = client.post(REPORTS_URL, json={**body, "asset_id": ids["vz-2"]}, headers=headers)
    assert_error(other, 409, "conflict", {"Idempotency-Key"})
    without = client.post(REPORTS_URL, json=report_body("schild-fehlt"), headers=headers)
    assert_error(without, 409, "conflict", {"Idempotency-Key"})
    assert _count(engine) == 1


def test_nearby_puts_the_assets_open_reports_first(client: Any, ids: dict[str, int]) -> None:
    # The same sign post's report 500 m away (snapped), an unrelated one right here.
    same = create(client, "schild-verdreht", asset_id=ids["vz-2"])
    here = create(client, "schild-fehlt", offset(MARIENPLATZ, north_m=5))
    other_asset = create(client, "schild-fehlt", asset_id=ids["vz-1"])
    params = {"lat": MARIENPLATZ[1], "lon": MARIENPLATZ[0], "category": "schild-fehlt"}
    plain = client.get(NEARBY_URL, query_string=params).get_json()["features"]
    assert [f["id"] for f in plain] == [here["id"], other_asset["id"]]
    assert all("same_asset" not in f["properties"] for f in plain)
    asked = client.get(NEARBY_URL, query_string={**params, "asset_id": ids["vz-2"]})
    assert asked.status_code == 200
    SpecValidators(client.get("/api/v1/openapi.json").get_json()).check(
        "get", "/api/v1/reports/nearby", asked)
    features = asked.get_json()["features"]
    assert [(f["id"], f["properties"]["same_asset"]) for f in features] == [
        (same["id"], True), (here["id"], False), (other_asset["id"], False)]
    assert features[0]["properties"]["distance_m"] == pytest.approx(500, abs=5)
    assert features[0]["properties"]["asset"]["id"] == ids["vz-2"]
    # Another group's report of no asset never shows; a sign asset for a signal category
    # finds nothing of the sign group.
    signal = client.get(NEARBY_URL, query_string={**params, "category": "ampel-lampe",
                                                  "asset_id": ids["vz-2"]}).get_json()
    assert signal["features"] == []


def test_nearby_refuses_a_bad_asset_id(client: Any, ids: dict[str, int]) -> None:
    params = {"lat": MARIENPLATZ[1], "lon": MARIENPLATZ[0], "category": "schild-fehlt"}
    for value in ("x", "0", "1.5", str(10**12)):
        response = client.get(NEARBY_URL, query_string={**params, "asset_id": value})
        assert_error(response, 422, "validation_failed", {"asset_id"})


def test_changing_a_reports_asset_drops_and_rerenders_its_views(
        client: Any, engine: Engine, ids: dict[str, int]) -> None:
    report = create(client, "schild-fehlt", asset_id=ids["vz-1"])
    listed = client.get(f"{REPORTS_URL}?bbox={BOX}").get_json()  # warm the process's caches
    assert listed["features"][0]["properties"]["asset"]["id"] == ids["vz-1"]
    with engine.begin() as conn:  # as any writer would, e.g. a dispatcher's correction
        conn.execute(text("UPDATE report SET asset_id = :asset WHERE public_id = :id"),
                     {"asset": ids["vz-2"], "id": report["id"]})
        assert conn.execute(text(
            "SELECT count(*) FROM report_public v JOIN report r ON r.id = v.report_id "
            "WHERE r.public_id = :id"), {"id": report["id"]}).scalar() == 0
    detail = client.get(f"{REPORTS_URL}/{report['id']}").get_json()
    assert detail["asset"]["id"] == ids["vz-2"]
    listed = client.get(f"{REPORTS_URL}?bbox={BOX}").get_json()
    assert listed["features"][0]["properties"]["asset"]["id"] == ids["vz-2"]


def test_a_reimport_that_changes_or_retires_the_asset_updates_its_reports(
        client: Any, session: Session, tmp_path: Path, ids: dict[str, int]) -> None:
    report = create(client, "schild-fehlt", asset_id=ids["vz-1"])
    untouched = create(client, "ampel-lampe", asset_id=ids["lsa-1"])
    before = client.get(f"{REPORTS_URL}/{untouched['id']}").data
    client.get(f"{REPORTS_URL}?bbox={BOX}")
    renamed = {"vz-1": {"name": "Absolutes Halteverbot", "ref": "VZ 283-1"}}
    import_assets(session, str(write_geojson(tmp_path / "renamed.geojson", SIGN_POINTS,
                                             **renamed)), LayerSpec(SIGNS, "sign_post"))
    detail = client.get(f"{REPORTS_URL}/{report['id']}").get_json()
    assert detail["asset"]["name"] == "Absolutes Halteverbot"
    import_assets(session, str(write_geojson(tmp_path / "gone.geojson", {
        "vz-2": SIGN_POINTS["vz-2"]})), LayerSpec(SIGNS, "sign_post"))
    listed = {f["id"]: f for f in client.get(f"{REPORTS_URL}?bbox={BOX}").get_json()["features"]}
    assert listed[report["id"]]["properties"]["asset"]["retired"] is True
    assert client.get(f"{REPORTS_URL}/{untouched['id']}").data == before
    assert SIGNALS  # the signal layer was not re-imported


@pytest.mark.parametrize(("pin_north_m", "photo_at", "flagged"), [
    # The pin was dropped 1.5 km off, the photo was taken at the sign: once snapped to the
    # sign the report is where the photo is; nothing to look at twice.
    (1500, "asset", False),
    # The pin and the photo agree, but the chosen sign is 1.5 km away: that is suspicious.
    (1500, "pin", True),
])
def test_the_photo_is_compared_with_where_the_report_ends_up(
        client: Any, session: Session, ids: dict[str, int], pin_north_m: int, photo_at: str,
        flagged: bool) -> None:
    from tests.backend.api.test_photo_upload import IPHONE_HEIC, post_report, report_form, upload
    sign = SIGN_POINTS["vz-1"]
    pin = offset(sign, north_m=pin_north_m)
    photo_lon, photo_lat = sign if photo_at == "asset" else pin
    response = post_report(client, [upload(IPHONE_HEIC)], form=report_form(
        pin, asset_id=str(ids["vz-1"]), photo_lat=str(photo_lat), photo_lon=str(photo_lon)))
    assert response.status_code == 201, response.get_data(as_text=True)
    flags = session.scalar(select(Report.review_flags)
                           .where(Report.public_id == response.get_json()["id"]))
    assert flags == (["photo_far_from_pin"] if flagged else None)

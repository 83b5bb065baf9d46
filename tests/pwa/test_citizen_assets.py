"""Issue 18 in the citizen app (phone-sized Chromium, 390×844): the chosen group's traffic
signals on the report map at street zoom (clustered, with their attribution), a tap snaps the
report to a signal and it is sent with `asset_id`; the map-free path finds a signal by the
number on its controller box; the signal's own open report is offered for following first;
the nearest signals as a list of buttons (keyboard only); axe; German and English texts.

Besides the demo's 1,740 OpenStreetMap signals (no numbers), each test imports a one-signal
register with a number ("LSA 4711") next to the phone's GPS position at Karlsplatz.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.models import Asset
from backend.services.assets.importer import LayerSpec, import_assets
from backend.services.assets.readers import ReadOptions
from tests.pwa.conftest import (
    LiveServer,
    assert_accessible,
    screenshot,
    server_session,
    wait_for_service_worker,
)

PHONE_390 = {"width": 390, "height": 844}
GPS = {"latitude": 48.1392, "longitude": 11.5660}  # Karlsplatz (Stachus): many signals
SIGNAL = (11.56615, 48.13930)  # ≈ 15 m from GPS


@pytest.fixture
def signal(live_server: LiveServer, tmp_path: Path) -> int:
    """A numbered signal next to the GPS position; its asset id."""
    path = tmp_path / "lsa.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"lsa": "LSA-T1", "nummer": "LSA 4711",
                                          "name": "Stachus (Test)"},
        "geometry": {"type": "Point", "coordinates": list(SIGNAL)}}]}))
    for session in server_session(live_server):
        import_assets(session, str(path), LayerSpec("lsa-test", "traffic_signal", "CC0-1.0",
                                                    "Testregister"),
                      ReadOptions(id_field="lsa", name_field="name", number_field="nummer"))
        return session.scalars(select(Asset.id).where(Asset.external_id == "LSA-T1")).one()
    raise AssertionError("no session")


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A 390×844 phone at Karlsplatz, German, geolocation allowed."""
    context = browser.new_context(
        bypass_csp=True, viewport=PHONE_390, device_scale_factor=2, is_mobile=True,
        has_touch=True, locale="de-DE", geolocation=GPS, permissions=["geolocation"],
        base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


def _choose(page: Any, group: str, category: str) -> None:
    page.check(f"input[name='group'][value='{group}']", force=True)
    page.check(f"input[name='category'][value='{category}']", force=True)


def _gps_and_ampel(page: Any) -> None:
    page.goto("/report")
    page.wait_for_selector("#group-ampel", state="attached")
    page.click("#locate-me")
    page.wait_for_function("document.querySelector('#location-summary').classList.contains('is-set')")
    _choose(page, "ampel", "ampel-ausfall")
    page.wait_for_selector("#asset-picker", state="visible", timeout=10000)


def _submit(page: Any, text: str) -> dict[str, Any]:
    page.fill("#description", text)
    page.click("#submit-report")
    page.wait_for_selector("#confirmation", state="visible", timeout=20000)
    report_id = page.text_content("#confirmation-id").strip()
    return page.request.get(f"/api/v1/reports/{report_id}").json()


def test_street_zoom_shows_clustered_signals_and_a_tap_snaps_the_report(
    phone: Any, live_server: LiveServer, signal: int,
) -> None:
    _gps_and_ampel(phone)
    # Street zoom (16) after the GPS fix: the demo's signals around Karlsplatz, clustered.
    phone.wait_for_function("Number(document.querySelector('#report-map').dataset.assets) > 1",
                            timeout=15000)
    assert phone.locator("#report-map .asset-cluster").count() > 0
    assert "OpenStreetMap" in phone.text_content("#report-map .leaflet-control-attribution")
    assert "Testregister" in phone.text_content("#report-map .leaflet-control-attribution")
    screenshot(phone, "assets-1-signals-clustered")
    for _ in range(3):  # to zoom 19: no clusters any more
        phone.click("#report-map .leaflet-control-zoom-in")
        phone.wait_for_timeout(400)
    marker = phone.locator(f"#report-map .asset-marker span[data-id='{signal}']")
    marker.wait_for(timeout=10000)
    marker.click()
    phone.wait_for_selector("#asset-selected", state="visible")
    assert "4711" in phone.text_content("#asset-selected-name")
    assert "Ampel LSA 4711" in phone.text_content("#location-summary")
    phone.wait_for_selector(f"#report-map .asset-marker.is-selected span[data-id='{signal}']")
    phone.wait_for_timeout(500)  # the map's pan to the snapped pin
    screenshot(phone, "assets-2-signal-selected")
    report = _submit(phone, "Die Ampel ist ganz dunkel.")
    assert report["asset"]["id"] == signal
    assert report["asset"]["number"] == "LSA 4711"
    assert report["location"]["lat"] == pytest.approx(SIGNAL[1], abs=1e-6)
    assert report["location"]["lon"] == pytest.approx(SIGNAL[0], abs=1e-6)


def test_undo_keeps_the_point_and_sends_no_asset(
    phone: Any, live_server: LiveServer, signal: int,
) -> None:
    _gps_and_ampel(phone)
    phone.click("#asset-nearby-list button.asset-choose >> nth=0")
    phone.wait_for_selector("#asset-selected", state="visible")
    phone.click("#asset-clear")
    phone.wait_for_selector("#asset-selected", state="hidden")
    assert "Ampel" not in phone.text_content("#location-summary")
    report = _submit(phone, "Die Ampel ist ganz dunkel.")
    assert report.get("asset") is None


def test_the_nearest_signals_are_a_list_of_buttons_usable_by_keyboard_alone(
    phone: Any, live_server: LiveServer, signal: int,
) -> None:
    phone.goto("/report")
    phone.wait_for_selector("#group-ampel", state="attached")
    phone.focus("#locate-me")
    phone.keyboard.press("Enter")
    phone.wait_for_function("document.querySelector('#location-summary').classList.contains('is-set')")
    phone.focus("#group-ampel")
    phone.keyboard.press("Space")
    phone.wait_for_selector("#category-ampel-lampe", state="attached")
    phone.focus("#category-ampel-lampe")
    phone.keyboard.press("Space")
    first = phone.locator("#asset-nearby-list > li").first
    first.wait_for(timeout=10000)
    assert "Ampel LSA 4711" in first.text_content()  # the nearest first, ≈ 15 m
    assert phone.text_content("#asset-nearby-title") == "Ampeln in der Nähe"
    first.locator("button.asset-choose").focus()
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#asset-selected", state="visible")
    assert first.locator("button.asset-choose").get_attribute("aria-pressed") == "true"
    screenshot(phone, "assets-3-keyboard-list")
    assert_accessible(phone, "report with the signal picker")
    phone.focus("#description")
    phone.keyboard.type("Die rote Lampe ist aus.")
    phone.focus("#submit-report")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#confirmation", state="visible", timeout=20000)
    report_id = phone.text_content("#confirmation-id").strip()
    assert phone.request.get(f"/api/v1/reports/{report_id}").json()["asset"]["id"] == signal


def test_without_the_map_the_number_on_the_controller_box_finds_the_signal(
    phone: Any, live_server: LiveServer, signal: int,
) -> None:
    phone.context.clear_permissions()  # no GPS, no map: district, then the number
    phone.goto("/report")
    phone.wait_for_selector("#district option[value='01']", state="attached")
    phone.select_option("#district", "01")
    _choose(phone, "ampel", "ampel-ausfall")
    phone.wait_for_selector("#asset-picker", state="visible", timeout=10000)
    assert phone.is_hidden("#asset-nearby")  # a district's middle point has no "nearby"
    phone.fill("#asset-number", "lsa 9999")
    phone.press("#asset-number", "Enter")
    phone.wait_for_selector("#asset-number-error", state="visible")
    assert "9999" in phone.text_content("#asset-number-error")
    phone.fill("#asset-number", "lsa4711")  # spaces and case do not matter
    phone.press("#asset-number", "Enter")
    match = phone.locator("#asset-matches button.asset-choose")
    match.wait_for(timeout=10000)
    assert "Stachus (Test)" in phone.text_content("#asset-matches")
    screenshot(phone, "assets-4-number-lookup")
    match.click()  # the match is confirmed, not taken silently
    phone.wait_for_selector("#asset-selected", state="visible")
    report = _submit(phone, "Ampel aus")
    assert report["asset"]["id"] == signal
    assert report["district"]["number"] == "01"
    assert report["location"]["lat"] == pytest.approx(SIGNAL[1], abs=1e-6)


def test_the_nearest_signal_to_my_location_is_offered_for_confirmation(
    phone: Any, live_server: LiveServer, signal: int,
) -> None:
    phone.goto("/report")
    phone.wait_for_selector("#group-ampel", state="attached")
    _choose(phone, "ampel", "ampel-ausfall")
    phone.wait_for_selector("#asset-nearest", state="visible", timeout=10000)
    phone.click("#asset-nearest")
    phone.wait_for_selector("#asset-matches button.asset-choose", timeout=10000)
    assert "LSA 4711" in phone.text_content("#asset-matches")
    phone.click("#asset-matches button.asset-choose")
    phone.wait_for_selector("#asset-selected", state="visible")
    assert "LSA 4711" in phone.text_content("#location-summary")


def test_a_signal_with_an_open_report_offers_following_it_first(
    phone: Any, live_server: LiveServer, signal: int,
) -> None:
    existing = phone.request.post("/api/v1/reports", data=json.dumps({
        "category": "ampel-lampe", "lat": SIGNAL[1], "lon": SIGNAL[0], "asset_id": signal,
        "description": "Rot ist aus."}), headers={"Content-Type": "application/json"})
    assert existing.status == 201, existing.text()
    existing_id = existing.json()["id"]
    _gps_and_ampel(phone)
    phone.fill("#asset-number", "LSA 4711")
    phone.click("#asset-lookup")
    phone.click("#asset-matches button.asset-choose")
    phone.wait_for_selector("#nearby-asset-lead", state="visible", timeout=10000)
    assert phone.text_content("#nearby-asset-lead").startswith(
        "Diese Ampel hat schon eine offene Meldung")
    first = phone.locator("#nearby-list > li.nearby-item").first
    assert first.get_attribute("data-id") == existing_id
    assert "same-asset" in first.get_attribute("class")
    screenshot(phone, "assets-5-same-signal-reported")
    first.locator(".follow-report").click()
    phone.fill(".follow-panel input.follow-email", "fan@example.org")
    phone.click(".follow-panel button.follow-confirm")
    phone.wait_for_selector("p.follow-done", timeout=10000)


def test_sign_posts_without_a_layer_show_no_picker(
    phone: Any, live_server: LiveServer,
) -> None:
    phone.goto("/report")
    phone.wait_for_selector("#group-schild", state="attached")
    phone.click("#locate-me")
    _choose(phone, "schild", "schild-fehlt")
    phone.wait_for_timeout(1500)
    assert phone.is_hidden("#asset-picker")
    assert phone.locator("#report-map .asset-marker, #report-map .asset-cluster").count() == 0


def test_the_picker_speaks_english(phone: Any, live_server: LiveServer, signal: int) -> None:
    phone.goto("/report")
    phone.wait_for_selector("#group-ampel", state="attached")
    phone.select_option("#lang-switch", "en")
    phone.wait_for_function("document.documentElement.lang === 'en'")
    # The language switch reloads the named lists: the group choices are English when done.
    phone.wait_for_function(
        "document.querySelector('#status-message').textContent.length > 0")
    phone.click("#locate-me")
    _choose(phone, "ampel", "ampel-ausfall")
    phone.wait_for_selector("#asset-picker", state="visible", timeout=10000)
    phone.wait_for_selector("#asset-nearby-list > li", timeout=10000)
    assert phone.text_content("#asset-title") == "Which traffic signal exactly? (optional)"
    assert phone.text_content("#asset-nearby-title") == "Traffic signals nearby"
    assert "Number on the controller box" in phone.text_content("label[for='asset-number']")
    phone.click("#asset-nearby-list button.asset-choose >> nth=0")
    phone.wait_for_selector("#asset-selected", state="visible")
    assert "Traffic signal LSA 4711" in phone.text_content("#asset-selected-name")
    screenshot(phone, "assets-6-english")
    assert_accessible(phone, "report with the signal picker (English)")


def test_without_the_asset_api_nothing_about_assets_is_shown(
    phone: Any, live_server: LiveServer,
) -> None:
    # A server without the asset endpoints (older, or a city without registers): no picker,
    # no markers, and the report works as before.
    refused: list[str] = []

    def not_found(route: Any) -> None:
        refused.append(route.request.url)
        route.fulfill(status=404, content_type="application/json",
                      body='{"error": {"code": "not_found", "message": "Not found", '
                           '"fields": {}}}')

    # On the context, not the page: once the service worker controls the page, its fetches
    # bypass page routes (Chromium routes them through the context), and this test raced it.
    phone.context.route("**/api/v1/assets**", not_found)
    phone.goto("/report")
    phone.wait_for_selector("#group-ampel", state="attached")
    phone.click("#locate-me")
    _choose(phone, "ampel", "ampel-ausfall")
    for _ in range(150):  # Playwright runs the route handler only while it waits
        if refused:
            break
        phone.wait_for_timeout(100)
    assert refused, "the app never asked for the signals"
    phone.wait_for_timeout(300)  # the refusal handled (the picker would show now if ever)
    assert phone.is_hidden("#asset-picker")
    assert phone.locator("#report-map .asset-marker, #report-map .asset-cluster").count() == 0
    report = _submit(phone, "Die Ampel ist dunkel.")
    assert report.get("asset") is None


def test_signals_seen_once_stay_on_the_map_offline(
    phone: Any, live_server: LiveServer, signal: int,
) -> None:
    phone.goto("/report")
    wait_for_service_worker(phone)
    phone.reload()  # now every request goes through the service worker
    _gps_and_ampel(phone)
    phone.wait_for_function("Number(document.querySelector('#report-map').dataset.assets) > 1",
                            timeout=15000)
    online = phone.get_attribute("#report-map", "data-assets")
    phone.wait_for_timeout(500)  # the worker stores the answers
    phone.context.set_offline(True)
    _gps_and_ampel(phone)  # reloads /report from the worker's cache
    phone.wait_for_function("Number(document.querySelector('#report-map').dataset.assets) > 1",
                            timeout=15000)
    assert phone.get_attribute("#report-map", "data-assets") == online
    phone.wait_for_selector("#asset-nearby-list > li", timeout=10000)
    assert "LSA 4711" in phone.text_content("#asset-nearby-list")


def test_another_group_drops_the_chosen_signal(
    phone: Any, live_server: LiveServer, signal: int,
) -> None:
    _gps_and_ampel(phone)
    phone.click("#asset-nearby-list button.asset-choose >> nth=0")
    phone.wait_for_selector("#asset-selected", state="visible")
    _choose(phone, "schild", "schild-fehlt")
    phone.wait_for_selector("#asset-picker", state="hidden")
    assert "Ampel" not in phone.text_content("#location-summary")
    report = _submit(phone, "Schild fehlt")
    assert report.get("asset") is None
    assert report["category"]["code"] == "schild-fehlt"

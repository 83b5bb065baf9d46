"""The citizen app in a phone-sized headless Chromium: online, offline, without the map."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.models import Photo, Recipient, Report
from tests.polling import wait_until
from tests.pwa.conftest import (
    LiveServer,
    assert_accessible,
    dispatch_sync,
    screenshot,
    settle_outbox,
    wait_for_service_worker,
)
from tests.shared_data import shared_data_dir


def _photo() -> Path:
    return shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg"


def _reports(server: LiveServer) -> list[Report]:
    engine = make_engine(server.app.extensions["mm_settings"].database_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(Report).order_by(Report.id)))
    finally:
        engine.dispose()


def _count(server: LiveServer, model: type) -> int:
    engine = make_engine(server.app.extensions["mm_settings"].database_url)
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


def _choose_category(page: Any, group: str, category: str) -> None:
    page.check(f"input[name='group'][value='{group}']", force=True)
    page.check(f"input[name='category'][value='{category}']", force=True)


def _fill_report(page: Any, *, photo: bool = True) -> None:
    page.click("#locate-me")
    page.wait_for_function(
        "document.querySelector('#location-summary').textContent.trim().length > 0")
    _choose_category(page, "schild", "schild-fehlt")
    if photo:
        page.set_input_files("#photos", str(_photo()))
        page.wait_for_selector("#photo-previews li.photo-preview")
    page.fill("#description", "Das Halteverbotsschild an der Ecke fehlt.")



def test_a_report_with_a_photo_reaches_the_server_routed_to_district_01(
    phone: Any, live_server: LiveServer,
) -> None:
    started = time.monotonic()
    phone.goto("/report")
    screenshot(phone, "de-1-report-form")
    _fill_report(phone)
    screenshot(phone, "de-2-report-filled")
    phone.click("#submit-report")
    phone.wait_for_selector("#confirmation", state="visible", timeout=20000)
    elapsed = time.monotonic() - started
    screenshot(phone, "de-3-confirmation")
    report_id = phone.text_content("#confirmation-id").strip()
    reports = _reports(live_server)
    assert [r.public_id for r in reports] == [report_id]
    body = phone.request.get(f"/api/v1/reports/{report_id}").json()
    assert body["district"]["number"] == "01"
    assert body["department"]["code"] == "bezirksinspektion-mitte"
    assert _count(live_server, Photo) == 1
    print(f"\nflow: page open → sent report in {elapsed:.1f} s")


def test_a_report_made_offline_is_sent_exactly_once_when_the_connection_returns(
    phone: Any, live_server: LiveServer,
) -> None:
    phone.goto("/report")
    wait_for_service_worker(phone)
    phone.context.set_offline(True)
    _fill_report(phone)
    phone.click("#submit-report")
    phone.wait_for_selector("#outbox-status", state="visible", timeout=10000)
    screenshot(phone, "de-4-offline-waiting")
    assert _reports(live_server) == []
    phone.reload()  # the service worker serves the app; the report waits in IndexedDB
    phone.wait_for_selector("#outbox-status", state="visible", timeout=10000)
    phone.context.set_offline(False)
    phone.wait_for_selector("#outbox-status", state="hidden", timeout=20000)
    settle_outbox(phone)  # the retry path ran once more and found nothing to send
    assert len(_reports(live_server)) == 1
    assert _count(live_server, Photo) == 1


def test_background_sync_sends_the_outbox_with_the_app_closed(
    phone: Any, live_server: LiveServer,
) -> None:
    phone.goto("/report")
    wait_for_service_worker(phone)
    phone.context.set_offline(True)
    _fill_report(phone)
    phone.click("#submit-report")
    phone.wait_for_selector("#outbox-status", state="visible", timeout=10000)
    context = phone.context
    phone.close()  # the app is closed; the report waits in IndexedDB
    context.set_offline(False)
    dispatch_sync(context, live_server.url, "outbox")
    wait_until(lambda: _reports(live_server), "the service worker to send the report",
               timeout=20, interval=0.2)
    # Reopening the app: nothing waits any more (the worker's pass is over: the retry path
    # waits for it and finds nothing), and "My reports" lists it with live status.
    page = context.new_page()
    page.goto("/mine")
    settle_outbox(page)
    reports = _reports(live_server)
    assert len(reports) == 1
    assert _count(live_server, Photo) == 1
    page.wait_for_selector(f"li.my-report[data-id='{reports[0].public_id}'] .badge",
                           timeout=10000)
    assert page.is_hidden("#outbox-status")
    screenshot(page, "de-4b-sent-by-background-sync")


def test_a_report_refused_while_the_app_was_closed_is_shown_not_lost(
    phone: Any, live_server: LiveServer,
) -> None:
    phone.goto("/report")
    wait_for_service_worker(phone)
    phone.context.set_offline(True)
    _fill_report(phone, photo=False)
    phone.click("#submit-report")
    phone.wait_for_selector("#outbox-status", state="visible", timeout=10000)
    key = phone.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open('maengelmelder');
        open.onsuccess = () => {
          const get = open.result.transaction('outbox').objectStore('outbox').getAll();
          get.onsuccess = () => resolve(get.result[0].key);
        };
      })""")
    context = phone.context
    phone.close()
    context.set_offline(False)
    # Another report already used this Idempotency-Key: the server refuses the record (409).
    taken = context.request.post("/api/v1/reports", headers={"Idempotency-Key": key}, data={
        "category": "ampel-ausfall", "lat": 48.1374, "lon": 11.5755,
        "description": "Die Ampel ist dunkel."})
    assert taken.status == 201
    dispatch_sync(context, live_server.url, "outbox")
    page = context.new_page()
    page.goto("/mine")
    page.wait_for_selector("li.my-report.is-failed", timeout=15000)
    assert "Das Halteverbotsschild" in page.text_content("li.my-report.is-failed")
    assert len(_reports(live_server)) == 1
    page.click("li.my-report.is-failed button.discard-failed")
    page.wait_for_selector("li.my-report.is-failed", state="detached")
    assert page.is_hidden("#outbox-status")


def test_the_duplicate_prompt_offers_following_instead_of_a_new_report(
    phone: Any, live_server: LiveServer,
) -> None:
    existing = phone.request.post("/api/v1/reports", data=json.dumps({
        "category": "schild-verdreht", "lat": 48.13742, "lon": 11.57552,
        "description": "Schild verdreht"}), headers={"Content-Type": "application/json"}).json()
    phone.goto("/report")
    phone.click("#locate-me")
    _choose_category(phone, "schild", "schild-fehlt")
    phone.wait_for_selector("#nearby-list > li.nearby-item", timeout=10000)
    screenshot(phone, "de-5-already-reported")
    phone.click("#nearby-list > li.nearby-item .follow-report")
    phone.fill(".follow-panel input.follow-email", "fan@example.org")
    phone.click(".follow-panel button.follow-confirm")
    phone.wait_for_selector("p.follow-done", timeout=10000)
    screenshot(phone, "de-5b-following")
    deadline = time.monotonic() + 10
    while _count(live_server, Recipient) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _count(live_server, Recipient) == 1
    assert [r.public_id for r in _reports(live_server)] == [existing["id"]]


def test_the_report_can_be_made_without_the_map_by_keyboard_alone(
    phone: Any, live_server: LiveServer,
) -> None:
    phone.context.clear_permissions()  # no GPS: the district and the address must do
    phone.goto("/report")
    phone.wait_for_selector("#district option[value='01']", state="attached")
    phone.wait_for_selector("#group-schild", state="attached")
    phone.focus("#district")
    phone.keyboard.press("ArrowDown")  # a district, chosen by keyboard
    phone.focus("#address")
    phone.keyboard.type("Ecke Westendstraße / Fürstenrieder Straße")
    phone.focus("input[name='group'][value='schild']")
    phone.keyboard.press("Space")
    phone.wait_for_selector("input[name='category'][value='schild-unleserlich']",
                            state="attached")
    phone.focus("input[name='category'][value='schild-unleserlich']")
    phone.keyboard.press("Space")
    phone.focus("#description")
    phone.keyboard.type("Schild zugewachsen")
    phone.focus("#submit-report")
    phone.keyboard.press("Enter")
    try:
        phone.wait_for_selector("#confirmation", state="visible", timeout=20000)
    finally:
        screenshot(phone, "de-6-without-map-submitted")
    screenshot(phone, "de-6-without-map")
    (report,) = _reports(live_server)
    assert report.address == "Ecke Westendstraße / Fürstenrieder Straße"
    assert report.review_flags == ["approximate_location"]


@pytest.mark.parametrize("route", ["/report", "/map", "/mine"])
def test_no_serious_accessibility_violations(phone: Any, live_server: LiveServer,
                                             route: str) -> None:
    phone.goto(route)
    phone.wait_for_load_state("networkidle")
    assert_accessible(phone, route)


def test_the_app_is_installable_and_controlled_by_its_service_worker(
    phone: Any, live_server: LiveServer,
) -> None:
    phone.goto("/")
    wait_for_service_worker(phone)
    manifest = phone.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["display"] == "standalone" and len(manifest["icons"]) >= 2


def test_english_screens_are_legible(phone: Any, live_server: LiveServer) -> None:
    phone.goto("/report")
    phone.select_option("#lang-switch", "en")
    phone.wait_for_function("document.documentElement.lang === 'en'")
    screenshot(phone, "en-1-report-form")
    phone.goto("/map")
    phone.wait_for_load_state("networkidle")
    screenshot(phone, "en-2-map")
    assert phone.evaluate("document.documentElement.lang") == "en"


def test_a_photo_with_gps_offers_its_location(phone: Any, live_server: LiveServer) -> None:
    phone.goto("/report")
    phone.wait_for_selector("#group-schild", state="attached")  # the app is ready
    phone.set_input_files("#photos", str(_photo()))  # taken in Tuscany (EXIF GPS)
    phone.wait_for_selector("#use-photo-location", state="visible", timeout=10000)
    phone.click("#use-photo-location")
    phone.wait_for_function(
        "document.querySelector('#location-summary').textContent.includes('Foto')")
    _choose_category(phone, "schild", "schild-fehlt")
    phone.fill("#description", "Schild fehlt")
    phone.click("#submit-report")
    # Tuscany is outside Munich: the app explains it and nothing is stored.
    phone.wait_for_selector("#location-error:not(:empty)", timeout=10000)
    assert _reports(live_server) == []


def test_an_iphone_heic_photo_gets_a_real_preview_and_offers_its_location(
    phone: Any, live_server: LiveServer,
) -> None:
    phone.goto("/report")
    phone.wait_for_selector("#group-schild", state="attached")  # the app is ready
    # Chromium cannot decode HEIC: before, the preview was a grey box with the file name and
    # "use the photo's location" never appeared although the photo has GPS (Kansas City).
    phone.set_input_files("#photos", str(shared_data_dir() / "photos" / "mobile" /
                                         "IMG_5195.HEIC"))
    preview = phone.wait_for_selector("#photo-previews li.photo-preview img", timeout=20000)
    phone.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 100 && img.naturalHeight > 100", arg=preview)
    assert preview.get_attribute("alt")
    assert phone.query_selector("#photo-previews .photo-placeholder") is None
    phone.wait_for_selector("#use-photo-location", state="visible", timeout=10000)
    screenshot(phone, "de-heic-preview")
    phone.click("#use-photo-location")
    phone.wait_for_function(
        "document.querySelector('#location-summary').textContent.includes('Foto')")
    # the photo itself is still sent unchanged with the report (the server converts it)


def test_the_tracking_link_from_the_e_mail_opens_my_reports_on_any_device(
    phone: Any, live_server: LiveServer,
) -> None:
    created = phone.request.post("/api/v1/reports", data=json.dumps({
        "category": "ampel-ausfall", "lat": 48.1374, "lon": 11.5755,
        "description": "Die Ampel ist dunkel.", "email": "melderin@example.org"}),
        headers={"Content-Type": "application/json"}).json()
    phone.goto(f"/track/{created['tracking_token']}")
    # The report joins "My reports" on this device, and the secret leaves the address bar.
    phone.wait_for_selector(f"li.my-report[data-id='{created['id']}'] .badge", timeout=10000)
    phone.wait_for_function("location.pathname === '/mine'")
    assert created["tracking_token"] not in phone.url
    phone.wait_for_function(
        f"document.querySelector('#status-message').textContent.includes('{created['id']}')")
    screenshot(phone, "de-4c-tracking-link")
    phone.goto("/mine")  # and stays there when the app is opened again
    phone.wait_for_selector(f"li.my-report[data-id='{created['id']}']", timeout=10000)

    phone.goto("/track/not-a-real-token")
    phone.wait_for_function("location.pathname === '/mine'", timeout=10000)
    phone.wait_for_function(
        "document.querySelector('#status-message').textContent.includes('nicht (mehr) gültig')")

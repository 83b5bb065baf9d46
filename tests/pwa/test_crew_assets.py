"""Issue 18 in the crew app (390×844): the queue row and the report detail name the traffic
signal a report is about, and "Anlagen anzeigen" shows the signals on the crew's map at street
zoom (off by default, remembered); German and English; axe."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.services.staff.users import create_user
from tests.pwa.conftest import (
    LiveServer,
    assert_accessible,
    screenshot,
    server_session,
    staff_login,
)

PASSWORD = "Signal-Gruen-2024!"
STACHUS = {"lat": 48.1392, "lon": 11.5660}


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A 390×844 phone, German."""
    context = browser.new_context(
        bypass_csp=True, viewport={"width": 390, "height": 844}, device_scale_factor=2,
        is_mobile=True, has_touch=True, locale="de-DE", base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


def _report_at_a_signal(server: LiveServer) -> dict[str, Any]:
    client = server.app.test_client()
    found = client.get("/api/v1/assets/nearest", query_string={
        **STACHUS, "group": "ampel", "max_distance_m": 300}).get_json()["asset"]
    response = client.post("/api/v1/reports", json={
        "category": "ampel-ausfall", **STACHUS, "asset_id": found["id"],
        "description": "Die Ampel ist ganz dunkel."})
    assert response.status_code == 201, response.get_data(as_text=True)
    return {"report": response.get_json(), "asset": found}


def test_the_crew_sees_the_signal_in_the_queue_and_can_show_the_signals_on_its_map(
    phone: Any, live_server: LiveServer,
) -> None:
    for session in server_session(live_server):
        create_user(session, username="lsa-crew", password=PASSWORD, role="crew",
                    departments=["verkehrstechnik"], display_name="Lsa Crew")
    made = _report_at_a_signal(live_server)
    staff_login(phone, "lsa-crew", expect="/crew", password=PASSWORD)
    row = phone.locator(f"#crew-list a.queue-item[data-id='{made['report']['id']}']")
    row.wait_for(timeout=10000)
    assert "Ampel ohne Nummer" in row.locator(".queue-item-asset").text_content()
    toggle = phone.locator("#crew-assets-toggle")
    toggle.wait_for(state="visible", timeout=10000)
    assert toggle.get_attribute("aria-pressed") == "false"
    assert phone.locator("#crew-map .asset-marker, #crew-map .asset-cluster").count() == 0
    toggle.focus()
    phone.keyboard.press("Enter")  # by keyboard
    assert toggle.get_attribute("aria-pressed") == "true"
    # The queue's single report: the map fits it at street zoom (16), where signals show.
    phone.wait_for_function("Number(document.querySelector('#crew-map').dataset.assets) > 0",
                            timeout=15000)
    assert phone.locator("#crew-map .asset-marker, #crew-map .asset-cluster").count() > 0
    assert "OpenStreetMap" in phone.text_content("#crew-map .leaflet-control-attribution")
    screenshot(phone, "assets-7-crew-map-signals")
    assert_accessible(phone, "crew with assets")
    phone.reload()  # remembered on this browser
    phone.wait_for_function("Number(document.querySelector('#crew-map').dataset.assets) > 0",
                            timeout=15000)
    assert phone.get_attribute("#crew-assets-toggle", "aria-pressed") == "true"

    row = phone.locator(f"#crew-list a.queue-item[data-id='{made['report']['id']}']")
    row.click()
    phone.wait_for_selector("#detail-body", state="visible", timeout=10000)
    assert "Ampel ohne Nummer" in phone.text_content("#detail-facts")
    screenshot(phone, "assets-8-crew-detail-signal")

    phone.click("#lang-switch")
    phone.wait_for_function("document.documentElement.lang === 'en'")
    phone.wait_for_function(
        "document.querySelector('#detail-facts').textContent.includes('Traffic signal')")
    phone.click("#detail-back")
    phone.wait_for_selector("#crew-assets-toggle", state="visible")
    assert phone.text_content("#crew-assets-toggle") == "Show assets"


def test_the_toggle_is_turned_off_again(phone: Any, live_server: LiveServer) -> None:
    for session in server_session(live_server):
        create_user(session, username="lsa-crew", password=PASSWORD, role="crew",
                    departments=["verkehrstechnik"], display_name="Lsa Crew")
    _report_at_a_signal(live_server)
    staff_login(phone, "lsa-crew", expect="/crew", password=PASSWORD)
    phone.click("#crew-assets-toggle")
    phone.wait_for_function("Number(document.querySelector('#crew-map').dataset.assets) > 0",
                            timeout=15000)
    phone.click("#crew-assets-toggle")
    phone.wait_for_function("!document.querySelector('#crew-map').dataset.assets")
    assert phone.locator("#crew-map .asset-marker, #crew-map .asset-cluster").count() == 0

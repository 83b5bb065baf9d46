"""Issue 21.2 and the last point of issue 18 in the citizen app (phone-sized Chromium):
without GPS or map, a citizen types an address, picks it from the suggestions with the
keyboard alone (WAI-ARIA combobox), the duplicate check runs around it, the nearest signals
to that address are offered and one is chosen; the stored report has the signal's point and
asset and is not approximate. A report placed only by district is shown as approximate and
searches no reports by distance. The browser talks to our server only. Both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from backend.models import Asset, Report
from backend.services.addresses.importer import import_addresses
from backend.services.assets.importer import LayerSpec, import_assets
from backend.services.assets.readers import ReadOptions
from tests.backend.services.addresses.helpers import SAMPLE, empty_register
from tests.pwa.conftest import LiveServer, screenshot, server_session

__all__ = ["empty_register"]
SIGNAL = (11.57575, 48.13755)  # ≈ 25 m from Marienplatz 1 in the sample register


@pytest.fixture
def register(empty_register: str, live_server: LiveServer, tmp_path: Path) -> int:
    """The sample address register and a numbered signal near Marienplatz 1; its id."""
    path = tmp_path / "lsa.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"lsa": "LSA-M1", "nummer": "LSA 1001",
                                          "name": "Marienplatz (Test)"},
        "geometry": {"type": "Point", "coordinates": list(SIGNAL)}}]}))
    for session in server_session(live_server):
        import_addresses(session, str(SAMPLE), place="München")
        import_assets(session, str(path), LayerSpec("lsa-test", "traffic_signal", "CC0-1.0",
                                                    "Testregister"),
                      ReadOptions(id_field="lsa", name_field="name", number_field="nummer"))
        return session.scalars(select(Asset.id).where(Asset.external_id == "LSA-M1")).one()
    raise AssertionError("no session")


def _watch(page: Any, live_server: LiveServer) -> list[str]:
    """Every URL the page asks for; none may leave our server."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def _nearby_queries(seen: list[str]) -> list[dict[str, list[str]]]:
    return [parse_qs(urlparse(u).query) for u in seen if "/api/v1/reports/nearby" in u]


def _stored(live_server: LiveServer) -> tuple[Report, float, float]:
    for session in server_session(live_server):
        row = session.execute(select(Report, func.ST_X(Report.geom), func.ST_Y(Report.geom))
                              ).one()
        return row[0], float(row[1]), float(row[2])
    raise AssertionError("no session")


def test_an_address_picked_by_keyboard_then_the_nearest_signal_is_reported_exactly(
        register: int, phone: Any, live_server: LiveServer) -> None:
    seen = _watch(phone, live_server)
    phone.context.clear_permissions()  # no GPS, no map: the address search must do
    phone.goto("/report")
    phone.wait_for_selector("#group-ampel", state="attached")
    phone.wait_for_selector("#district option[value='01']", state="attached")  # form bound
    search = phone.locator("#place-search")
    assert phone.get_attribute("#place-search", "role") == "combobox"
    assert phone.text_content("label[for='place-search']") == "Adresse suchen"
    search.focus()
    phone.keyboard.type("Marienplatz 1")
    phone.wait_for_selector("#place-options [role='option']", timeout=10000)
    assert search.get_attribute("aria-expanded") == "true"
    assert phone.get_attribute("#place-options", "role") == "listbox"
    screenshot(phone, "address-1-suggestions")
    phone.keyboard.press("Escape")  # closes the list, keeps the text
    assert search.get_attribute("aria-expanded") == "false"
    assert phone.is_hidden("#place-options") and search.input_value() == "Marienplatz 1"
    phone.keyboard.press("ArrowDown")  # opens it again on the first suggestion
    assert search.get_attribute("aria-activedescendant") == "place-option-0"
    assert phone.get_attribute("#place-option-0", "aria-selected") == "true"
    phone.keyboard.press("Enter")
    phone.wait_for_function(
        "document.querySelector('#location-summary').textContent.includes('Marienplatz 1')")
    assert search.get_attribute("aria-expanded") == "false"
    assert phone.input_value("#address") == "Marienplatz 1, 80331 München"

    phone.focus("input[name='group'][value='ampel']")
    phone.keyboard.press("Space")
    phone.wait_for_selector("input[name='category'][value='ampel-ausfall']", state="attached")
    phone.focus("input[name='category'][value='ampel-ausfall']")
    phone.keyboard.press("Space")
    choose = phone.locator(f"#asset-nearby-list li[data-id='{register}'] button.asset-choose")
    choose.wait_for(timeout=15000)  # the nearest signals to the address
    phone.wait_for_function("[...document.querySelectorAll('#asset-nearby-list li')]"
                            ".length >= 1")
    first = phone.get_attribute("#asset-nearby-list li", "data-id")
    assert first == str(register)  # the nearest first
    screenshot(phone, "address-2-nearest-signals")
    choose.focus()
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#asset-selected", state="visible")
    assert "1001" in phone.text_content("#asset-selected-name")

    phone.focus("#description")
    phone.keyboard.type("Die Ampel ist ganz dunkel.")
    phone.focus("#submit-report")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#confirmation", state="visible", timeout=20000)
    screenshot(phone, "address-3-sent")

    report, lon, lat = _stored(live_server)
    assert report.asset_id == register
    assert (round(lon, 5), round(lat, 5)) == SIGNAL  # snapped from the address to the signal
    assert not report.review_flags
    public = phone.request.get(f"/api/v1/reports/{report.public_id}").json()
    assert public["approximate"] is False
    # The duplicate check ran around the address (before the signal was chosen).
    around = [q for q in _nearby_queries(seen) if q["lat"] == ["48.137400"]]
    assert around and all("approximate" not in q for q in around)
    assert all(u.startswith(live_server.url) or u.startswith("data:") for u in seen), \
        [u for u in seen if not u.startswith(live_server.url)]


def test_the_address_search_speaks_english(register: int, phone: Any,
                                            live_server: LiveServer) -> None:
    phone.goto("/report")
    phone.wait_for_selector("#lang-switch, [data-lang='en'], #group-ampel", state="attached")
    phone.evaluate("localStorage.setItem('mm.lang', 'en')")
    phone.reload()
    phone.wait_for_function(
        "document.querySelector(\"label[for='place-search']\").textContent === "
        "'Search for an address'")
    phone.wait_for_selector("#district option[value='01']", state="attached")  # form bound
    phone.focus("#place-search")
    phone.keyboard.type("leopoldstrasse")
    phone.wait_for_selector("#place-options [role='option']", timeout=10000)
    assert "street" in phone.text_content("#place-option-0")
    assert "addresses found" in phone.text_content("#place-status")


def test_a_report_placed_only_by_district_shows_as_approximate(
        register: int, phone: Any, live_server: LiveServer) -> None:
    seen = _watch(phone, live_server)
    phone.context.clear_permissions()
    phone.goto("/report")
    phone.wait_for_selector("#district option[value='01']", state="attached")
    phone.select_option("#district", "01")
    phone.fill("#address", "vor dem Rathaus")
    phone.check("input[name='group'][value='ampel']", force=True)
    with phone.expect_request(lambda r: "/api/v1/reports/nearby" in r.url, timeout=10000):
        phone.check("input[name='category'][value='ampel-ausfall']", force=True)
    phone.wait_for_function("document.querySelector('#location-summary').textContent"
                            ".includes('ungefähr')")
    phone.fill("#description", "Ampel dunkel")
    phone.click("#submit-report")
    phone.wait_for_selector("#confirmation", state="visible", timeout=20000)

    report, _, _ = _stored(live_server)
    assert report.review_flags == ["approximate_location"]
    public = phone.request.get(f"/api/v1/reports/{report.public_id}").json()
    assert public["approximate"] is True
    feature = next(f for f in phone.request.get("/api/v1/reports").json()["features"]
                   if f["id"] == report.public_id)
    assert feature["properties"]["approximate"] is True
    queries = _nearby_queries(seen)
    assert queries and all(q.get("approximate") == ["true"] for q in queries)
    phone.goto(f"/reports/{report.public_id}")  # the public page says so
    phone.wait_for_function("document.querySelector('#detail-meta').textContent"
                            ".includes('Ort nur ungefähr')")
    screenshot(phone, "address-4-approximate-public")

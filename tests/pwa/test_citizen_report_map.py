"""The report form's map in Chromium: a tap sets the place, dragging the pin moves it, and the
report is stored where the pin was left (pwa/app/reportlocation.js).

Expected places are computed independently of Leaflet, with Web Mercator (EPSG:3857, 256-px
tiles) from the map's configured centre and zoom, and the pixel offsets the test taps and
drags by; a pixel of rounding either way is allowed.
"""

from __future__ import annotations

import math
import re
from typing import Any

from tests.pwa.conftest import LiveServer, screenshot

TAP = (60, -40)  # from the map's centre, px: a little north-east of the configured centre
DRAG = (70, 45)  # the pin, px: south-east (kept clear of Leaflet's 50-px auto-pan margin)
PIN_ZOOM = 16  # reportlocation.js placePin: a set point is shown at zoom ≥ 16


def _project(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    scale = 256 * 2 ** zoom
    x = (lon + 180) / 360 * scale
    phi = math.radians(lat)
    y = (1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * scale
    return x, y


def _unproject(x: float, y: float, zoom: int) -> tuple[float, float]:
    scale = 256 * 2 ** zoom
    lon = x / scale * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / scale))))
    return lat, lon


def _moved(lat: float, lon: float, zoom: int, dx: float, dy: float) -> tuple[float, float]:
    x, y = _project(lat, lon, zoom)
    return _unproject(x + dx, y + dy, zoom)


def _close(got: tuple[float, float], expected: tuple[float, float], zoom: int,
           pixels: float) -> bool:
    """Whether `got` lies within `pixels` screen pixels of `expected` at `zoom`."""
    gx, gy = _project(*got, zoom)
    ex, ey = _project(*expected, zoom)
    return math.hypot(gx - ex, gy - ey) <= pixels


def _summary_place(page: Any) -> tuple[float, float]:
    """The point the summary under the map names (German number format, 5 decimals)."""
    text = page.text_content("#location-summary")
    match = re.search(r"\((\d+,\d+), (\d+,\d+)\)", text)
    assert match, text
    return float(match[1].replace(",", ".")), float(match[2].replace(",", "."))


def test_tapping_the_map_sets_the_place_and_the_dragged_pin_is_where_the_report_is_stored(
    phone: Any, live_server: LiveServer,
) -> None:
    phone.emulate_media(reduced_motion="reduce")  # the map jumps instead of gliding
    phone.goto("/report")
    config = phone.request.get("/api/v1/config").json()["map"]
    center, zoom = tuple(config["center"]), config["zoom"] + 2  # reportlocation.js ensureMap
    phone.wait_for_selector("#report-map.leaflet-container")
    phone.wait_for_selector("#group-schild", state="attached")  # the app is ready
    box = phone.locator("#report-map").bounding_box()
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    # A tap (touch: this is a phone) a little off the centre sets the place there.
    phone.touchscreen.tap(middle[0] + TAP[0], middle[1] + TAP[1])
    phone.wait_for_function("document.querySelector('#location-summary').classList.contains('is-set')")
    tapped = _summary_place(phone)
    expected_tap = _moved(*center, zoom, *TAP)
    assert _close(tapped, expected_tap, zoom, 1.5), (tapped, expected_tap)
    pin = phone.locator("#report-map .leaflet-marker-draggable")
    pin.wait_for()
    screenshot(phone, "de-map-tapped")

    # The map now shows the pin at zoom 16 in its middle; drag it with a real mouse.
    assert pin.count() == 1
    pin_box = pin.bounding_box()
    grab = (pin_box["x"] + pin_box["width"] / 2, pin_box["y"] + pin_box["height"] / 2)
    before = phone.text_content("#location-summary")
    phone.mouse.move(*grab)
    phone.mouse.down()
    phone.mouse.move(grab[0] + DRAG[0], grab[1] + DRAG[1], steps=12)
    phone.mouse.up()
    phone.wait_for_function(
        "(before) => document.querySelector('#location-summary').textContent !== before",
        arg=before)
    dragged = _summary_place(phone)
    expected_drag = _moved(*tapped, PIN_ZOOM, *DRAG)
    # The tapped point is known to 5 decimals (≈ 0.7 px at zoom 16), the pin's own position to
    # a pixel: 2.5 px in all, ≈ 4 m.
    assert _close(dragged, expected_drag, PIN_ZOOM, 2.5), (dragged, expected_drag)
    moved_box = pin.bounding_box()
    assert (round(moved_box["x"] - pin_box["x"]), round(moved_box["y"] - pin_box["y"])) == DRAG

    phone.check("input[name='group'][value='schild']", force=True)
    phone.check("input[name='category'][value='schild-verdreht']", force=True)
    phone.fill("#description", "Das Einbahnstraßenschild ist verdreht.")
    screenshot(phone, "de-map-dragged")
    phone.click("#submit-report")
    phone.wait_for_selector("#confirmation", state="visible", timeout=20000)
    report_id = phone.text_content("#confirmation-id").strip()
    assert phone.text_content("#confirmation-district").strip() == "01 Altstadt-Lehel"

    # Stored where the pin was left (the app sends 6 decimals), not where it was tapped.
    body = phone.request.get(f"/api/v1/reports/{report_id}").json()
    stored = (body["location"]["lat"], body["location"]["lon"])
    assert _close(stored, dragged, PIN_ZOOM, 1), (stored, dragged)
    assert not _close(stored, tapped, PIN_ZOOM, 40), (stored, tapped)
    assert body["district"]["number"] == "01"

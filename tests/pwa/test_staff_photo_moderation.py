"""Issue 19 in the staff detail (phone-sized Chromium, German): a dispatcher opens a photo's
private original with the detected face drawn as a box, hides one more area with the keyboard
alone (percentages) and one by drawing with the pointer, turns and hides the photo; the
original is never kept by the service worker; the citizen's tracking view then says that a
photo is being checked before publication; axe on the panel."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.models import Photo
from backend.services.staff.users import create_user
from tests.pwa.conftest import (
    LiveServer,
    assert_accessible,
    running_server,
    screenshot,
    server_session,
    staff_login,
    wait_for_service_worker,
)
from tests.workers.test_photo_jobs import run_jobs

PASSWORD = "Foto-Pruefen-2024!"
DATA = Path(__file__).resolve().parents[1] / "data" / "redaction"
ASTRONAUT = "face_skimage_astronaut.jpg"  # public domain (NASA), via scikit-image


@pytest.fixture
def keeping_server(database_url: str, tmp_path: Path, redis_url: str) -> Iterator[LiveServer]:
    """The product with the originals kept (so staff can look at them and restore)."""
    with running_server(database_url, tmp_path, redis_url, keep_photo_originals=True) as server:
        yield server


@pytest.fixture
def page(browser: Any, keeping_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(bypass_csp=True, viewport={"width": 412, "height": 915},
                                  device_scale_factor=2, locale="de-DE",
                                  base_url=keeping_server.url)
    yield context.new_page()
    context.close()


def _report(server: LiveServer) -> dict[str, Any]:
    response = server.app.test_client().post(
        "/api/v1/reports", content_type="multipart/form-data", data={
            "category": "ampel-ausfall", "lat": "48.1374", "lon": "11.5755",
            "description": "Ampel dunkel, ein Passant im Bild.",
            "photos": [(io.BytesIO((DATA / ASTRONAUT).read_bytes()), ASTRONAUT)]})
    assert response.status_code == 201, response.get_data(as_text=True)
    run_jobs(server.app.extensions["mm_settings"])
    return response.get_json()


def _photo(server: LiveServer, public_id: str) -> Photo:
    for session in server_session(server):
        return session.scalars(select(Photo).where(Photo.public_id == public_id)).one()
    raise AssertionError


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until `selector` has the focus (the keyboard path, no clicks)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def _open_original(page: Any, item: str) -> None:
    _tab_to(page, f"{item} [data-action='original']")
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"document.querySelector(\"{item} img.photo-original\")?.naturalWidth > 0",
        timeout=10000)


def test_a_dispatcher_moderates_a_photo_by_keyboard_and_pointer(
    page: Any, keeping_server: LiveServer,
) -> None:
    server = keeping_server
    created = _report(server)
    photo_id = created["uploads"][0]["id"]
    assert len(_photo(server, photo_id).redaction["auto"]) == 1  # the astronaut's face
    for session in server_session(server):
        create_user(session, username="disa", password=PASSWORD, role="dispatcher",
                    departments=[], display_name="Disa")
    staff_login(page, "disa", expect="/dispatch", password=PASSWORD)
    wait_for_service_worker(page)
    page.goto(f"/dispatch/reports/{created['id']}")
    page.wait_for_selector("#photo-moderation li.photo-mod", timeout=10000)
    item = f"li.photo-mod[data-photo='{photo_id}']"
    assert "öffentlich" in page.text_content(f"{item} .photo-mod-state")

    # The private original, with the detected face as a box; never stored by the worker.
    page.focus("#detail-title")
    _open_original(page, item)
    assert page.locator(f"{item} .region-auto").count() == 1
    cached = page.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys()) {
          for (const r of await (await caches.open(name)).keys()) urls.push(r.url);
        }
        return urls.filter((u) => u.includes('/preview'));
    }""")
    assert cached == []
    screenshot(page, "photos-1-original-with-boxes")
    assert_accessible(page, "photo moderation")

    # Keyboard only: the four percentages, then Enter on the button.
    for name, value in (("x", "10"), ("y", "60"), ("width", "30"), ("height", "30")):
        _tab_to(page, f"{item} input[name='{name}']")
        page.keyboard.type(value)
    assert page.locator(f"{item} .region-new").count() == 1  # the typed box is drawn
    _tab_to(page, f"{item} .region-form button[type='submit']")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#status-message').textContent"
                           ".includes('Bereich verdeckt')", timeout=10000)
    page.wait_for_function(
        f"document.activeElement === document.querySelector(\"{item} h3\")", timeout=10000)
    assert "Bereich 1: 10.0 % von links, 60.0 % von oben" in page.text_content(item)
    assert _photo(server, photo_id).redaction["staff"][0]["box"] == [0.1, 0.6, 0.4, 0.9]

    # A wrong value is named at its field (the server's envelope).
    _open_original(page, item)
    for name, value in (("x", "80"), ("y", "10"), ("width", "50"), ("height", "10")):
        page.fill(f"{item} input[name='{name}']", value)
    page.click(f"{item} .region-form button[type='submit']")
    page.wait_for_selector(f"{item} input[name='width'][aria-invalid='true']", timeout=10000)
    assert "x + width" in page.text_content(f"{item} .region-form")

    # With the pointer: a box dragged over the original fills the same form.
    page.locator(f"{item} .region-frame").evaluate(
        "(el) => el.scrollIntoView({block: 'center'})")  # not under the sticky header
    frame = page.locator(f"{item} .region-frame").bounding_box()
    page.mouse.move(frame["x"] + frame["width"] * 0.2, frame["y"] + frame["height"] * 0.1)
    page.mouse.down()
    page.mouse.move(frame["x"] + frame["width"] * 0.4, frame["y"] + frame["height"] * 0.3,
                    steps=5)
    page.mouse.up()
    for name in ("x", "y", "width", "height"):  # 20 %, 10 %, 20 %, 20 % (± a pixel or two)
        value = float(page.input_value(f"{item} input[name='{name}']"))
        assert abs(value - (10.0 if name == "y" else 20.0)) < 1.5, (name, value)
    page.keyboard.press("Enter")  # the focus went to the button when the box was drawn
    page.wait_for_function(f"document.querySelector(\"{item}\").textContent"
                           ".includes('Bereich 2')", timeout=10000)
    assert len(_photo(server, photo_id).redaction["staff"]) == 2
    # Private until the public copy hides the new areas too; the photo worker then runs.
    assert "nicht öffentlich, bis die Fassung" in page.text_content(f"{item} .photo-mod-state")
    run_jobs(server.app.extensions["mm_settings"])
    page.reload()
    page.wait_for_selector(f"{item} .photo-mod-state", timeout=10000)
    assert "öffentlich" in page.text_content(f"{item} .photo-mod-state")
    assert "nicht öffentlich" not in page.text_content(f"{item} .photo-mod-state")
    page.focus("#detail-title")

    # Turn, then hide, by keyboard.
    _tab_to(page, f"{item} .photo-mod-buttons [data-action='rotate']")
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector(\"{item} .photo-mod-state\").textContent"
                           ".includes('um 90° gedreht')", timeout=10000)
    _tab_to(page, f"{item} .photo-mod-buttons [data-action='hide']")
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector(\"{item} .photo-mod-state\").textContent"
                           ".includes('von uns ausgeblendet')", timeout=10000)
    assert _photo(server, photo_id).hidden_at is not None
    screenshot(page, "photos-2-hidden")
    assert "Foto-Protokoll" in page.text_content("#photo-moderation")
    assert "null" not in page.text_content("#photo-moderation")

    # The citizen's tracking view says that the photo is being checked.
    for locale, text in (("de-DE", "Ein Foto wird vor der Veröffentlichung von uns geprüft."),
                         ("en-GB", "One photo is being checked by staff before publication.")):
        citizen = page.context.browser.new_context(viewport={"width": 412, "height": 915},
                                                   locale=locale, base_url=server.url)
        try:
            mine = citizen.new_page()
            mine.goto(f"/track/{created['tracking_token']}")
            mine.wait_for_selector(f"li.my-report[data-id='{created['id']}'] .photo-withheld",
                                   timeout=10000)
            assert mine.text_content(".photo-withheld") == text
            screenshot(mine, f"photos-3-citizen-withheld-{locale}")
        finally:
            citizen.close()

"""Issue 20.4 in the staff app (phone-sized headless Chromium, both backends): a dispatcher
files a report for a caller by keyboard alone — address from the place search, category,
description, the caller's e-mail — gets the slip with the tracking link and short code,
which the server redeems; a missing place and a refused field are named at the field; axe;
nothing scrolls sideways on a narrow phone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from backend.models import Report
from backend.services.addresses.importer import import_addresses
from backend.services.staff.users import create_user
from tests.backend.services.addresses.helpers import SAMPLE, empty_register
from tests.pwa.conftest import (
    STAFF_PASSWORD,
    LiveServer,
    assert_accessible,
    screenshot,
    server_session,
    staff_login,
)
from tests.pwa.test_staff_phone_layout import OVERFLOW

__all__ = ["empty_register"]


@pytest.fixture
def desk(empty_register: str, live_server: LiveServer) -> None:
    """The sample address register and a dispatcher at the service desk."""
    for session in server_session(live_server):
        import_addresses(session, str(SAMPLE), place="München")
        create_user(session, username="hotline", password=STAFF_PASSWORD, role="dispatcher",
                    departments=["anliegenmanagement"], display_name="Hotline")


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until `selector` has the focus (the keyboard path, no clicks)."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement?.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_a_dispatcher_files_for_a_caller_by_keyboard_and_prints_the_slip(
        phone: Any, live_server: LiveServer, desk: None) -> None:
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    staff_login(phone, "hotline", expect="/dispatch", password=STAFF_PASSWORD)
    phone.focus("body")
    _tab_to(phone, "a[data-section-link='caller']", limit=60)
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/dispatch/caller")
    phone.wait_for_selector("#caller-form select[name='category'] option[value='ampel-ausfall']",
                            state="attached", timeout=10000)
    phone.wait_for_function("document.activeElement?.id === 'caller-title'")

    # Sending without a place: the place search says so and takes the focus.
    _tab_to(phone, "#caller-category")
    phone.keyboard.press("ArrowDown")  # the first category after "Bitte wählen"
    phone.select_option("#caller-category", "ampel-ausfall")
    _tab_to(phone, "#caller-description")
    phone.keyboard.type("Anruf: Fußgängerampel am Rathaus dunkel")
    _tab_to(phone, "#caller-email")
    phone.keyboard.type("not-an-address")
    _tab_to(phone, "#caller-form button[type='submit']")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#place-search-error:not([hidden])")
    assert phone.evaluate("document.activeElement.id") == "place-search"
    assert phone.get_attribute("#place-search", "aria-invalid") == "true"

    # The address by keyboard: type, arrow to the first suggestion, Enter.
    phone.keyboard.type("Marienplatz 1")
    phone.wait_for_selector("#place-options [role='option']", timeout=10000)
    phone.keyboard.press("ArrowDown")
    phone.keyboard.press("Enter")
    assert phone.get_attribute("#place-search", "aria-expanded") == "false"
    screenshot(phone, "caller-1-form")
    assert_accessible(phone, "caller form")

    # The server refuses the e-mail: named at the field, focus there.
    _tab_to(phone, "#caller-form button[type='submit']")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#caller-email-error:not([hidden])", timeout=10000)
    assert phone.evaluate("document.activeElement.id") == "caller-email"
    phone.fill("#caller-email", "")
    phone.keyboard.type("anrufer@example.org")
    _tab_to(phone, "#caller-form button[type='submit']")
    phone.keyboard.press("Enter")

    phone.wait_for_selector("#caller-slip:not([hidden])", timeout=10000)
    phone.wait_for_function("document.activeElement?.id === 'slip-title'")
    slip = phone.text_content("#caller-slip") or ""
    for session in server_session(live_server):
        report = session.scalars(select(Report)).one()
        assert report.source == "desk" and report.reporter_email == "anrufer@example.org"
        assert report.address == "Marienplatz 1, 80331 München"
        public_id = report.public_id
    assert public_id in slip and "/track/" in slip and "Marienplatz 1" in slip
    assert "anrufer@example.org" not in slip  # nothing about the caller on paper
    code = phone.text_content("#slip-body dd.slip-code:last-of-type") or ""
    redeemed = live_server.app.test_client().post("/api/v1/track/code", json={"code": code})
    assert redeemed.status_code == 200 and redeemed.get_json()["id"] == public_id
    assert phone.is_visible("#caller-print")
    phone.emulate_media(media="print")
    assert phone.is_hidden("#caller-print") and phone.is_hidden("#caller-title")
    phone.emulate_media(media="screen")
    screenshot(phone, "caller-2-slip")
    assert_accessible(phone, "caller slip")

    # A narrow phone: nothing scrolls sideways; "next report" gives an empty form.
    phone.set_viewport_size({"width": 360, "height": 780})
    found = phone.evaluate(OVERFLOW)
    assert found["scroll"] <= found["width"] and not found["wide"], found
    phone.focus("#caller-again")
    phone.keyboard.press("Enter")
    phone.wait_for_function("document.activeElement?.id === 'place-search'")
    assert phone.input_value("#caller-description") == ""
    assert errors == []

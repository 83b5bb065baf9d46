"""Response templates in the staff app (issue 20.1): a crew member on a phone picks a template
in the resolve form by keyboard, it fills the public note in the reporter's language (the form
says which), edits it and sends it; the reporter's tracking page shows exactly that text. The
form stays axe-clean."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.models import Report
from backend.services.staff.users import create_user
from tests.pwa.conftest import (
    LiveServer,
    assert_accessible,
    screenshot,
    server_session,
    staff_login,
)

PASSWORD = "Signal-Gruen-2024!"
SIGN_TEMPLATE = "Schild – ersetzt oder gerichtet"


def test_a_crew_member_picks_edits_and_sends_a_template_the_reporter_reads_it(
    phone: Any, browser: Any, live_server: LiveServer,
) -> None:
    for session in server_session(live_server):
        create_user(session, username="mitte-crew", password=PASSWORD, role="crew",
                    departments=["bezirksinspektion-mitte"], display_name="Mitte Crew")
    response = live_server.app.test_client().post(
        "/api/v1/reports", headers={"Accept-Language": "en"},
        json={"category": "schild-fehlt", "lat": 48.1374, "lon": 11.5755,
              "description": "The no-parking sign is gone."})
    assert response.status_code == 201
    created = response.get_json()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE",
                                  bypass_csp=True,  # for axe (the app's CSP has its own test)
                                  base_url=live_server.url, is_mobile=True, has_touch=True)
    crew = context.new_page()
    errors: list[str] = []
    crew.on("pageerror", lambda error: errors.append(str(error)))
    try:
        staff_login(crew, "mitte-crew", expect="/crew", password=PASSWORD)
        crew.click(f"#crew-list a.queue-item[data-id='{created['id']}']")
        crew.click("#action-buttons button[data-action='resolve']")
        crew.wait_for_selector("#resolve-template", state="visible", timeout=10000)
        assert crew.text_content("label[for='resolve-template']").startswith("Vorlage")
        assert "Englisch" in crew.text_content("#resolve-template-language")
        options = crew.eval_on_selector_all("#resolve-template option",
                                            "els => els.map(e => e.textContent)")
        assert SIGN_TEMPLATE in options and "Ampel – Störung behoben" not in options
        # Keyboard: the select comes just before the note; arrow keys pick, the note is filled.
        crew.focus("#resolve-note")
        crew.keyboard.press("Shift+Tab")
        assert crew.evaluate("document.activeElement.id") == "resolve-template"
        while crew.evaluate("document.activeElement.selectedOptions[0].textContent") \
                != SIGN_TEMPLATE:
            crew.keyboard.press("ArrowDown")
        note = crew.input_value("#resolve-note")
        assert note.startswith(f"The street sign (report {created['id']})")
        assert "{" not in note
        crew.keyboard.press("Tab")
        assert crew.evaluate("document.activeElement.id") == "resolve-note"
        crew.keyboard.press("End")
        crew.keyboard.type(" New reflective sign.")
        sent = crew.input_value("#resolve-note")
        assert_accessible(crew, "resolve form with a template")
        assert crew.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(crew, "de-template-1-resolve-form")
        crew.focus("#resolve-form button[data-submit='resolve']")
        crew.keyboard.press("Enter")
        crew.wait_for_selector("#detail-status.status-resolved", timeout=10000)
    finally:
        context.close()
    assert errors == []
    for session in server_session(live_server):
        report = session.scalar(select(Report).where(Report.public_id == created["id"]))
        assert report is not None and report.events[-1].public_note == sent

    phone.goto(f"/track/{created['tracking_token']}")
    item = f"li.my-report[data-id='{created['id']}']"
    phone.wait_for_selector(f"{item} ol.history", timeout=10000)
    assert sent in phone.text_content(f"{item} ol.history")


def test_an_admin_adds_changes_and_deactivates_a_template_errors_at_the_field(
    phone: Any, live_server: LiveServer,
) -> None:
    for session in server_session(live_server):
        create_user(session, username="chefin", password=PASSWORD, role="admin",
                    departments=[], display_name="Chefin")
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    staff_login(phone, "chefin", expect="/dispatch", password=PASSWORD)
    phone.click("a[data-section-link='templates']")
    phone.wait_for_selector("#templates-body tr", timeout=10000)
    assert "{report_number}" in phone.text_content("#templates-placeholders")
    assert SIGN_TEMPLATE in phone.text_content("#templates-body")

    # An unknown placeholder: refused, the message at the German text, which gets the focus.
    phone.fill("#template-name", "Ampel – Techniker unterwegs")
    phone.select_option("#template-scope", "group:ampel")
    phone.select_option("#template-status", "in_progress")
    phone.fill("#template-text-de", "Hallo {name}, wir sind unterwegs ({report_number}).")
    phone.fill("#template-text-en", "We are on our way ({report_number}).")
    phone.focus("#template-submit")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#template-text-de-error:not([hidden])", timeout=10000)
    assert "{name}" in phone.text_content("#template-text-de-error")
    assert phone.get_attribute("#template-text-de", "aria-invalid") == "true"
    assert phone.evaluate("document.activeElement.id") == "template-text-de"
    assert_accessible(phone, "template form with an error at the field")
    screenshot(phone, "de-template-2-admin-error")

    phone.fill("#template-text-de", "Wir sind zur Ampel unterwegs (Meldung {report_number}).")
    phone.focus("#template-submit")
    phone.keyboard.press("Enter")
    row = "#templates-body tr:has(th:text-is('Ampel – Techniker unterwegs'))"
    phone.wait_for_selector(row, timeout=10000)
    assert "Ampel" in phone.text_content(row)
    # Edit by keyboard, then deactivate.
    phone.focus(f"{row} button[data-edit]")
    phone.keyboard.press("Enter")
    assert phone.evaluate("document.activeElement.id") == "template-name"
    assert phone.input_value("#template-text-en") == "We are on our way ({report_number})."
    phone.fill("#template-text-en", "We are on our way to the traffic light ({report_number}).")
    phone.click("#template-submit")
    phone.wait_for_selector("#status-message:has-text('gespeichert')", timeout=10000)
    phone.click(f"{row} button[data-toggle]")
    phone.wait_for_selector(f"{row}:has-text('Deaktiviert')", timeout=10000)
    assert_accessible(phone, "response templates")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone, "de-template-3-admin-list")
    assert errors == []
    listing = [t for t in _admin_templates(live_server)
               if t["name"] == "Ampel – Techniker unterwegs"]
    assert listing and listing[0]["group"] == "ampel" and listing[0]["active"] is False
    assert listing[0]["texts"]["en"].startswith("We are on our way to the traffic light")


def _admin_templates(server: LiveServer) -> list[dict[str, Any]]:
    from backend.models import ResponseTemplate

    for session in server_session(server):
        return [{"name": t.name, "group": t.group_code, "active": t.active, "texts": t.texts}
                for t in session.scalars(select(ResponseTemplate))]
    return []


def test_a_dispatcher_acknowledges_with_a_template_in_german_by_keyboard(
    phone: Any, browser: Any, live_server: LiveServer,
) -> None:
    for session in server_session(live_server):
        create_user(session, username="disp", password=PASSWORD, role="dispatcher",
                    departments=["anliegenmanagement"], display_name="Dora")
    response = live_server.app.test_client().post(
        "/api/v1/reports", headers={"Accept-Language": "de-DE"},
        json={"category": "sonstiges", "lat": 48.1374, "lon": 11.5755,
              "description": "Gullydeckel klappert."})
    assert response.status_code == 201
    created = response.get_json()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE",
                                  bypass_csp=True, base_url=live_server.url)
    desk = context.new_page()
    try:
        staff_login(desk, "disp", expect="/dispatch", password=PASSWORD)
        desk.goto(f"/dispatch/reports/{created['id']}")
        desk.wait_for_selector("#action-buttons button[data-action='acknowledge']",
                               timeout=10000)
        desk.focus("#action-buttons button[data-action='acknowledge']")
        desk.keyboard.press("Enter")
        desk.wait_for_selector("#acknowledge-template", state="visible", timeout=10000)
        assert "Deutsch" in desk.text_content("#acknowledge-template-language")
        desk.focus("#acknowledge-template")
        desk.select_option("#acknowledge-template", label="Bestätigt – wird bearbeitet")
        note = desk.input_value("#acknowledge-note")
        assert note.startswith(f"Vielen Dank für Ihre Meldung {created['id']} (Sonstiger")
        assert "{" not in note
        desk.fill("#acknowledge-note", note + " Wir melden uns.")
        sent = desk.input_value("#acknowledge-note")
        assert_accessible(desk, "acknowledge form with a template")
        desk.focus("#acknowledge-form button[data-submit='acknowledge']")
        desk.keyboard.press("Enter")
        desk.wait_for_selector("#detail-status.status-acknowledged", timeout=10000)
    finally:
        context.close()
    phone.goto(f"/track/{created['tracking_token']}")
    item = f"li.my-report[data-id='{created['id']}']"
    phone.wait_for_selector(f"{item} ol.history", timeout=10000)
    assert sent in phone.text_content(f"{item} ol.history")

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

"""Honest outcomes in the browser (issue 20.6; issue 22.10's "fixed / not fixed" buttons):
the reporter answers "not fixed" in My reports with a comment and the crew finds the report
reopened one priority higher in its queue; open reports show their expected date, an overdue
one is marked on the public map in words and with a mark; staff close a report as not the
city's, by keyboard, naming who is, and the reporter sees whom to turn to."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from backend.models import Report
from backend.models.base import utcnow
from backend.services.staff.users import create_user
from backend.services.workflow import StatusChange, change_status
from backend.workflow import Actor, Status
from tests.pwa.conftest import (
    LiveServer,
    assert_accessible,
    screenshot,
    server_session,
    staff_login,
)

PASSWORD = "Signal-Gruen-2024!"
MARIENPLATZ = {"lat": 48.1374, "lon": 11.5755}
STACHUS = {"lat": 48.1391, "lon": 11.5658}  # also Bezirksinspektion Mitte, 700 m away


def _report(server: LiveServer, category: str, place: dict[str, float], text: str
            ) -> dict[str, Any]:
    response = server.app.test_client().post("/api/v1/reports", json={
        "category": category, **place, "description": text})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _crew(server: LiveServer) -> None:
    for session in server_session(server):
        create_user(session, username="mitte-crew", password=PASSWORD, role="crew",
                    departments=["bezirksinspektion-mitte"], display_name="Mitte Crew")


def _resolve(server: LiveServer, public_id: str) -> None:
    for session in server_session(server):
        change_status(session, public_id, StatusChange(
            Status.RESOLVED, actor=Actor.STAFF, actor_name="staff:mitte-crew",
            public_note="Schild freigeschnitten."))


def _report_row(server: LiveServer, public_id: str) -> Report:
    for session in server_session(server):
        report = session.scalar(select(Report).where(Report.public_id == public_id))
        assert report is not None
        return report
    raise AssertionError("no session")


def test_not_fixed_in_my_reports_reopens_into_the_crew_queue_with_raised_priority(
    phone: Any, browser: Any, live_server: LiveServer,
) -> None:
    _crew(live_server)
    fixed = _report(live_server, "schild-unleserlich", MARIENPLATZ,
                    "Das Schild ist zugewachsen.")  # normal priority
    waiting = _report(live_server, "schild-fehlt", MARIENPLATZ, "Das Schild fehlt.")
    _resolve(live_server, fixed["id"])
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))

    # Both reports join "My reports" through their tracking links.
    for created in (waiting, fixed):
        phone.goto(f"/track/{created['tracking_token']}")
        phone.wait_for_selector(f"li.my-report[data-id='{created['id']}'] .badge",
                                timeout=10000)
    item = f"li.my-report[data-id='{fixed['id']}']"
    open_item = f"li.my-report[data-id='{waiting['id']}']"
    # The open one says when it is expected fixed (its service level).
    phone.wait_for_selector(f"{open_item} p.expected", timeout=10000)
    assert "Voraussichtlich erledigt bis" in phone.text_content(f"{open_item} p.expected")
    # The resolved one asks "is it fixed?", with a labelled comment for "not fixed".
    phone.wait_for_selector(f"{item} button.answer-fixed[data-answer='no']", timeout=10000)
    label = phone.text_content(f"{item} label[for='not-fixed-note-{fixed['id']}']")
    assert label and "noch nicht in Ordnung" in label
    assert_accessible(phone, "/mine with the fixed question")
    screenshot(phone, "de-outcome-1-fixed-question")

    # Keyboard: into the comment, type, Tab to "yes", Tab to "no", Enter.
    phone.focus(f"#not-fixed-note-{fixed['id']}")
    phone.keyboard.type("Das Schild ist immer noch zugewachsen.")
    phone.keyboard.press("Tab")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.dataset.answer") == "no"
    phone.keyboard.press("Enter")
    phone.wait_for_selector(f"{item} .badge.status-reopened", timeout=10000)
    assert "Das Schild ist immer noch zugewachsen." in phone.text_content(f"{item} ol.history")
    assert phone.query_selector(f"{item} button.answer-fixed") is None
    phone.wait_for_function(
        "document.querySelector('#status-message').textContent.includes('wieder geöffnet')")
    screenshot(phone, "de-outcome-2-reopened")

    # A retry of the same answer (double tap, offline retry) changes nothing.
    again = phone.request.post(f"/api/v1/track/{fixed['tracking_token']}/fixed",
                               data={"fixed": False, "note": "noch mal"})
    assert again.ok and again.json()["status"] == "reopened"
    row = _report_row(live_server, fixed["id"])
    assert (row.status, row.priority, row.reporter_reopens) == ("reopened", "high", 1)

    # The crew finds it in its queue: reopened, one priority higher, "not fixed" said in words.
    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="de-DE",
                                  bypass_csp=True,  # for axe (the app's CSP has its own test)
                                  base_url=live_server.url, is_mobile=True, has_touch=True)
    crew = context.new_page()
    try:
        staff_login(crew, "mitte-crew", expect="/crew", password=PASSWORD)
        queued = f"#crew-list a.queue-item[data-id='{fixed['id']}']"
        crew.wait_for_selector(f"{queued} .badge.reporter-not-fixed", timeout=10000)
        assert crew.text_content(f"{queued} .badge.prio-high")
        assert crew.query_selector(f"{queued} .badge.status-reopened") is not None
        assert "Laut Meldung nicht behoben" in crew.text_content(
            f"{queued} .badge.reporter-not-fixed")
        screenshot(crew, "de-outcome-3-crew-queue")
        assert_accessible(crew, "/crew with a reopened report")
        crew.click(queued)
        crew.wait_for_selector("#detail-facts dd:has-text('Laut Meldung nicht behoben')",
                               timeout=10000)
        assert "Das Schild ist immer noch zugewachsen." in crew.text_content("#report-detail")
    finally:
        context.close()
    assert errors == []


def test_an_overdue_report_is_marked_on_the_public_map_not_by_colour_alone(
    phone: Any, live_server: LiveServer,
) -> None:
    late = _report(live_server, "schild-verdreht", STACHUS, "Das Schild ist verdreht.")
    for session in server_session(live_server):
        session.execute(update(Report).where(Report.public_id == late["id"]).values(
            due_at=utcnow() - timedelta(hours=3)))
        session.commit()
    phone.goto(f"/reports/{late['id']}")
    # The report page says it in words, with a mark.
    phone.wait_for_selector("#detail-outcome p.expected.is-overdue", timeout=10000)
    assert "Überfällig" in phone.text_content("#detail-outcome p.expected")
    # The map marker carries "!" and says "überfällig" in its name; so does the list entry.
    marker = "#public-map .report-marker.is-overdue"
    phone.wait_for_selector(marker, timeout=15000)
    assert phone.text_content(marker) == "!"
    assert "überfällig" in (phone.get_attribute(marker, "title") or "")
    entry = f"#map-list button.map-report.is-overdue[data-id='{late['id']}']"
    phone.wait_for_selector(entry, state="attached", timeout=10000)
    assert "überfällig" in phone.text_content(entry)
    screenshot(phone, "de-outcome-4-overdue-on-map")
    assert_accessible(phone, "/reports with an overdue report")


def test_staff_close_a_report_as_not_ours_by_keyboard_and_the_reporter_sees_whose_it_is(
    phone: Any, browser: Any, live_server: LiveServer,
) -> None:
    _crew(live_server)
    created = _report(live_server, "schild-beschaedigt", MARIENPLATZ,
                      "Schild an der Bahnunterführung verbogen.")
    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="de-DE",
                                  bypass_csp=True,  # for axe (the app's CSP has its own test)
                                  base_url=live_server.url, is_mobile=True, has_touch=True)
    crew = context.new_page()
    try:
        staff_login(crew, "mitte-crew", expect="/crew", password=PASSWORD)
        crew.click(f"#crew-list a.queue-item[data-id='{created['id']}']")
        crew.click("#action-buttons button[data-action='reject']")
        crew.wait_for_selector("#reject-reason")
        assert crew.is_hidden("#reject-responsible")  # only for "not the city's"
        crew.focus("#reject-reason")
        crew.select_option("#reject-reason", "not_responsible")
        crew.wait_for_selector("#reject-responsible", state="visible")
        crew.focus("#reject-responsible")
        crew.keyboard.type("Deutsche Bahn AG")
        crew.keyboard.press("Tab")
        assert crew.evaluate("document.activeElement.id") == "reject-responsible-url"
        crew.keyboard.type("https://www.bahn.de/kontakt")
        crew.fill("#reject-note", "Die Unterführung gehört der Bahn.")
        assert_accessible(crew, "reject form naming who is responsible")
        screenshot(crew, "de-outcome-5-not-ours-form")
        crew.focus("#reject-form button[data-submit='reject']")
        crew.keyboard.press("Enter")
        crew.wait_for_selector("#detail-status.status-rejected", timeout=10000)
    finally:
        context.close()
    row = _report_row(live_server, created["id"])
    assert row.responsible == {"name": "Deutsche Bahn AG", "url": "https://www.bahn.de/kontakt"}

    phone.goto(f"/track/{created['tracking_token']}")
    item = f"li.my-report[data-id='{created['id']}']"
    phone.wait_for_selector(f"{item} p.outcome-not_responsible", timeout=10000)
    link = phone.locator(f"{item} p.responsible a")
    assert link.get_attribute("href") == "https://www.bahn.de/kontakt"
    assert "Deutsche Bahn AG" in link.text_content()
    screenshot(phone, "de-outcome-6-not-ours-for-the-reporter")

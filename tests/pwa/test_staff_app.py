"""The staff app in a phone-sized headless Chromium: login, crew queue and actions (also
offline), department boundaries, the dispatcher's routing-rule editor, accessibility.

Reports are made through the citizen API; the reporter's push subscription points at the
loopback push service, and notifications are delivered by an rq worker run in burst mode.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from backend.models import Report, ReportEvent
from backend.services.staff.users import create_user
from tests.peers.push_service import PushServiceReceiver, decrypt, make_subscription
from tests.polling import wait_until
from tests.pwa.conftest import (
    PHONE,
    LiveServer,
    assert_accessible,
    dispatch_sync,
    screenshot,
    server_session,
    settle_crew_actions,
    staff_login,
    wait_for_service_worker,
)
from tests.shared_data import shared_data_dir
from workers.runner import make_worker

PASSWORD = "Signal-Gruen-2024!"
MARIENPLATZ = {"lat": 48.1374, "lon": 11.5755}
ALLIANZ_ARENA = {"lat": 48.2188, "lon": 11.6247}  # district 12: Bezirksinspektion Nord


@pytest.fixture
def live_server(push_live_server: LiveServer) -> LiveServer:
    """Every test here runs against a server that may push to the loopback push service."""
    return push_live_server


# ---------------------------------------------------------------- helpers


def _staff(server: LiveServer, username: str, role: str, departments: list[str]) -> None:
    for session in server_session(server):
        create_user(session, username=username, password=PASSWORD, role=role,
                    departments=departments, display_name=username.replace("-", " ").title())


def _new_report(server: LiveServer, *, category: str = "schild-fehlt",
                place: dict[str, float] = MARIENPLATZ,
                description: str = "Das Halteverbotsschild am Marienplatz fehlt.",
                ) -> dict[str, Any]:
    response = server.app.test_client().post("/api/v1/reports", json={
        "category": category, **place, "description": description})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _follow_by_push(server: LiveServer, token: str, push_service: PushServiceReceiver,
                    name: str) -> tuple[Any, str]:
    """Register a browser-like push subscription for the report's tracking token."""
    subscription, private_key = make_subscription(push_service, name)
    response = server.app.test_client().post(f"/api/v1/track/{token}/push-subscriptions", json={
        "endpoint": subscription["endpoint"],
        "keys": {"p256dh": subscription["p256dh"], "auth": subscription["auth"]}})
    assert response.status_code == 201, response.get_data(as_text=True)
    return private_key, subscription["auth"]


def _deliver(server: LiveServer) -> None:
    """Run the queued jobs (notifications, photo processing) as the rq worker would."""
    make_worker(server.app.extensions["mm_settings"]).work(burst=True)


def _events(server: LiveServer, public_id: str) -> list[str]:
    for session in server_session(server):
        report = session.scalar(select(Report).where(Report.public_id == public_id))
        return list(session.scalars(select(ReportEvent.to_status).where(
            ReportEvent.report_id == report.id).order_by(ReportEvent.id)))
    return []


def _department(server: LiveServer, public_id: str) -> str:
    response = server.app.test_client().get(f"/api/v1/reports/{public_id}")
    return response.get_json()["department"]["code"]




def _phone_context(browser: Any, server: LiveServer) -> Any:
    return browser.new_context(
        bypass_csp=True,  # see test_content_security_policy.py
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="de-DE",
        geolocation={"latitude": 48.1374, "longitude": 11.5755}, permissions=["geolocation"],
        base_url=server.url)


def _csrf(page: Any) -> str:
    return page.request.get("/api/v1/auth/me").json()["csrf_token"]


@pytest.fixture
def page_errors(phone: Any) -> Iterator[list[str]]:
    """Uncaught errors in the page; the test fails if there were any."""
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    yield errors
    assert errors == []


def _notes(page: Any, public_id: str) -> list[dict[str, Any]]:
    return page.request.get(f"/api/v1/staff/reports/{public_id}").json()["notes"]


# ---------------------------------------------------------------- crew


def test_crew_member_starts_and_resolves_a_report_and_the_reporter_gets_both_pushes(
    phone: Any, live_server: LiveServer, push_service: PushServiceReceiver,
    page_errors: list[str],
) -> None:
    _staff(live_server, "mitte-crew", "crew", ["bezirksinspektion-mitte"])
    created = _new_report(live_server)
    report_id = created["id"]
    private_key, auth = _follow_by_push(live_server, created["tracking_token"], push_service,
                                        "reporter")

    staff_login(phone, "mitte-crew", expect="/crew", password=PASSWORD)
    item = f"#crew-list a.queue-item[data-id='{report_id}']"
    phone.wait_for_selector(item, timeout=10000)
    phone.wait_for_selector(f".crew-marker span[data-id='{report_id}']", timeout=10000)
    assert "Hoch" in phone.text_content(item)  # schild-fehlt: high priority, in words
    screenshot(phone, "staff-1-crew-queue")

    phone.click(item)
    phone.wait_for_url(f"**/crew/reports/{report_id}")
    phone.wait_for_selector("#detail-title:has-text('fehlt')")
    screenshot(phone, "staff-2-crew-detail")

    phone.click("#action-buttons button[data-action='start']")
    phone.wait_for_selector("#detail-status.status-in_progress", timeout=10000)
    screenshot(phone, "staff-3-in-progress")

    phone.click("#action-buttons button[data-action='resolve']")
    phone.fill("#resolve-note", "Schild wurde neu aufgestellt.")
    photo = shared_data_dir() / "photos" / "gps" / "DSCN0012.jpg"
    phone.set_input_files("#resolve-gallery", str(photo))
    phone.wait_for_selector("#resolve-preview .after-preview img")
    screenshot(phone, "staff-4-resolve-form")
    phone.click("#resolve-form button[data-submit='resolve']")
    phone.wait_for_selector("#detail-status.status-resolved", timeout=15000)
    screenshot(phone, "staff-5-resolved")

    _deliver(live_server)
    tracking = live_server.app.test_client().get(f"/api/v1/track/{created['tracking_token']}")
    assert tracking.get_json()["status"] == "resolved"
    pushes = push_service.wait_for("reporter", 2, timeout=10)
    statuses = [decrypt(record, private_key, auth)["status"] for record in pushes]
    assert statuses == ["in_progress", "resolved"]
    assert _events(live_server, report_id)[-2:] == ["in_progress", "resolved"]

    # The "after" photo arrived and, once processed, shows in the detail.
    phone.reload()
    phone.wait_for_selector("#detail-photos figure.kind-after img", timeout=10000)
    screenshot(phone, "staff-6-after-photo")

    # The reporter sees the crew's after-photo in "My reports" and on the public detail,
    # with alt text and a caption (before, "My reports" showed no photo at all).
    reporter = phone.context.browser.new_context(
        viewport={"width": 390, "height": 844}, locale="de-DE", base_url=live_server.url)
    try:
        mine = reporter.new_page()
        mine.goto(f"/track/{created['tracking_token']}")
        after = mine.wait_for_selector(
            f"li.my-report[data-id='{report_id}'] figure.report-picture.is-after img",
            timeout=15000)
        mine.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=after)
        assert "nach der Reparatur" in after.get_attribute("alt")
        assert mine.text_content(f"li.my-report[data-id='{report_id}'] figcaption") == \
            "Nach der Reparatur"
        screenshot(mine, "citizen-mine-after-photo")
        mine.goto(f"/reports/{report_id}")
        public_after = mine.wait_for_selector("#detail-photos figure.is-after img",
                                              timeout=15000)
        assert "nach der Reparatur" in public_after.get_attribute("alt")
        screenshot(mine, "citizen-detail-after-photo")
    finally:
        reporter.close()


def test_a_crew_member_of_another_department_neither_sees_nor_touches_the_report(
    phone: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    _staff(live_server, "nord-crew", "crew", ["bezirksinspektion-nord"])
    mitte = _new_report(live_server)["id"]
    nord = _new_report(live_server, place=ALLIANZ_ARENA,
                       description="Vorfahrtsschild an der Arena fehlt.")["id"]
    assert _department(live_server, nord) == "bezirksinspektion-nord"

    staff_login(phone, "nord-crew", expect="/crew", password=PASSWORD)
    phone.wait_for_selector(f"#crew-list a.queue-item[data-id='{nord}']", timeout=10000)
    assert phone.query_selector(f"#crew-list a.queue-item[data-id='{mitte}']") is None
    assert phone.query_selector(f".crew-marker span[data-id='{mitte}']") is None
    # Zoomed out to the whole city, Marienplatz is in view: still not there.
    phone.evaluate("document.querySelector('#crew-sort').scrollIntoView()")
    for _ in range(3):
        phone.click(".leaflet-control-zoom-out")
        phone.wait_for_timeout(400)
    phone.wait_for_timeout(800)
    assert phone.query_selector(f"[data-id='{mitte}']") is None
    screenshot(phone, "staff-7-other-department-queue")

    phone.goto(f"/crew/reports/{mitte}")
    phone.wait_for_selector("#detail-not-found", state="visible", timeout=10000)
    assert "nicht gefunden" in phone.text_content("#detail-not-found")
    assert phone.is_hidden("#detail-body")
    screenshot(phone, "staff-8-not-found")

    api = phone.request
    assert api.get(f"/api/v1/staff/reports/{mitte}").status == 404
    headers = {"X-CSRF-Token": _csrf(phone), "Content-Type": "application/json"}
    for action, body in [("claim", "{}"), ("status", '{"status": "in_progress"}'),
                         ("notes", '{"text": "nicht meins"}')]:
        response = api.post(f"/api/v1/staff/reports/{mitte}/{action}", headers=headers,
                            data=body)
        assert response.status in (403, 404), (action, response.status)
    assert api.get(f"/api/v1/staff/reports/{mitte}/reporter").status in (403, 404)
    assert _events(live_server, mitte) == ["submitted"]


def test_crew_work_stays_readable_offline_and_offline_actions_are_sent_exactly_once(
    phone: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    _staff(live_server, "mitte-crew", "crew", ["bezirksinspektion-mitte"])
    photo = (shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg").read_bytes()
    response = live_server.app.test_client().post("/api/v1/reports", data={
        "category": "schild-fehlt", **{k: str(v) for k, v in MARIENPLATZ.items()},
        "email": "rita@example.org", "description": "Das Halteverbotsschild am Marienplatz fehlt.",
        "photos": (io.BytesIO(photo), "schild.jpg")}, content_type="multipart/form-data")
    report_id = response.get_json()["id"]
    _deliver(live_server)  # the photo's web sizes
    staff_login(phone, "mitte-crew", expect="/crew", password=PASSWORD)
    item = f"#crew-list a.queue-item[data-id='{report_id}']"
    phone.wait_for_selector(item, timeout=10000)
    wait_for_service_worker(phone)
    # Load queue and detail once while online (the service worker keeps copies).
    phone.reload()
    phone.wait_for_selector(item, timeout=10000)
    phone.click(item)
    phone.wait_for_selector("#detail-title:has-text('fehlt')")
    phone.click("#show-reporter")
    phone.wait_for_selector("#reporter-email a[href='mailto:rita@example.org']")
    cached = phone.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys()) {
          for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
        }
        return urls;
      }""")
    assert any(f"/api/v1/staff/reports/{report_id}" in url for url in cached)
    assert not any(url.endswith("/reporter") or "/api/v1/auth/" in url for url in cached)
    phone.click("#detail-back")
    phone.wait_for_selector(item)

    phone.context.set_offline(True)
    phone.reload()
    phone.wait_for_selector(item, timeout=10000)
    phone.wait_for_selector("#offline-status", state="visible")
    screenshot(phone, "staff-9-offline-queue")
    phone.click(item)
    phone.wait_for_selector("#detail-title:has-text('fehlt')", timeout=10000)
    assert "Das Halteverbotsschild" in phone.text_content("#detail-description")
    # The photo's web size comes from the service worker's media cache.
    phone.wait_for_function("""() => [...document.querySelectorAll('#detail-photos img')]
        .some((img) => img.complete && img.naturalWidth > 0)""", timeout=10000)

    phone.click("#action-buttons button[data-action='start']")
    phone.wait_for_selector("#detail-pending", state="visible", timeout=10000)
    phone.click("#action-buttons button[data-action='note']")
    phone.fill("#note-text", "Leiter mitbringen.")
    phone.click("#note-form button[data-submit='note']")
    phone.wait_for_selector("#outbox-status:has-text('2 Aktionen')", timeout=10000)
    screenshot(phone, "staff-10-offline-actions-waiting")
    assert _events(live_server, report_id) == ["submitted"]

    # A reload while offline keeps them (IndexedDB), and shows what waits.
    phone.reload()
    phone.wait_for_selector("#outbox-status:has-text('2 Aktionen')", timeout=10000)
    phone.click("#outbox-status")
    assert phone.locator("#outbox-list li").count() == 2

    phone.context.set_offline(False)
    phone.wait_for_selector("#outbox-panel", state="hidden", timeout=20000)
    phone.wait_for_selector("#detail-status.status-in_progress", timeout=10000)
    settle_crew_actions(phone)  # the retry path ran once more and found nothing to send
    assert _events(live_server, report_id) == ["submitted", "in_progress"]
    assert [n["text"] for n in _notes(phone, report_id)] == ["Leiter mitbringen."]
    screenshot(phone, "staff-11-offline-actions-sent")


def test_crew_actions_queued_offline_are_sent_by_background_sync_with_the_app_closed(
    phone: Any, live_server: LiveServer,
) -> None:
    _staff(live_server, "mitte-crew", "crew", ["bezirksinspektion-mitte"])
    report_id = _new_report(live_server)["id"]
    staff_login(phone, "mitte-crew", expect="/crew", password=PASSWORD)
    item = f"#crew-list a.queue-item[data-id='{report_id}']"
    phone.wait_for_selector(item, timeout=10000)
    wait_for_service_worker(phone)
    phone.reload()  # the service worker keeps copies of queue and detail
    phone.wait_for_selector(item, timeout=10000)
    phone.click(item)
    phone.wait_for_selector("#detail-title", timeout=10000)
    phone.context.set_offline(True)
    phone.click("#action-buttons button[data-action='start']")
    phone.wait_for_selector("#outbox-status:has-text('1 Aktion')", timeout=10000)
    context = phone.context
    phone.close()  # the crew member puts the phone away
    context.set_offline(False)
    assert _events(live_server, report_id) == ["submitted"]

    dispatch_sync(context, live_server.url, "crew-actions")
    wait_until(lambda: _events(live_server, report_id) != ["submitted"],
               "the service worker to send the action", timeout=20, interval=0.2)
    page = context.new_page()
    page.goto("/crew")
    page.wait_for_selector(item, timeout=10000)
    settle_crew_actions(page)  # the retry path ran once more and found nothing to send
    assert _events(live_server, report_id) == ["submitted", "in_progress"]
    assert page.is_hidden("#outbox-status")


def test_the_demo_traffic_light_crew_logs_in_and_finds_the_dark_signal(
    phone: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    """Traffic-light reports go to Verkehrstechnik; before, no demo account could see them."""
    from backend.services.city_cache import last_snapshot
    from backend.services.staff.users import create_demo_accounts

    for session in server_session(live_server):
        accounts = {name: password for name, _role, password in
                    create_demo_accounts(session, last_snapshot(session))}
    created = _new_report(live_server, category="ampel-ausfall",
                          description="Die Ampel am Marienplatz ist ganz dunkel.")
    staff_login(phone, "crew-verkehrstechnik", expect="/crew",
                password=accounts["crew-verkehrstechnik"])
    phone.wait_for_selector(f"#crew-list a.queue-item[data-id='{created['id']}']",
                            timeout=10000)
    screenshot(phone, "staff-demo-traffic-light-crew")


# ---------------------------------------------------------------- dispatcher


def _rule_rows(page: Any) -> list[dict[str, str]]:
    return page.evaluate("""() => [...document.querySelectorAll('#rules-body tr')].map((tr) => ({
        scope: tr.querySelector('.rule-scope').value,
        districts: tr.querySelector('.rule-districts').value,
        department: tr.querySelector('.rule-department').value}))""")


def test_a_dispatcher_changes_a_routing_rule_and_the_next_report_follows_it(
    phone: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    _staff(live_server, "disponentin", "dispatcher", [])
    triage = _new_report(live_server, category="sonstiges",
                         description="Gullydeckel klappert.")["id"]
    staff_login(phone, "disponentin", expect="/dispatch", password=PASSWORD)
    phone.wait_for_selector(f"#triage-list a.queue-item[data-id='{triage}']", timeout=10000)
    screenshot(phone, "staff-12-dispatch-triage")

    phone.click("a[data-section-link='rules']")
    phone.wait_for_url("**/dispatch/rules")
    phone.wait_for_selector("#rules-body tr .rule-scope")
    rows = _rule_rows(phone)
    mitte = next(i for i, r in enumerate(rows) if r["scope"] == "group:schild"
                 and "01" in r["districts"])
    assert rows[mitte]["department"] == "bezirksinspektion-mitte"
    phone.fill(f"#rules-body tr:nth-child({mitte + 1}) .rule-districts", "02, 03, 05, 08")
    phone.click("#add-rule")
    new = f"#rules-body tr:nth-child({len(rows) + 1})"
    phone.select_option(f"{new} .rule-scope", "group:schild")
    phone.fill(f"{new} .rule-districts", "1")
    phone.select_option(f"{new} .rule-department", "bezirksinspektion-nord")
    screenshot(phone, "staff-13-rules-edited")
    phone.click("#save-rules")
    phone.wait_for_selector("#status-message:has-text('gespeichert')", timeout=10000)
    rows = _rule_rows(phone)
    assert {"scope": "group:schild", "districts": "01",
            "department": "bezirksinspektion-nord"} in rows
    screenshot(phone, "staff-14-rules-saved")

    assert _department(live_server, _new_report(live_server)["id"]) == "bezirksinspektion-nord"


def test_a_dispatcher_forwards_marks_a_duplicate_and_rejects_from_triage(
    phone: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    _staff(live_server, "disponentin", "dispatcher", [])
    first = _new_report(live_server, category="sonstiges",
                        description="Ampelmast nach Unfall verbogen.")["id"]
    again = _new_report(live_server, category="sonstiges",
                        description="Der Ampelmast ist schief.")["id"]
    private = _new_report(live_server, category="sonstiges",
                          description="Hecke im Privatgarten.")["id"]
    staff_login(phone, "disponentin", expect="/dispatch", password=PASSWORD)
    phone.wait_for_selector(f"#triage-list a.queue-item[data-id='{private}']", timeout=10000)
    assert phone.locator("#triage-list a.queue-item").count() == 3

    phone.click(f"#triage-list a.queue-item[data-id='{first}']")
    phone.wait_for_url(f"**/dispatch/reports/{first}")
    phone.click("#action-buttons button[data-action='forward']")
    phone.wait_for_selector("#forward-department option[value='verkehrstechnik']", state="attached")
    phone.select_option("#forward-department", "verkehrstechnik")
    phone.fill("#forward-reason", "Mast der Lichtsignalanlage.")
    screenshot(phone, "staff-19-dispatch-forward")
    phone.click("#forward-form button[data-submit='forward']")
    phone.wait_for_selector("#detail-facts dd:has-text('Verkehrstechnik')", timeout=10000)
    assert _department(live_server, first) == "verkehrstechnik"

    phone.click("#detail-back")
    phone.wait_for_selector(f"#triage-list a.queue-item[data-id='{first}']", state="detached",
                            timeout=10000)  # forwarded: no longer waiting for triage
    phone.click(f"#triage-list a.queue-item[data-id='{again}']")
    phone.click("#action-buttons button[data-action='duplicate']")
    phone.fill("#duplicate-of", first)
    phone.click("#duplicate-form button[data-submit='duplicate']")
    phone.wait_for_selector("#detail-status.status-rejected", timeout=10000)
    assert first in phone.text_content("#detail-facts")

    phone.goto(f"/dispatch/reports/{private}")
    phone.click("#action-buttons button[data-action='reject']")
    phone.click("#reject-form button[data-submit='reject']")  # empty: the form says what is missing
    phone.wait_for_selector("#reject-reason[aria-invalid='true']")
    assert phone.evaluate("document.activeElement.id") == "reject-reason"
    phone.select_option("#reject-reason", "not_responsible")
    phone.fill("#reject-responsible", "Eigentümergemeinschaft Sendlinger Str. 1")  # who is
    phone.fill("#reject-note", "Privatgrund – bitte an die Eigentümer wenden.")
    phone.click("#reject-form button[data-submit='reject']")
    phone.wait_for_selector("#detail-status.status-rejected", timeout=10000)
    screenshot(phone, "staff-20-dispatch-rejected")
    phone.click("#detail-back")
    phone.wait_for_selector("#triage-summary:has-text('0 Meldungen')", timeout=10000)


def test_a_crew_member_forwards_a_misrouted_report_to_central_triage(
    phone: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    _staff(live_server, "mitte-crew", "crew", ["bezirksinspektion-mitte"])
    report_id = _new_report(live_server)["id"]
    staff_login(phone, "mitte-crew", expect="/crew", password=PASSWORD)
    phone.click(f"#crew-list a.queue-item[data-id='{report_id}']")
    phone.click("#action-buttons button[data-action='forward']")
    phone.wait_for_selector("#forward-department option[value='anliegenmanagement']",
                            state="attached")
    phone.select_option("#forward-department", "anliegenmanagement")
    phone.fill("#forward-reason", "Privatparkplatz, nicht städtisch.")
    phone.click("#forward-form button[data-submit='forward']")
    phone.wait_for_url("**/crew", timeout=10000)  # no longer theirs: back to the queue
    phone.wait_for_selector("#crew-empty", state="visible", timeout=10000)
    assert _department(live_server, report_id) == "anliegenmanagement"


def test_an_admin_edits_a_category_and_creates_a_crew_account_that_can_log_in(
    phone: Any, browser: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    _staff(live_server, "chefin", "admin", [])
    staff_login(phone, "chefin", expect="/dispatch", password=PASSWORD)
    phone.click("a[data-section-link='categories']")
    row = "#categories-body tr[data-code='schild-fehlt']"
    phone.wait_for_selector(row)
    phone.fill(f"{row} input[name='name_de']", "Verkehrszeichen fehlt ganz")
    phone.click(f"{row} button.save-row")
    phone.wait_for_selector("#status-message:has-text('gespeichert')", timeout=10000)
    categories = live_server.app.test_client().get("/api/v1/categories").get_json()
    names = [c["name"] for g in categories["groups"] for c in g["categories"]]
    assert "Verkehrszeichen fehlt ganz" in names

    phone.click("a[data-section-link='users']")
    phone.wait_for_selector("#users-body tr[data-username='chefin']")
    phone.fill("#new-user-username", "west-crew")
    phone.fill("#new-user-display-name", "Wera West")
    phone.fill("#new-user-password", PASSWORD)
    phone.select_option("#new-user-role", "crew")
    phone.check("#new-user-dept-bezirksinspektion-west")
    screenshot(phone, "staff-21-new-user")
    phone.click("#new-user-form button[type='submit']")
    phone.wait_for_selector("#users-body tr[data-username='west-crew']", timeout=10000)
    assert "Bezirksinspektion West" in phone.text_content(
        "#users-body tr[data-username='west-crew']")

    other = _phone_context(browser, live_server)
    try:
        page = other.new_page()
        staff_login(page, "west-crew", expect="/crew", password=PASSWORD)
        assert "Wera West" in page.text_content("#staff-user")
    finally:
        other.close()


def test_the_login_page_asks_who_is_logged_in_without_an_error(
    phone: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    answers: list[tuple[int, str]] = []
    phone.on("response", lambda r: answers.append((r.status, r.url)))
    phone.goto("/crew")
    phone.wait_for_url("**/login?next=%2Fcrew")
    phone.wait_for_selector("#username")
    asked = [status for status, url in answers if url.endswith("/api/v1/auth/me")]
    assert asked and all(status == 200 for status in asked), answers
    assert not [a for a in answers if a[0] >= 400], answers  # nothing red in the log


def test_login_explains_wrong_passwords_and_too_many_attempts(
    phone: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    _staff(live_server, "mitte-crew", "crew", ["bezirksinspektion-mitte"])
    phone.goto("/crew")
    phone.wait_for_url("**/login?next=%2Fcrew")
    phone.fill("#username", "mitte-crew")
    phone.fill("#password", "falsch-falsch-falsch")
    phone.click("#login-submit")
    phone.wait_for_selector("#login-error:has-text('falsch')")
    assert phone.get_attribute("#password", "aria-invalid") == "true"
    screenshot(phone, "staff-15-login-wrong")
    for _ in range(6):
        if phone.is_visible("#login-error:has-text('Zu viele')"):
            break
        phone.fill("#password", "falsch-falsch-falsch")
        phone.click("#login-submit")
        phone.wait_for_function("!document.querySelector('#login-submit').hasAttribute('aria-busy')")
    phone.wait_for_selector("#login-error:has-text('Zu viele')")
    assert " s " in phone.text_content("#login-error")
    assert phone.is_disabled("#login-submit")
    screenshot(phone, "staff-16-login-rate-limited")


def test_after_login_the_staff_header_offers_logout_and_english(
    phone: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    _staff(live_server, "mitte-crew", "crew", ["bezirksinspektion-mitte"])
    staff_login(phone, "mitte-crew", expect="/crew", password=PASSWORD)
    phone.click("#lang-switch")
    phone.wait_for_function("document.documentElement.lang === 'en'")
    phone.wait_for_selector("#crew-title:has-text('Open reports')")
    screenshot(phone, "staff-17-english")
    phone.click("#logout")
    phone.wait_for_url("**/login")
    signed_out = phone.request.get("/api/v1/auth/me")
    assert signed_out.status == 200 and signed_out.json()["user"] is None
    phone.goto("/crew")
    phone.wait_for_url("**/login?next=%2Fcrew")


# ---------------------------------------------------------------- accessibility


def test_no_serious_accessibility_violations_on_login_and_crew_screens(
    phone: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    _staff(live_server, "mitte-crew", "crew", ["bezirksinspektion-mitte"])
    report_id = _new_report(live_server)["id"]
    phone.goto("/login")
    phone.wait_for_selector("#login-title")
    assert_accessible(phone, "/login")
    staff_login(phone, "mitte-crew", expect="/crew", password=PASSWORD)
    phone.wait_for_selector(f"#crew-list a.queue-item[data-id='{report_id}']", timeout=10000)
    assert_accessible(phone, "/crew")
    phone.click(f"#crew-list a.queue-item[data-id='{report_id}']")
    phone.wait_for_selector("#detail-title:has-text('fehlt')")
    phone.click("#action-buttons button[data-action='resolve']")
    phone.wait_for_selector("#resolve-form")
    assert_accessible(phone, "/crew/reports/<id>")


def test_no_serious_accessibility_violations_on_dispatch_screens(
    phone: Any, live_server: LiveServer, page_errors: list[str],
) -> None:
    _staff(live_server, "chefin", "admin", [])
    _new_report(live_server, category="sonstiges", description="Gullydeckel klappert.")
    staff_login(phone, "chefin", expect="/dispatch", password=PASSWORD)
    phone.wait_for_selector("#triage-list a.queue-item", timeout=10000)
    assert_accessible(phone, "/dispatch")
    for section in ("rules", "categories", "departments", "users"):
        phone.click(f"a[data-section-link='{section}']")
        phone.wait_for_selector(f"#{section}-body tr", timeout=10000)
        assert_accessible(phone, f"/dispatch/{section}")
        screenshot(phone, f"staff-18-dispatch-{section}")


def test_the_crew_sees_when_a_report_waits_for_the_departments_own_system(
    phone: Any, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    from sqlalchemy import update

    from backend.models import Department
    from backend.services import forwarding
    from backend.services.city_state import bump_config_version

    monkeypatch.setenv("MM_TEST_OPEN311_KEY", "k")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/open311/v2"
    for session in server_session(live_server):
        session.execute(update(Department).where(Department.code == "bezirksinspektion-mitte")
                        .values(open311={"url": closed, "api_key_env": "MM_TEST_OPEN311_KEY"}))
        bump_config_version(session)
        session.commit()
    _staff(live_server, "mitte-crew", "crew", ["bezirksinspektion-mitte"])
    report_id = _new_report(live_server)["id"]
    for session in server_session(live_server):
        assert forwarding.create_missing(session) == 1
        [forwarding_id] = forwarding.due_ids(session)
        assert forwarding.send(session, forwarding_id) == "pending"
    staff_login(phone, "mitte-crew", expect="/crew", password=PASSWORD)
    phone.goto(f"/crew/reports/{report_id}")
    phone.wait_for_selector("#forwarding-section", state="visible", timeout=10000)
    text = phone.text_content("#detail-forwarding")
    assert "bezirksinspektion-mitte" in text and "1 Versuch" in text
    assert "Connection" in text
    screenshot(phone, "staff-22-forwarding-waits")


def test_an_admin_sees_a_failed_forwarding_with_its_error_and_retries_it(
    phone: Any, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, page_errors: list[str],
) -> None:
    from sqlalchemy import update

    from backend.models import Department, Forwarding
    from backend.services import forwarding
    from backend.services.city_state import bump_config_version
    from backend.services.destinations.policy import RetryPolicy
    from tests.servers import free_port

    monkeypatch.setenv("MM_TEST_OPEN311_KEY", "k")
    closed = f"http://127.0.0.1:{free_port()}/open311/v2"
    for session in server_session(live_server):
        session.execute(update(Department).where(Department.code == "bezirksinspektion-mitte")
                        .values(open311={"url": closed, "api_key_env": "MM_TEST_OPEN311_KEY"}))
        bump_config_version(session)
        session.commit()
    report_id = _new_report(live_server)["id"]
    for session in server_session(live_server):
        assert forwarding.create_missing(session) == 1
        [forwarding_id] = forwarding.due_ids(session)
        assert forwarding.send(session, forwarding_id, policy=RetryPolicy(
            max_attempts=1, failures_to_open=1)) == "failed"
    _staff(live_server, "chefin", "admin", [])
    staff_login(phone, "chefin", expect="/dispatch", password=PASSWORD)
    phone.click("a[data-section-link='deliveries']")
    row = f"#deliveries-body tr[data-kind='forwarding'][data-id='{forwarding_id}']"
    phone.wait_for_selector(row, timeout=10000)
    text = phone.text_content(row)
    assert "Weiterleitung" in text and report_id in text and "ConnectionError" in text
    assert "gestört" in phone.text_content("#circuits-body")
    assert_accessible(phone, "/dispatch/deliveries")
    screenshot(phone, "staff-23-failed-deliveries")

    phone.click(f"{row} button[data-retry]")
    phone.wait_for_selector("#deliveries-summary:has-text('Alles zugestellt')", timeout=10000)
    for session in server_session(live_server):
        row_now = session.get(Forwarding, forwarding_id)
        assert (row_now.state, row_now.attempts) == ("pending", 0)

"""The apps run under their Content-Security-Policy: no violation while the citizen app
reports with a photo, the public map and "My reports" render, and staff log in to the crew,
dispatch and analyst pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.services.seeding import seed_reports
from backend.services.staff.users import create_user
from tests.pwa.conftest import PHONE, STAFF_PASSWORD, LiveServer, staff_login
from tests.shared_data import shared_data_dir

WATCH = """() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation',
    (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
}"""


def _context(browser: Any, server: LiveServer) -> Any:
    context = browser.new_context(  # CSP enforced: no bypass here
        viewport=PHONE, locale="de-DE", base_url=server.url,
        geolocation={"latitude": 48.1374, "longitude": 11.5755}, permissions=["geolocation"])
    context.add_init_script(script=f"({WATCH})()")
    return context


def _violations(page: Any) -> list[str]:
    return page.evaluate("() => window.__cspViolations")


def test_the_citizen_app_runs_under_its_policy(browser: Any, live_server: LiveServer) -> None:
    context = _context(browser, live_server)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text
            else None)
    page.goto("/report")
    page.click("#locate-me")
    page.wait_for_selector("#location-summary:not(:empty)")
    page.check("input[name='group'][value='schild']", force=True)
    page.check("input[name='category'][value='schild-fehlt']", force=True)
    page.set_input_files("#photos", str(shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg"))
    page.wait_for_selector("#photo-previews li.photo-preview img")
    page.fill("#description", "Schild fehlt.")
    page.click("#submit-report")
    page.wait_for_selector("#confirmation", state="visible", timeout=20000)
    for path in ("/map", "/mine"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert _violations(page) == [], path
    assert errors == []
    context.close()


def test_the_staff_apps_run_under_their_policy(browser: Any, live_server: LiveServer) -> None:
    engine = make_engine(live_server.app.extensions["mm_settings"].database_url)
    try:
        with Session(engine) as session:
            seed_reports(session, 300)
            create_user(session, username="dora", password=STAFF_PASSWORD, role="admin",
                        departments=["bezirksinspektion-mitte"], display_name="Dora")
    finally:
        engine.dispose()
    context = _context(browser, live_server)
    page = context.new_page()
    staff_login(page, "dora", expect="/dispatch")
    for path in ("/dispatch", "/crew", "/analyst"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert _violations(page) == [], path
    context.close()

"""Every staff page fits a phone: at 360 and 390 CSS pixels wide nothing sticks out to the
right, so no page scrolls sideways (the crew's sort select made /crew 4 px too wide)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.services.staff.users import create_user
from tests.pwa.conftest import (
    STAFF_PASSWORD,
    LiveServer,
    screenshot,
    server_session,
    staff_login,
)

WIDTHS = (360, 390)
# Layout does not depend on the database: one backend is enough.
pytestmark = pytest.mark.parametrize("backend", ["spatialite"], indirect=True)
# Elements whose right edge is past the viewport, with a selector-like name for the message.
# Inside a box that scrolls sideways itself (a wide data table, WCAG 1.4.10's exception) and
# fits the screen, they are fine: the page does not move.
OVERFLOW = r"""() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const fits = up.getBoundingClientRect().right <= width + 0.5;
      if (getComputedStyle(up).overflowX !== 'visible' && fits) return true;
    }
    return false;
  };
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 0.5 && getComputedStyle(el).position !== 'fixed'
        && !scrolls(el)) {
      const classes = typeof el.className === 'string' && el.className
        ? '.' + el.className.trim().split(/\s+/).join('.') : '';
      wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${classes}` +
                ` right=${Math.round(box.right)}`);
    }
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8)};
}"""


@pytest.fixture
def staffed(live_server: LiveServer) -> Iterator[tuple[LiveServer, str]]:
    for session in server_session(live_server):
        create_user(session, username="crew-m", password=STAFF_PASSWORD, role="crew",
                    departments=["bezirksinspektion-mitte"], display_name="Crew Mitte")
        create_user(session, username="chefin", password=STAFF_PASSWORD, role="admin",
                    departments=[], display_name="Administration")
        create_user(session, username="zahlen", password=STAFF_PASSWORD, role="analyst",
                    departments=[], display_name="Analyse")
    client = live_server.app.test_client()
    report = None
    for i in range(3):
        answer = client.post("/api/v1/reports", json={
            "category": "schild-fehlt", "lat": 48.1374 + i * 0.001, "lon": 11.5755,
            "description": "Das Halteverbotsschild an der Ecke zur Rosenstraße fehlt seit "
                           "letzter Woche vollständig."})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        report = answer.get_json()["id"]
    yield live_server, report


def _fits(page: Any, name: str) -> None:
    page.wait_for_load_state("networkidle")
    found = page.evaluate(OVERFLOW)
    screenshot(page, f"staff-width-{name}")
    assert found["scroll"] <= found["width"] and not found["wide"], (name, found)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_staff_page_fits_a_narrow_phone(browser: Any, staffed: tuple[LiveServer, str],
                                              width: int) -> None:
    server, report = staffed
    pages = {
        "crew-m": ("/crew", ["/crew", f"/crew/reports/{report}"]),
        "chefin": ("/dispatch", [f"/dispatch/{s}" for s in (
            "triage", "rules", "categories", "departments", "users", "deliveries")]
            + [f"/crew/reports/{report}"]),
        "zahlen": ("/analyst", ["/analyst"]),
    }
    for username, (home, paths) in pages.items():
        context = browser.new_context(viewport={"width": width, "height": 800},
                                      device_scale_factor=2, is_mobile=True, has_touch=True,
                                      locale="de-DE", base_url=server.url)
        page = context.new_page()
        try:
            page.goto("/login")
            _fits(page, f"{width}-login")
            staff_login(page, username, expect=home)
            for path in paths:
                page.goto(path)
                page.wait_for_selector("main")
                _fits(page, f"{width}-{path.strip('/').replace('/', '-')}")
        finally:
            context.close()

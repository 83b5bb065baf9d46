"""The analyst screen in a desktop-sized headless Chromium: an analyst logs in and lands on
/analyst, the heat and grid layers draw, a filter changes the figures, the district table adds
up to the total, every download answers with its file, a heatmap built by the worker appears
after a progress text, and axe finds nothing serious.

1,500 demo reports are seeded into the live server's database (three years of intake).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import Category, CategoryGroup, Report
from backend.services.seeding import seed_reports
from backend.services.staff.users import create_user
from geo.heatmap_image import colour_scale
from tests.pwa.conftest import (
    LiveServer,
    assert_accessible,
    running_server,
    screenshot,
    server_session,
    staff_login,
)
from workers.runner import make_worker

PASSWORD = "correct horse battery staple"
DESKTOP = {"width": 1280, "height": 900}
SEEDED = 1500
HEAT_CANVAS = "document.querySelector('#analyst-map canvas.leaflet-heatmap-layer')"


# ---------------------------------------------------------------- helpers


def _prepare(server: LiveServer) -> None:
    """Seed the demo reports and the staff accounts the tests log in with."""
    for session in server_session(server):
        seed_reports(session, SEEDED)
        create_user(session, username="ada", password=PASSWORD, role="analyst",
                    departments=[], display_name="Ada")
        create_user(session, username="dora", password=PASSWORD, role="dispatcher",
                    departments=["anliegenmanagement"], display_name="Dora")
        create_user(session, username="carl", password=PASSWORD, role="crew",
                    departments=["bezirksinspektion-mitte"], display_name="Carl")


def _reports_in_group(server: LiveServer, group: str) -> int:
    for session in server_session(server):
        return session.scalar(
            select(func.count()).select_from(Report).join(Category)
            .join(CategoryGroup, Category.group_id == CategoryGroup.id)
            .where(CategoryGroup.code == group))
    return -1


def _desktop(browser: Any, server: LiveServer, locale: str = "de-DE") -> Any:
    return browser.new_context(viewport=DESKTOP, locale=locale, base_url=server.url,
                               bypass_csp=True,  # see test_content_security_policy.py
                               accept_downloads=True)



def _number(text: str) -> int:
    """A whole number as the page prints it (German or English grouping)."""
    return int(re.sub(r"[^\d]", "", text))


def _wait_until_loaded(page: Any) -> None:
    """Map and figures shown for the current filters (no request under way)."""
    page.wait_for_function(
        "document.querySelector('#analyst-map-summary').textContent.trim() !== ''"
        " && document.querySelector('#analyst-progress').textContent === ''"
        " && !document.querySelector('.analyst-figures').hasAttribute('aria-busy')"
        " && document.querySelectorAll('#analyst-district-table tbody tr').length > 0",
        timeout=30000)


def _total(page: Any) -> int:
    return _number(page.text_content("#analyst-total-reports"))


def _map_total(page: Any) -> int:
    return _number(page.text_content("#analyst-map-summary").split(" ")[0])


def _wait_for_new_total(page: Any, old: str) -> None:
    page.wait_for_function(
        "old => document.querySelector('#analyst-total-reports').textContent !== old",
        arg=old, timeout=30000)
    _wait_until_loaded(page)


def _district_reports(page: Any) -> list[int]:
    cells = page.locator("#analyst-district-table tbody td[data-col='reports']")
    return [_number(text) for text in cells.all_text_contents()]


def _heat_pixels(page: Any) -> int:
    """Painted pixels on leaflet.heat's canvas (0 when there is none)."""
    return page.evaluate("""() => {
      const canvas = document.querySelector('#analyst-map canvas.leaflet-heatmap-layer');
      if (!canvas || !canvas.width || !canvas.height) return 0;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
      return painted;
    }""")



@pytest.fixture
def seeded(live_server: LiveServer) -> LiveServer:
    _prepare(live_server)
    return live_server


@pytest.fixture
def analyst(browser: Any, seeded: LiveServer) -> Iterator[Any]:
    """Ada (analyst) logged in on a desktop-sized page; uncaught page errors fail the test."""
    context = _desktop(browser, seeded)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    staff_login(page, "ada", expect="/analyst")
    _wait_until_loaded(page)
    yield page
    context.close()
    assert errors == []


# ---------------------------------------------------------------- tests


def test_an_analyst_lands_on_the_heatmap_and_can_switch_to_the_grid(analyst: Any) -> None:
    page = analyst
    assert page.text_content("#analyst-title") == "Auswertung"
    assert page.is_hidden("#staff-nav")  # one screen: nothing to navigate between
    assert page.is_visible("#af-department-field")  # departments are public (GET /departments)
    assert _map_total(page) == SEEDED
    page.wait_for_function(HEAT_CANVAS)
    assert _heat_pixels(page) > 1000
    assert page.locator("#analyst-map path.analyst-cell").count() == 0
    screenshot(page, "analyst-1-heat")

    page.click("label[for='analyst-layer-grid']")
    page.wait_for_selector("#analyst-map path.analyst-cell")
    cells = page.locator("#analyst-map path.analyst-cell").count()
    summary = page.text_content("#analyst-map-summary")
    assert cells == _number(summary.split(" in ")[1].split(" ")[0]) > 50
    assert page.locator("#analyst-map canvas.leaflet-heatmap-layer").count() == 0
    legend = page.locator("#analyst-legend li").all_text_contents()
    assert 1 <= len(legend) <= 5 and legend[0].startswith("1")
    screenshot(page, "analyst-2-grid")

    # Zoomed in, the automatic cell size follows: smaller squares, the same reports.
    page.click("#analyst-map .leaflet-control-zoom-in")
    page.wait_for_function(
        "!document.querySelector('#analyst-map-summary').textContent.includes('1.000 m')")
    _wait_until_loaded(page)
    assert "500 m" in page.text_content("#analyst-map-summary")
    assert _map_total(page) == SEEDED

    # Hexagons instead of squares: the same reports, in other cells.
    page.select_option("#analyst-cell", "h3:8")
    page.wait_for_function("document.querySelector('#analyst-map-summary').textContent.includes('H3')")
    assert _map_total(page) == SEEDED
    assert page.locator("#analyst-map path.analyst-cell").count() > 50

    page.click("label[for='analyst-layer-heat']")
    page.wait_for_function(HEAT_CANVAS)
    assert _heat_pixels(page) > 1000


def test_a_filter_changes_the_figures_and_the_district_rows_add_up(
    analyst: Any, seeded: LiveServer,
) -> None:
    page = analyst
    assert _total(page) == SEEDED == sum(_district_reports(page))
    ampel = _reports_in_group(seeded, "ampel")
    assert 0 < ampel < SEEDED

    page.select_option("#af-scope", "group:ampel")
    page.select_option("#af-status", "open")
    before = page.text_content("#analyst-total-reports")
    page.click("#analyst-apply")
    _wait_for_new_total(page, before)
    page.wait_for_function("document.querySelector('#status-message').textContent"
                           ".startsWith('Auswertung aktualisiert')")
    filtered = _total(page)
    assert 0 < filtered < ampel
    assert sum(_district_reports(page)) == filtered == _map_total(page)
    assert _number(page.text_content("#analyst-total-open")) == filtered
    assert _number(page.text_content("#analyst-total-closed")) == 0
    groups = page.locator("#analyst-category-table tbody td:nth-child(2)").all_text_contents()
    assert set(groups) == {"Ampel"}
    assert "group=ampel" in page.url and "status=open" in page.url
    assert "group=ampel" in page.get_attribute("#dl-heat-csv", "href")
    chart = page.get_attribute("#analyst-chart-district svg", "aria-labelledby").split()
    assert all(page.text_content(f"#{id_}") for id_ in chart)
    screenshot(page, "analyst-3-filtered")

    # The address keeps the filters: a reload shows the same selection.
    page.reload()
    _wait_until_loaded(page)
    assert page.input_value("#af-scope") == "group:ampel"
    assert _total(page) == filtered

    # The end before the start is refused at the field, nothing is fetched.
    page.fill("#af-from", "2025-06-30")
    page.fill("#af-until", "2025-06-01")
    page.click("#analyst-apply")
    assert page.get_attribute("#af-until", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "af-until"

    before = page.text_content("#analyst-total-reports")
    page.click("#analyst-reset")
    _wait_for_new_total(page, before)
    assert _total(page) == SEEDED
    assert page.url.endswith("/analyst")


EXPECTED_TYPES = {
    "#dl-heat-geojson": "application/geo+json",
    "#dl-heat-csv": "text/csv",
    "#dl-heat-png": "image/png",
    "#dl-summary-csv": "text/csv",
    "#dl-open-csv": "text/csv",
    "#dl-open-geojson": "application/geo+json",
    "#dl-open-metadata": "application/json",
}


def test_every_download_answers_with_its_file(analyst: Any, seeded: LiveServer) -> None:
    page = analyst
    page.select_option("#af-scope", "group:ampel")
    page.click("#analyst-apply")
    page.wait_for_url("**/analyst?group=ampel")
    _wait_until_loaded(page)
    ampel = _reports_in_group(seeded, "ampel")
    for selector, content_type in EXPECTED_TYPES.items():
        href = page.get_attribute(selector, "href")
        response = page.request.get(href)  # the page's cookies: the analyst's session
        assert response.status == 200, (selector, href, response.text()[:200])
        assert response.headers["content-type"].split(";")[0] == content_type, selector
        assert len(response.body()) > 100, selector
    heat = page.request.get(page.get_attribute("#dl-heat-geojson", "href")).json()
    assert sum(f["properties"]["count"] for f in heat["features"]) == ampel
    summary_csv = page.request.get(page.get_attribute("#dl-summary-csv", "href")).text()
    rows = csv.DictReader(io.StringIO(summary_csv))
    assert sum(int(row["reports"]) for row in rows if row["dimension"] == "district") == ampel

    # Clicking a heatmap link saves the file (fetched by the page, so a 202 could be waited for).
    with page.expect_download() as download:
        page.click("#dl-heat-png")
    assert download.value.suggested_filename.endswith(".png")
    # The screen's heat legend is the PNG's scale (geo.heatmap_image.colour_scale), not
    # leaflet.heat's blue-green-red default.
    low, high = colour_scale()[0], colour_scale()[-1]
    legend = page.eval_on_selector(".heat-scale", "e => getComputedStyle(e).backgroundImage")
    assert legend.startswith("linear-gradient")
    assert "rgb({}, {}, {})".format(*low) in legend and "rgb({}, {}, {})".format(*high) in legend
    page.wait_for_function("document.querySelector('#analyst-download-status').textContent"
                           ".includes('heruntergeladen')")


def test_a_dispatcher_keeps_dispatch_and_reaches_the_analyst_screen_by_the_nav(
    browser: Any, seeded: LiveServer,
) -> None:
    context = _desktop(browser, seeded)
    page = context.new_page()
    staff_login(page, "dora", expect="/dispatch")
    assert page.is_visible("#staff-nav a[href='/analyst']")
    page.click("#staff-nav a[href='/analyst']")
    page.wait_for_url("**/analyst")
    _wait_until_loaded(page)
    assert page.get_attribute("#staff-nav a[href='/analyst']", "aria-current") == "page"
    # Dispatchers filter by department too.
    assert page.is_visible("#af-department-field")
    page.select_option("#af-department", "bezirksinspektion-mitte")
    page.click("#analyst-apply")
    page.wait_for_url("**department=bezirksinspektion-mitte")
    _wait_until_loaded(page)
    assert 0 < _total(page) < SEEDED
    context.close()

    crew = _desktop(browser, seeded)
    page = crew.new_page()
    staff_login(page, "carl", expect="/crew")
    assert page.is_hidden("#staff-nav a[href='/analyst']")
    page.goto("/analyst")
    page.wait_for_url("**/crew")
    crew.close()


def test_a_heatmap_built_by_the_worker_appears_after_a_progress_text(
    browser: Any, database_url: str, tmp_path: Path, redis_url: str,
) -> None:
    with running_server(database_url, tmp_path, redis_url,
                        analytics_sync_max_reports=100) as server:
        _prepare(server)
        context = _desktop(browser, server)
        page = context.new_page()
        staff_login(page, "ada", expect="/analyst")
        page.wait_for_function("document.querySelector('#analyst-progress').textContent"
                               ".includes('auf dem Server erstellt')", timeout=15000)
        screenshot(page, "analyst-4-building")
        make_worker(server.app.extensions["mm_settings"]).work(burst=True)
        _wait_until_loaded(page)
        assert _map_total(page) == SEEDED
        page.wait_for_function(HEAT_CANVAS)
        assert _heat_pixels(page) > 1000
        context.close()


def test_the_service_worker_keeps_the_screen_but_never_an_analytics_answer(analyst: Any) -> None:
    page = analyst
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15000)
    before = page.text_content("#analyst-total-reports")
    page.select_option("#af-status", "closed")  # fetched through the worker now
    page.click("#analyst-apply")
    _wait_for_new_total(page, before)
    cached = page.evaluate("""async () => {
      const urls = [];
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) urls.push(new URL(request.url).pathname);
      }
      return urls;
    }""")
    assert "/vendor/heat/leaflet-heat.js" in cached and "/app/staff/analystmap.js" in cached
    assert [url for url in cached if url.startswith("/api/v1/analytics/")] == []
    # Reloaded from the worker's shell, the screen opens with its filters.
    page.reload()
    _wait_until_loaded(page)
    assert page.input_value("#af-status") == "closed"


def test_no_serious_accessibility_violations_on_the_analyst_screen(analyst: Any) -> None:
    page = analyst
    assert_accessible(page, "analyst heat")
    page.click("label[for='analyst-layer-grid']")
    page.wait_for_selector("#analyst-map path.analyst-cell")
    assert_accessible(page, "analyst grid")
    # Every table has a caption and column headers; every chart has a text alternative.
    for table in ("#analyst-district-table", "#analyst-category-table"):
        assert page.text_content(f"{table} caption")
        assert page.locator(f"{table} thead th[scope='col']").count() >= 9
    for chart in ("#analyst-chart-district", "#analyst-chart-category"):
        assert page.get_attribute(f"{chart} svg", "role") == "img"
    page.click("#lang-switch")
    page.wait_for_function("document.documentElement.lang === 'en'")
    _wait_until_loaded(page)
    assert page.text_content("#analyst-title") == "Analysis"
    assert page.text_content("#analyst-district-caption") == "By district"
    screenshot(page, "analyst-5-english")
    assert_accessible(page, "analyst english")

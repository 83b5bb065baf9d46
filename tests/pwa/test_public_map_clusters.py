"""The public map in a phone-sized headless Chromium, with 800 demo reports: zoomed out it
draws the server's clusters (GET /api/v1/reports/clusters) instead of hundreds of pins, their
counts add up to the API's total, a tap on a cluster zooms into it, from DETAIL_ZOOM on the
reports themselves appear, and the list below the map keeps working at every zoom (the newest
100 open reports and how many there are in all); English labels, and a failed load announced.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from backend.services.seeding import seed_reports
from tests.pwa.conftest import LiveServer, assert_accessible, screenshot, server_session

SEEDED = 800
DETAIL_ZOOM = 15  # pwa/app/publicmap.js
LIST_LIMIT = 100
CLUSTERS = "/api/v1/reports/clusters"
REPORTS = "/api/v1/reports"

# The counts drawn on the map (digits only: German groups thousands with a dot), the list,
# and what the map says it shows.
VIEW = """() => {
  const count = (selector) => [...document.querySelectorAll(selector)]
    .map((el) => Number(el.textContent.replace(/\\D/g, '')));
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const el = document.querySelector('#public-map');
  return {
    mode: el.dataset.mode || null, zoom: Number(el.dataset.zoom || 0),
    open: count('#public-map .report-cluster-open span'),
    fixed: count('#public-map .report-cluster-fixed span'),
    openSum: sum(count('#public-map .report-cluster-open span')),
    fixedSum: sum(count('#public-map .report-cluster-fixed span')),
    reportMarkers: document.querySelectorAll('#public-map .report-marker').length,
    pinGroups: document.querySelectorAll('#public-map .marker-cluster').length,
    list: document.querySelectorAll('#map-list > li').length,
    summary: document.querySelector('#map-list-summary').textContent,
  };
}"""

# The biggest open cluster whose centre is on screen and not covered by another marker (where
# a tap lands on it): its index among the open clusters, or -1.
TAPPABLE = """() => {
  const box = document.querySelector('#public-map').getBoundingClientRect();
  let best = -1; let most = -1;
  document.querySelectorAll('#public-map .report-cluster-open').forEach((el, i) => {
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2; const y = r.top + r.height / 2;
    if (x < box.left + 30 || x > box.right - 50 || y < box.top + 90 || y > box.bottom - 30) return;
    if (document.elementFromPoint(x, y)?.closest('.report-cluster') !== el) return;
    const n = Number(el.textContent.replace(/\\D/g, ''));
    if (n > most) { most = n; best = i; }
  });
  return best;
}"""


@pytest.fixture
def seeded(live_server: LiveServer) -> LiveServer:
    for session in server_session(live_server):
        seed_reports(session, SEEDED)
    return live_server


class Traffic:
    """The report API requests the page makes (also those its service worker answers)."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        page.on("request", self._seen)

    def _seen(self, request: Any) -> None:
        if urlsplit(request.url).path in (CLUSTERS, REPORTS):
            self.urls.append(request.url)

    def mark(self) -> int:
        return len(self.urls)

    def since(self, mark: int) -> list[tuple[str, dict[str, str]]]:
        return [(urlsplit(u).path, {k: v[0] for k, v in parse_qs(urlsplit(u).query).items()})
                for u in self.urls[mark:]]


def _is_clusters(request: Any, status: str, zoom: int | None = None) -> bool:
    parts = urlsplit(request.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return (parts.path == CLUSTERS and query.get("status") == status
            and (zoom is None or query.get("zoom") == str(zoom)))


def _last(traffic: Traffic, mark: int, path: str, status: str) -> dict[str, str]:
    found = [q for p, q in traffic.since(mark) if p == path and q.get("status") == status]
    assert found, f"no {path}?status={status} request"
    return found[-1]


def _api(page: Any, path: str, query: dict[str, str]) -> dict[str, Any]:
    response = page.request.get(path, params=query)
    assert response.status == 200, response.text()
    return response.json()


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def _check_clusters(page: Any, traffic: Traffic, mark: int, zoom: int) -> dict[str, Any]:
    """Wait until the map shows the clusters of its last request at `zoom`; check them against
    the API and the list against its summary. Returns the open clusters' answer."""
    page.wait_for_function(
        "(z) => { const el = document.querySelector('#public-map');"
        " return el.dataset.mode === 'clusters' && Number(el.dataset.zoom) === z; }",
        arg=zoom, timeout=15000)
    calls = traffic.since(mark)
    assert calls, "no report request"
    assert all(q.get("limit") != "500" for _, q in calls), calls  # no pins zoomed out
    open_query = _last(traffic, mark, CLUSTERS, "open")
    fixed_query = _last(traffic, mark, CLUSTERS, "resolved,closed")
    list_query = _last(traffic, mark, REPORTS, "open")
    assert open_query["zoom"] == fixed_query["zoom"] == str(zoom)
    assert list_query["limit"] == str(LIST_LIMIT)
    assert open_query["bbox"] == fixed_query["bbox"] == list_query["bbox"]
    # Recently fixed: since the start of a UTC day (the same answer for everyone all day).
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00Z", fixed_query["updated_after"])
    opened = _api(page, CLUSTERS, open_query)
    fixed = _api(page, CLUSTERS, fixed_query)
    listed = _api(page, REPORTS, list_query)
    # Drawn once the last answers arrived (an earlier view's markers are replaced by then).
    page.wait_for_function(
        f"([open, fixed, list]) => {{ const v = ({VIEW})();"
        " return v.openSum === open && v.fixedSum === fixed && v.list === list; }",
        arg=[opened["total"], fixed["total"], len(listed["features"])], timeout=15000)
    view = page.evaluate(VIEW)
    assert sorted(view["open"]) == sorted(f["properties"]["count"] for f in opened["features"])
    assert sorted(view["fixed"]) == sorted(f["properties"]["count"] for f in fixed["features"])
    assert view["reportMarkers"] == 0 and view["pinGroups"] == 0
    assert view["list"] == min(LIST_LIMIT, opened["total"]) <= LIST_LIMIT
    if opened["total"] > LIST_LIMIT:
        assert view["summary"].endswith(f"die Liste zeigt die neuesten {LIST_LIMIT}"), view
        assert _number(view["summary"].split(" ")[0]) == opened["total"], view
    else:
        assert view["summary"] == f"Liste: {opened['total']} offene Meldungen in diesem " \
                                  "Kartenausschnitt", view
    return opened


def test_zoomed_out_the_map_shows_server_clusters_and_a_tap_zooms_down_to_the_reports(
    phone: Any, seeded: LiveServer,
) -> None:
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    traffic = Traffic(phone)
    with phone.expect_request(lambda r: _is_clusters(r, "open", 12)):
        phone.goto("/map")
    _check_clusters(phone, traffic, 0, 12)

    # Zoomed out to the whole city: more open reports than the list holds.
    mark = traffic.mark()
    with phone.expect_request(lambda r: _is_clusters(r, "open", 11)):
        phone.click("#public-map .leaflet-control-zoom-out")
    opened = _check_clusters(phone, traffic, mark, 11)
    assert opened["total"] > LIST_LIMIT, "seed more reports: the list must be cut"
    total = _api(phone, CLUSTERS, {"bbox": "-180,-85,180,85", "zoom": "11", "status": "open"})
    assert opened["total"] <= total["total"]
    title = phone.get_attribute("#public-map .report-cluster-open >> nth=0", "title")
    assert re.fullmatch(r"\d[\d.]* offene Meldung(en)?", title or ""), title
    assert phone.locator("#public-map .report-cluster-open span[role=img]").first \
        .get_attribute("aria-label") == title
    screenshot(phone, "de-7-map-clusters")
    assert_accessible(phone, "/map with clusters")

    # Tapping clusters zooms into their cells, until the reports themselves show.
    zoom = 11
    for _ in range(4):
        index = phone.evaluate(TAPPABLE)
        assert index >= 0, "no open cluster to tap"
        mark = traffic.mark()
        with phone.expect_request(
                lambda r: urlsplit(r.url).path in (CLUSTERS, REPORTS), timeout=15000):
            phone.locator("#public-map .report-cluster-open").nth(index).click()
        phone.wait_for_function(
            "(z) => Number(document.querySelector('#public-map').dataset.zoom) > z",
            arg=zoom, timeout=15000)
        zoom = phone.evaluate("Number(document.querySelector('#public-map').dataset.zoom)")
        if zoom >= DETAIL_ZOOM:
            break
        _check_clusters(phone, traffic, mark, zoom)
    assert zoom >= DETAIL_ZOOM

    # Street level: the reports as markers from the report list, as before.
    phone.wait_for_function(
        "document.querySelector('#public-map').dataset.mode === 'reports'"
        " && document.querySelector('#public-map .report-marker, #public-map .marker-cluster')",
        timeout=15000)
    calls = traffic.since(mark)
    assert not [c for c in calls if c[0] == CLUSTERS], calls
    pins = _last(traffic, mark, REPORTS, "open")
    recent = _last(traffic, mark, REPORTS, "resolved,closed")
    assert pins["limit"] == "500" and recent["limit"] == "200"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00Z", recent["updated_after"])
    shown = sum(len(_api(phone, REPORTS, q)["features"]) for q in (pins, recent))
    assert shown > 0
    phone.wait_for_function(
        f"document.querySelectorAll('#map-list > li').length === {shown}", timeout=15000)
    view = phone.evaluate(VIEW)
    assert view["open"] == [] and view["fixed"] == []
    assert view["reportMarkers"] > 0, view  # single reports among the pins
    assert view["summary"] == (f"Liste: {shown} Meldungen in diesem Kartenausschnitt"
                               if shown != 1 else "Liste: 1 Meldung in diesem Kartenausschnitt")
    screenshot(phone, "de-8-map-reports")

    # The list still opens a report.
    phone.click("#map-list-summary")
    phone.click("#map-list > li:first-child button.map-report")
    phone.wait_for_selector("#report-detail", state="visible", timeout=10000)
    assert errors == []


def test_clusters_speak_english_and_a_failed_load_is_announced(
    phone: Any, seeded: LiveServer,
) -> None:
    phone.goto("/map")
    phone.wait_for_selector("#public-map .report-cluster-open", timeout=15000)
    phone.select_option("#lang-switch", "en")
    phone.wait_for_function(
        "[...document.querySelectorAll('#public-map .report-cluster-open')]"
        ".some((el) => / open reports?$/.test(el.title))", timeout=15000)
    phone.wait_for_function(
        "/ open reports? in this map view/.test("
        "document.querySelector('#map-list-summary').textContent)", timeout=15000)

    # The server fails (routed for the whole context: the service worker fetches too): the
    # error is announced, the last view stays.
    def refuse(route: Any) -> None:
        route.fulfill(status=503, content_type="application/json",
                      body='{"error": {"code": "unavailable", "message": "down"}}')

    phone.context.route(re.compile(r".*/api/v1/reports/clusters\?.*"), refuse)
    phone.click("#public-map .leaflet-control-zoom-out")
    phone.wait_for_function(
        "document.querySelector('#status-message').textContent"
        ".includes('The reports could not be loaded.')", timeout=15000)
    assert phone.locator("#public-map .report-cluster-open").count() > 0


"""Time to interactive of /crew, /mine and /analyst on the demo data (issue 21.9).

"Usable" is the marker each page sets when its main content is drawn (`markReady` in
pwa/app/dom.js: `data-ready` on <html> and the performance mark `mm-ready:<page>`):
/crew when the queue's list items and map markers are drawn, /mine when every tracked report
shows its current status from the server, /analyst when the totals, the figures and the map
of the whole selection are drawn. The time is the mark's startTime, i.e. from navigation
start (performance.timeOrigin).

Measured as a returning user: the page was opened before, so the service worker controls it
and serves the app shell from its precache (a warm cache); API answers come from the server.
The median of a few loads is taken (one slow load on the shared 2-core machine should not
decide). 3,000 demo reports are seeded once for the module (as scripts/run does), SpatiaLite
only: this measures the browser side.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.services.seeding import seed_reports
from backend.services.staff.users import create_user
from tests.pwa.conftest import (
    STAFF_PASSWORD,
    LiveServer,
    running_server,
    screenshot,
    server_session,
    wait_for_service_worker,
)
from tests.pwa.test_service_worker_precache import IMPORT

SEEDED = 3000
LOADS = 5
# The goal is under 1 s (issue 21.9); the medians are printed (and were 0.3-0.8 s on this
# machine kind). The assertion guards against the 3 s the issue found, with room for a loaded
# CI machine: a timed test must not fail on load (figures come from measurements, not tests).
GOAL_S = 1.0
BUDGET_S = 2.0
DESKTOP = {"width": 1280, "height": 900}
PWA = Path(__file__).resolve().parents[2] / "pwa"
PRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)">')


@pytest.fixture(scope="module")
def demo_server(spatialite_template: Path, redis_server: Any,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The product on loopback over a SpatiaLite copy with the demo reports and accounts."""
    import shutil

    import redis

    workdir = tmp_path_factory.mktemp("tti")
    path = workdir / "db.sqlite"
    shutil.copyfile(spatialite_template, path)
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    with running_server(f"sqlite:///{path}", workdir, redis_server.url) as server:
        for session in server_session(server):
            seed_reports(session, SEEDED)
            create_user(session, username="ada", password=STAFF_PASSWORD, role="analyst",
                        departments=[], display_name="Ada")
            create_user(session, username="carl", password=STAFF_PASSWORD, role="crew",
                        departments=["bezirksinspektion-mitte"], display_name="Carl")
        yield server


def _ready_after(page: Any, path: str, name: str) -> float:
    """Open `path` and return seconds from navigation start until the page marks `name` ready."""
    page.goto(path)
    page.wait_for_selector(f"html[data-ready='{name}']", state="attached", timeout=30000)
    return page.evaluate(
        f"performance.getEntriesByName('mm-ready:{name}')[0].startTime") / 1000


def _print_waterfall(page: Any) -> None:
    """With MM_TTI_WATERFALL=1: the last load's requests (start and end in ms)."""
    if not os.environ.get("MM_TTI_WATERFALL"):
        return
    for start, end, url in page.evaluate(
            "performance.getEntriesByType('resource').map("
            "e => [Math.round(e.startTime), Math.round(e.responseEnd), e.name])"):
        print(f"  {start:5d} {end:5d}  {url.split('/', 3)[-1]}")


def _measure(page: Any, path: str, name: str) -> float:
    """Median time to interactive of `path` over several loads with a warm cache."""
    first = _ready_after(page, path, name)  # the first visit fills the caches
    print(f"\nfirst visit {path} (empty HTTP cache, no service worker yet): {first:.3f} s")
    _print_waterfall(page)
    wait_for_service_worker(page)
    times = [_ready_after(page, path, name) for _ in range(LOADS)]
    median = statistics.median(times)
    _print_waterfall(page)
    print(f"\ntime to interactive {path}: median {median:.3f} s "
          f"(loads: {', '.join(f'{t:.3f}' for t in times)}; goal {GOAL_S:.1f} s"
          f"{'' if median < GOAL_S else ' MISSED'})")
    return median


def _log_in(page: Any, username: str) -> None:
    """A session cookie for the page's context, without loading any page (the cache stays cold)."""
    answer = page.request.post("/api/v1/auth/login", data=json.dumps(
        {"username": username, "password": STAFF_PASSWORD}),
        headers={"Content-Type": "application/json"})
    assert answer.ok, answer.text()


def _context(browser: Any, server: LiveServer) -> Any:
    return browser.new_context(viewport=DESKTOP, locale="de-DE", base_url=server.url,
                               bypass_csp=True,  # see test_content_security_policy.py
                               geolocation={"latitude": 48.1374, "longitude": 11.5755},
                               permissions=["geolocation"])


def test_crew_is_usable_quickly(browser: Any, demo_server: LiveServer) -> None:
    context = _context(browser, demo_server)
    page = context.new_page()
    _log_in(page, "carl")
    median = _measure(page, "/crew", "crew")
    assert page.locator("#crew-list li").count() > 0
    assert page.locator("#crew-map .crew-marker, #crew-map .crew-cluster").count() > 0
    screenshot(page, "tti-crew")
    context.close()
    assert median < BUDGET_S, f"/crew usable after {median:.2f} s"


def test_analyst_is_usable_quickly(browser: Any, demo_server: LiveServer) -> None:
    context = _context(browser, demo_server)
    page = context.new_page()
    _log_in(page, "ada")
    median = _measure(page, "/analyst", "analyst")
    assert page.text_content("#analyst-total-reports").strip()
    assert page.text_content("#analyst-map-summary").strip()
    screenshot(page, "tti-analyst")
    context.close()
    assert median < BUDGET_S, f"/analyst usable after {median:.2f} s"


def test_my_reports_are_usable_quickly(browser: Any, demo_server: LiveServer) -> None:
    context = _context(browser, demo_server)
    page = context.new_page()
    ids = []
    for n in range(4):
        created = page.request.post(f"{demo_server.url}/api/v1/reports", data=json.dumps({
            "category": "ampel-ausfall", "lat": 48.1374 + n / 1000, "lon": 11.5755,
            "description": f"Die Ampel Nr. {n} ist dunkel."}),
            headers={"Content-Type": "application/json"}).json()
        ids.append(created["id"])
        page.goto(f"/track/{created['tracking_token']}")
        page.wait_for_function("location.pathname === '/mine'", timeout=10000)
    median = _measure(page, "/mine", "mine")
    for report in ids:
        assert page.locator(f"li.my-report[data-id='{report}'] .badge").count() == 1
    screenshot(page, "tti-mine")
    context.close()
    assert median < BUDGET_S, f"/mine usable after {median:.2f} s"


def _module_graph(entry: str) -> set[str]:
    """Every module reachable by static imports from `entry` (a path under /app/)."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        text = (PWA / module.lstrip("/")).read_text(encoding="utf-8")
        todo += [posixpath.normpath(posixpath.join(posixpath.dirname(module), found))
                 for found in IMPORT.findall(text)]
    return seen


@pytest.mark.parametrize(("page", "entry"), [("staff.html", "/app/staff/main.js"),
                                             ("index.html", "/app/main.js")])
def test_every_module_is_preloaded_so_imports_do_not_load_level_by_level(
        page: str, entry: str) -> None:
    preloaded = set(PRELOAD.findall((PWA / page).read_text(encoding="utf-8")))
    assert preloaded == _module_graph(entry) - {entry}

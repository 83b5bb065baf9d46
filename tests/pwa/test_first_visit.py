"""A citizen's first visit: every byte the browser fetches (the page and the service worker's
precache) stays within the goal, and the citizen app then works offline; the staff app and
the other language are kept only once used (issue 22.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.services.staff.users import create_user
from tests.pwa.conftest import PHONE, STAFF_PASSWORD, LiveServer, server_session, staff_login
from tests.pwa.waiting import wait_until_async
from tests.pwa.wire import ServerTally, WireTally, wait_for_installed_worker

GOAL = 150 * 1024  # gzip bytes a citizen's first visit may cost (README)


@pytest.fixture
def fresh(browser: Any, live_server: LiveServer) -> Iterator[tuple[Any, WireTally]]:
    """A new phone profile (empty HTTP cache, no service worker), its requests counted."""
    context = browser.new_context(
        bypass_csp=True, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
        locale="de-DE", geolocation={"latitude": 48.1374, "longitude": 11.5755},
        permissions=["geolocation"], base_url=live_server.url)
    wire = WireTally().attach(context)
    yield context, wire
    context.close()


def _kept(page: Any) -> list[str]:
    """The paths the service worker keeps in its shell cache."""
    return page.evaluate("""async () => {
        const name = (await caches.keys()).find((n) => n.startsWith('mm-shell-'));
        const keys = name ? await (await caches.open(name)).keys() : [];
        return keys.map((r) => new URL(r.url).pathname);
      }""")


def test_first_visit_stays_within_150_kb_and_the_app_then_works_offline(
    fresh: tuple[Any, WireTally], live_server: LiveServer,
) -> None:
    context, wire = fresh
    server = ServerTally.install(live_server.app)
    page = context.new_page()
    page.goto("/report")
    page.wait_for_selector("#group-schild", state="attached")
    wait_for_installed_worker(page)
    wire.settle(page)

    # The worker's own fetches are counted: its script and the precache of the map pin's
    # images, which the page never loaded.
    worker_paths = {f.url.removeprefix(live_server.url) for f in wire.fetched
                    if f.worker and f.body + f.headers > 0}
    assert {"/sw.js", "/vendor/leaflet/images/marker-icon.png"} <= worker_paths, worker_paths
    page_bytes = wire.total(worker=False)
    bodies = sum(f.body for f in wire.fetched)
    print(f"first visit: page {page_bytes / 1024:.1f} KB ({wire.count(worker=False)} requests), "
          f"service worker {(server.total() - page_bytes) / 1024:.1f} KB "
          f"({wire.count(worker=True)} requests seen); the server sent "
          f"{server.total() / 1024:.1f} KB, bodies {server.bodies() / 1024:.1f} KB, "
          f"in {len(server.sent)} responses")
    # The server's tally also has the worker's script and imports (Chromium calls them cache
    # hits); the browser's is the cross-check. Bodies: gzip as served; HTTP/1.1 headers of
    # this server (≈ 0.8 KB each) are not what the goal is about (bench/pwa.py prints both).
    assert bodies <= server.bodies() <= GOAL
    kept = _kept(page)
    assert "/app/report.js" in kept and "/app/i18n/de.json" in kept
    assert not [p for p in kept if p.startswith("/app/staff/") or p in (
        "/login", "/app/i18n/en.json", "/app/i18n/staff-de.json", "/vendor/heat/leaflet-heat.js")]

    context.set_offline(True)
    for path in ("/report", "/map", "/mine"):
        page.goto(path)
        page.wait_for_function("document.documentElement.lang === 'de'")
    page.goto("/report")
    page.wait_for_selector("#group-schild", state="attached")
    assert page.text_content("#report-title").strip() not in ("", "report.title")
    page.check("#group-schild", force=True)
    page.wait_for_selector("#fs-category", state="visible")


def test_english_chosen_once_works_offline(
    fresh: tuple[Any, WireTally], live_server: LiveServer,
) -> None:
    context, _ = fresh
    page = context.new_page()
    page.goto("/report")
    page.wait_for_selector("#group-schild", state="attached")
    wait_for_installed_worker(page)
    german = page.text_content("#report-title")
    page.select_option("#lang-switch", "en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    english = page.text_content("#report-title")
    assert english != german
    wait_until_async(page, """async () => {
        const name = (await caches.keys()).find((n) => n.startsWith('mm-shell-'));
        return Boolean(name && await (await caches.open(name)).match('/app/i18n/en.json'));
      }""")
    context.set_offline(True)
    page.reload()
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.wait_for_function(f"document.querySelector('#report-title').textContent === {english!r}")


def test_the_staff_app_opens_offline_after_one_login_without_costing_citizens(
    fresh: tuple[Any, WireTally], live_server: LiveServer,
) -> None:
    for session in server_session(live_server):
        create_user(session, username="mitte-crew", password=STAFF_PASSWORD, role="crew",
                    departments=["bezirksinspektion-mitte"], display_name="Mitte Crew")
    context, wire = fresh
    page = context.new_page()
    staff_login(page, "mitte-crew", expect="/crew")
    wait_for_installed_worker(page)
    # Logged in, the staff app asked the worker to keep what it loaded: no online reload needed.
    wait_until_async(page, """async () => {
        const name = (await caches.keys()).find((n) => n.startsWith('mm-shell-'));
        if (!name) return false;
        const cache = await caches.open(name);
        const kept = await Promise.all(['/login', '/app/staff/crew.js', '/app/i18n/staff-de.json',
          '/vendor/heat/leaflet-heat.js'].map((path) => cache.match(path)));
        return kept.every(Boolean);
      }""", timeout_ms=15000)
    wire.settle(page)
    context.set_offline(True)
    page.goto("/crew")
    page.wait_for_selector("#offline-status", state="visible", timeout=10000)
    page.wait_for_function("document.title.length > 0 && !document.title.includes('staff.')")

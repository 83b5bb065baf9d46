"""Browser tests: the real app served on loopback, driven by Playwright in Debian's Chromium.

Playwright's own browser download is never used (this machine reaches no CDN): the tests
launch `/usr/bin/chromium` through `executable_path`. Screenshots of each step are written
to `test-artifacts/screenshots/` (phone-sized viewport).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from backend.app import create_app
from backend.db.engine import make_engine
from backend.settings import Settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 412, "height": 915}
# The session fixture `browser` (Debian's Chromium) is in tests/conftest.py: tests/system
# drives the browser too, and one process holds one Playwright.


class LiveServer:
    """The Flask app in a thread on a loopback port (by default a free one)."""

    def __init__(self, settings: Settings, port: int = 0) -> None:
        self.app = create_app(settings)
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(database_url: str, tmp_path: Path, redis_url: str) -> Iterator[LiveServer]:
    """The product on loopback, with its own base URL."""
    with running_server(database_url, tmp_path, redis_url) as server:
        yield server


@pytest.fixture
def phone(browser: object, live_server: LiveServer, request: pytest.FixtureRequest
          ) -> Iterator[object]:
    """A phone-sized page at Marienplatz, German, with geolocation allowed."""
    context = browser.new_context(  # type: ignore[attr-defined]
        # Playwright's wait_for_function evaluates strings; the app's own CSP compliance is
        # checked without this in test_content_security_policy.py.
        bypass_csp=True,
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
        locale="de-DE", geolocation={"latitude": 48.1374, "longitude": 11.5755},
        permissions=["geolocation"], base_url=live_server.url,
    )
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: object, name: str) -> Path:
    """Write a screenshot artifact and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


@contextmanager
def running_server(database_url: str, tmp_path: Path, redis_url: str,
                   **overrides: object) -> Iterator[LiveServer]:
    """The product on a free loopback port with settings overrides, stopped afterwards."""
    from backend.extensions import db
    from tests.conftest import base_settings

    probe = make_server("127.0.0.1", 0, lambda e, s: [])
    port = probe.server_port
    probe.server_close()
    settings = base_settings(database_url, tmp_path, redis_url=redis_url,
                             base_url=f"http://127.0.0.1:{port}", **overrides)
    server = LiveServer(settings, port)  # the port base_url names: links and photo URLs work
    with server:
        yield server
    with server.app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def push_live_server(database_url: str, tmp_path: Path, redis_url: str
                     ) -> Iterator[LiveServer]:
    """Like `live_server`, but its push sender accepts the loopback push service (tests/peers)."""
    with running_server(database_url, tmp_path, redis_url, push_allow_insecure_endpoints=True,
                        vapid_subject="mailto:ops@mm.test") as server:
        yield server


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
STAFF_PASSWORD = "correct horse battery staple"


def assert_accessible(page: object, name: str) -> None:
    """axe-core (from npm) finds no serious or critical violation on the page."""
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    result = page.evaluate(  # type: ignore[attr-defined]
        "axe.run(document, {resultTypes: ['violations']})")
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"]
           if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{name}: {bad}"


def staff_login(page: object, username: str, *, expect: str,
                password: str = STAFF_PASSWORD) -> None:
    """Log in through /login and wait for the page the role lands on."""
    page.goto("/login")  # type: ignore[attr-defined]
    page.wait_for_selector("#login-form")  # type: ignore[attr-defined]
    page.fill("#username", username)  # type: ignore[attr-defined]
    page.fill("#password", password)  # type: ignore[attr-defined]
    page.click("#login-submit")  # type: ignore[attr-defined]
    page.wait_for_url(f"**{expect}", timeout=10000)  # type: ignore[attr-defined]


def dispatch_sync(context: Any, origin: str, tag: str) -> None:
    """Fire a Background Sync event the way Chromium does when connectivity returns.

    Headless Chromium does not watch the emulated network for Background Sync, so the test
    asks the browser (DevTools protocol, the same call as DevTools' "Sync" button) to dispatch
    it to the registered worker, from a blank tab: the app itself is closed.
    """
    blank = context.new_page()
    cdp = context.new_cdp_session(blank)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not any(r["scopeURL"].startswith(origin) for r in registrations):
        assert time.monotonic() < deadline, "no service worker registration"
        blank.wait_for_timeout(100)
    registration = next(r for r in registrations if r["scopeURL"].startswith(origin))
    cdp.send("ServiceWorker.dispatchSyncEvent", {
        "origin": origin, "registrationId": registration["registrationId"],
        "tag": tag, "lastChance": False})
    cdp.detach()
    blank.close()


def server_session(server: LiveServer) -> Iterator[Session]:
    """A database session on the live server's database (use it as `for s in …`)."""
    engine = make_engine(server.app.extensions["mm_settings"].database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def wait_for_service_worker(page: Any) -> None:
    """Until the app's service worker is active and controls the page."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15000)


def settle_outbox(page: Any) -> None:
    """Prove that nothing is left to send and nothing is in flight: run the app's own retry
    path once more (outbox.js flush(), which waits for every other pass of the page or the
    service worker under the same Web Lock) and check it found nothing to send. After this,
    the server's count is final: a duplicate would have had to come from that pass."""
    found = page.evaluate("""import('/app/outbox.js').then(async (outbox) => {
        const outcomes = await outbox.flush();
        return { resent: outcomes.length, left: await outbox.count() };
    })""")
    assert found == {"resent": 0, "left": 0}, found


def settle_crew_actions(page: Any) -> None:
    """As settle_outbox, for the crew's queued actions (actionqueue.js, per logged-in user)."""
    found = page.evaluate("""import('/app/staff/actionqueue.js').then(async (queue) => {
        const outcomes = await queue.flushForSession();
        const me = await (await fetch('/api/v1/auth/me')).json();
        return { resent: outcomes.length, left: (await queue.waiting(me.user.username)).length };
    })""")
    assert found == {"resent": 0, "left": 0}, found

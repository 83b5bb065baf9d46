"""What a citizen sees on the map: without any tile server (the default, no third party) the
city's district outlines, names and boundary; with a city's own tile server its tiles, kept by
the service worker for offline use. Screenshots in test-artifacts/screenshots/."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.pwa.conftest import LiveServer, running_server, screenshot, wait_for_service_worker
from tests.pwa.waiting import wait_until_async

# Layout and tiles do not depend on the database: one backend is enough.
pytestmark = pytest.mark.parametrize("backend", ["spatialite"], indirect=True)


def _tile_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 220, 240)).save(out, format="PNG")
    return out.getvalue()


class TileServer:
    """A city's own tile server: z/x/y PNGs with CORS, counting what it served."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        tile, owner = _tile_png(), self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                owner.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(tile)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def tiles() -> Iterator[TileServer]:
    server = TileServer()
    yield server
    server.stop()


def _page(browser: Any, server: LiveServer) -> Any:
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="de-DE", base_url=server.url)
    return context.new_page()


def test_without_tiles_the_map_shows_the_districts_named_and_the_city_boundary(
    browser: Any, live_server: LiveServer,
) -> None:
    page = _page(browser, live_server)
    try:
        page.goto("/map")
        # 25 districts and the city boundary (before: a grey grid and nothing else)
        page.wait_for_selector("#public-map[data-outlines='26']", timeout=15000)
        shapes = page.eval_on_selector_all(".leaflet-mm-outlines-pane path", "els => els.length")
        assert shapes >= 26
        page.wait_for_selector(".district-label >> text=Altstadt-Lehel", timeout=10000)
        labels = page.eval_on_selector_all(".district-label", "els => els.length")
        assert labels == 25
        screenshot(page, "map-without-tiles-outlines")
        page.goto("/report")  # the report form's map too
        page.wait_for_selector("#report-map[data-outlines='26']", timeout=15000)
        screenshot(page, "report-map-without-tiles")
    finally:
        page.context.close()


def test_a_citys_own_tile_server_is_used_and_its_tiles_stay_for_offline_use(
    browser: Any, database_url: str, tmp_path: Path, redis_url: str, tiles: TileServer,
) -> None:
    with running_server(database_url, tmp_path, redis_url,
                        tile_url=tiles.url + "/{z}/{x}/{y}.png",
                        tile_attribution="© Landeshauptstadt München", tile_cors=True,
                        ) as server:
        page = _page(browser, server)
        try:
            page.goto("/map")
            wait_for_service_worker(page)
            page.reload()  # now the worker sees the tile requests
            page.wait_for_selector("#public-map img.leaflet-tile-loaded", timeout=15000)
            assert tiles.requests and all(p.endswith(".png") for p in tiles.requests)
            assert "Landeshauptstadt" in page.text_content(".leaflet-control-attribution")
            assert page.query_selector("#public-map.no-tiles") is None
            wait_until_async(page, "async () => (await (await caches.open('mm-tiles')).keys())"
                                   ".length > 0")
            kept = page.evaluate("caches.open('mm-tiles').then((c) => c.keys())"
                                 ".then((k) => k.length)")
            screenshot(page, "map-own-tile-server")
            # Offline, and the tile server gone too: the tiles seen come from the cache.
            tiles.stop()
            page.context.set_offline(True)
            seen = len(tiles.requests)
            page.reload()
            page.wait_for_selector("#public-map img.leaflet-tile-loaded", timeout=15000)
            assert len(tiles.requests) == seen and kept <= 400
        finally:
            page.context.close()


def test_the_federal_basemap_is_a_configuration(app_with: Any) -> None:
    """basemap.de (BKG, CC BY 4.0) as the tile service: the app hands it to the maps with its
    attribution, and the content security policy lets those images, and only those, in."""
    template = ("https://sgx.geodatenzentrum.de/wmts_basemapde/tile/1.0.0/"
                "de_basemapde_web_raster_farbe/default/GLOBAL_WEBMERCATOR/{z}/{y}/{x}.png")
    app, _ = app_with(tile_url=template, tile_attribution="© basemap.de / BKG (CC BY 4.0)")
    client = app.test_client()
    config = client.get("/api/v1/config").get_json()["map"]
    assert config["tile_url"] == template
    assert config["tile_attribution"] == "© basemap.de / BKG (CC BY 4.0)"
    policy = client.get("/").headers["Content-Security-Policy"]
    images = next(p for p in policy.split("; ") if p.startswith("img-src"))
    assert "https://sgx.geodatenzentrum.de" in images
    connect = next(p for p in policy.split("; ") if p.startswith("connect-src"))
    assert "geodatenzentrum" not in connect  # images only: no script talks to it

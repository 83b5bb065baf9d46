"""The PWA's files are served by us: shell, manifest, service worker, npm-installed Leaflet."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

APP_ROUTES = ["/", "/report", "/map", "/mine", "/reports/abc12345", "/track/some-token"]


@pytest.mark.parametrize("route", APP_ROUTES)
def test_every_app_route_answers_with_the_shell(client: Any, route: str) -> None:
    response = client.get(route)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b'rel="manifest"' in response.data
    assert response.headers["Cache-Control"] == "no-cache"
    secret_url = route.startswith("/track/")
    assert (response.headers["Referrer-Policy"] == "no-referrer") is secret_url


def test_the_shell_loads_nothing_from_another_host(client: Any) -> None:
    html = client.get("/").get_data(as_text=True)
    for attribute in ('src="http', "src='http", 'href="http', "href='http", "//cdn", "unpkg"):
        assert attribute not in html


def test_leaflet_comes_from_npm_through_us_gzip_compressed(client: Any) -> None:
    response = client.get("/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"Leaflet" in gzip.decompress(response.data)[:2000]
    etag = response.headers["ETag"]
    assert client.get("/vendor/leaflet/leaflet.js",
                      headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("path", [
    "/vendor/leaflet/package.json", "/vendor/leaflet/../../setup.cfg", "/vendor/other/x.js",
    "/app/../setup.cfg", "/app/%2e%2e/setup.cfg",
])
def test_only_listed_files_are_served(client: Any, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_service_worker_controls_the_whole_app(client: Any) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"


def test_the_manifest_makes_the_app_installable(client: Any) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["start_url"] and manifest["display"] in ("standalone", "fullscreen")
    assert manifest["name"] and manifest["short_name"]
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_config_tells_the_app_its_city_and_limits(client: Any) -> None:
    config = client.get("/api/v1/config").get_json()
    assert config["city"]["name"] == "München"
    assert config["map"]["center"] == [48.1374, 11.5755]
    assert "dl-de/by-2-0" in config["map"]["data_attribution"]
    assert config["limits"]["photos"] == 3
    assert len(config["push_public_key"]) == 87


def test_districts_come_with_a_point_inside_each(client: Any) -> None:
    body = client.get("/api/v1/districts").get_json()
    assert len(body["districts"]) == 25
    first = body["districts"][0]
    assert first["number"] == "01" and first["name"] == "Altstadt-Lehel"
    report = client.post("/api/v1/reports", json={
        "category": "schild-fehlt", "lat": first["point"]["lat"], "lon": first["point"]["lon"],
        "description": "Schild fehlt", "address": "Marienplatz 1", "location_source": "district",
    }).get_json()
    assert report["district"]["number"] == "01"

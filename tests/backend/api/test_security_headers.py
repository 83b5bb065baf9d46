"""Security headers on pages, the API and errors; HSTS only outside plain-http development."""

from __future__ import annotations

from typing import Any


def test_every_kind_of_answer_carries_the_headers(client: Any) -> None:
    for path in ("/", "/crew", "/api/v1/categories", "/api/v1/reports/nope", "/api/docs",
                 "/app/main.js", "/sw.js"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split(
            "script-src")[1].split(";")[0], path
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        policy = response.headers["Permissions-Policy"]
        assert "geolocation=(self)" in policy and "camera=(self)" in policy
        assert "Strict-Transport-Security" not in response.headers  # http://mm.test


def test_hsts_and_the_tile_server_outside_development(app_with: Any) -> None:
    app, _ = app_with(base_url="https://maengel.example.org",
                      tile_url="https://tiles.example.org/{z}/{x}/{y}.png")
    response = app.test_client().get("/")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "img-src 'self' data: blob: https://tiles.example.org" in response.headers[
        "Content-Security-Policy"]


def test_the_apps_have_no_inline_script() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    for page in [*root.glob("pwa/*.html"), *root.glob("backend/templates/*.html")]:
        html = page.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, (page, tag)
        assert not re.search(r"\son[a-z]+=", html), page  # no inline event handlers

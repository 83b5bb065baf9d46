"""Security headers on every response: a Content-Security-Policy without inline script,
HSTS outside plain-http development, no MIME sniffing, a strict referrer policy, and
geolocation and camera for our own origin only."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from backend.settings import Settings


def _tile_origin(settings: Settings, city_map: dict) -> str:
    template = settings.tile_url or city_map.get("tile_url", "") or ""
    parts = urlsplit(template.replace("{s}", "a"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else ""


def content_security_policy(tile_origin: str, tile_cors: bool = False) -> str:
    """Scripts only from us (no inline script, no eval); styles may be inline (Leaflet and
    the small server pages set them); images from us, data/blob URLs (photo previews) and
    the configured tile server; nothing may frame us."""
    images = " ".join(filter(None, ["'self'", "data:", "blob:", tile_origin]))
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src {images}",
        # With CORS tiles the service worker fetches them (to keep them for offline use).
        "connect-src " + " ".join(filter(None, ["'self'", tile_origin if tile_cors else ""])),
        "worker-src 'self'",
        "manifest-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def install_security_headers(app: Flask) -> None:
    """Add the headers to every response of the app."""
    settings: Settings = app.extensions["mm_settings"]
    city_map = app.extensions["mm_city_config"].city.get("map", {})
    policy = content_security_policy(
        _tile_origin(settings, city_map),
        settings.tile_cors or bool(city_map.get("tile_cors", False)))
    hsts = settings.base_url.startswith("https:")

    defaults = [
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "geolocation=(self), camera=(self), microphone=(), payment=(), "
                               "usb=(), interest-cohort=()"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if hsts:
        defaults.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    names = [(name.lower(), name, value) for name, value in defaults]

    @app.after_request
    def add_headers(response: Response) -> Response:
        # Each header unless the view set its own (one pass; Headers.setdefault scans every
        # header for each name).
        present = {key.lower() for key in response.headers.keys()}  # noqa: SIM118
        response.headers.extend([(name, value) for low, name, value in names
                                 if low not in present])
        return response

"""The citizen PWA: its shell, service worker, manifest, and the npm-installed map libraries.

Everything is served by us (no CDN: the app works offline and no visitor's address reaches a
third party), gzip-compressed when the browser accepts it, with caching that lets the
service worker decide what is fresh.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request

from backend.api.context import session, settings, snapshot
from backend.api.request_io import request_locale
from backend.errors import NotFound
from backend.services import deliveries
from backend.static_files import VENDOR_FILES

bp = Blueprint("app_shell", __name__)

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")


@lru_cache(maxsize=256)
def _load(path: str, mtime: float) -> tuple[bytes, bytes, str]:
    """A file's bytes, their gzip form and an ETag of the content (cached until it changes)."""
    data = Path(path).read_bytes()
    etag = hashlib.sha256(data).hexdigest()[:32]
    return data, gzip.compress(data, compresslevel=9, mtime=0), etag


def _serve(path: Path, *, cache: str) -> Response:
    if not path.is_file():
        raise NotFound("No such file.")
    data, packed, etag = _load(str(path), path.stat().st_mtime)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    compress = "gzip" in request.headers.get("Accept-Encoding", "") and len(packed) < len(data)
    response = Response(packed if compress else data, mimetype=mimetype)
    if compress:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = cache
    # One ETag for both encodings: it names the content, whatever the transfer encoding.
    response.set_etag(etag)
    return response.make_conditional(request)


def _pwa_file(relative: str) -> Path:
    root = Path(settings().pwa_root).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise NotFound("No such file.")
    return path


@bp.get("/")
@bp.get("/report")
@bp.get("/map")
@bp.get("/mine")
@bp.get("/reports/<public_id>")
@bp.get("/track/<token>")
def shell(public_id: str | None = None, token: str | None = None) -> Response:
    """The app shell (every app route answers with it; the app routes itself)."""
    response = _serve(_pwa_file("index.html"), cache="no-cache")
    if token is not None:  # a tracking link: its URL is a secret, never a Referer
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/login")
@bp.get("/crew")
@bp.get("/crew/reports/<public_id>")
@bp.get("/dispatch")
@bp.get("/dispatch/<path:section>")
@bp.get("/analyst")
def staff_shell(public_id: str | None = None, section: str | None = None) -> Response:
    """The staff app shell (login, crew queue, dispatcher); the app routes itself."""
    return _serve(_pwa_file("staff.html"), cache="no-cache")


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, at the root so that it controls the whole app."""
    response = _serve(_pwa_file("sw.js"), cache="no-cache")
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest (installability)."""
    return _serve(_pwa_file("manifest.webmanifest"), cache="no-cache")


@bp.get("/app/<path:relative>")
def app_file(relative: str) -> Response:
    """The app's modules, styles, texts and icons (revalidated, so updates arrive)."""
    return _serve(_pwa_file(f"app/{relative}"), cache="no-cache")


@bp.get("/vendor/<name>/<path:relative>")
def vendor_file(name: str, relative: str) -> Response:
    """Leaflet and its plugins, from node_modules (pinned by package-lock.json)."""
    if name not in VENDOR_FILES or relative not in VENDOR_FILES[name][1]:
        raise NotFound("No such file.")
    base = Path(settings().vendor_root) / VENDOR_FILES[name][0]
    return _serve(base / relative, cache="public, max-age=86400")


@bp.get("/api/v1/config")
def app_config() -> Response:
    """What the app needs to know about this city and server.
    ---
    get:
      summary: City, map and limits for the citizen app
      responses:
        200:
          description: The configuration
    """
    snap = snapshot()
    cfg = settings()
    city_config = current_app.extensions["mm_city_config"]
    city = city_config.city
    return jsonify({
        "city": {"code": city.get("code"), "name": city.get("name"),
                 "demo": city.get("demo", False)},
        "locale": request_locale(),
        "locales": city.get("locales", ["de", "en"]),
        "map": {
            "center": city.get("map", {}).get("center", [48.1374, 11.5755]),
            "zoom": city.get("map", {}).get("zoom", 12),
            "tile_url": cfg.tile_url or city.get("map", {}).get("tile_url", ""),
            "tile_attribution": cfg.tile_attribution
            or city.get("map", {}).get("tile_attribution", ""),
            "tile_cors": cfg.tile_cors or bool(city.get("map", {}).get("tile_cors", False)),
            "data_attribution": city_config.districts.get("attribution", ""),
            "data_attribution_short": city_config.districts.get("attribution_short")
            or city_config.districts.get("attribution", ""),
            "bounds": list(snap.index.bounds) if snap.index else None,
        },
        "limits": {"photos": cfg.photos_per_report, "photo_max_bytes": cfg.photo_max_bytes,
                   "description_max": 4000, "nearby_radius_m": cfg.nearby_radius_m},
        "push_public_key": deliveries.vapid_public_key(session()),
    })

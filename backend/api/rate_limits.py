"""Request rate limits (Flask-Limiter on the same Redis as the job queue, shared by every web
process): report creation, photo upload, login and Open311 POST, each answering 429 with
Retry-After. When Redis is away the limits are skipped rather than refusing reports."""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from backend.api.request_io import bounded_form

limiter = Limiter(key_func=get_remote_address, headers_enabled=True, swallow_errors=True,
                  strategy="moving-window", key_prefix="mm-rl")


def api_key_or_address() -> str:
    """Open311 clients are limited per key (a city app sends for many people), others per
    address; the key itself never becomes part of a Redis key."""
    try:
        key = bounded_form().get("api_key") if request.method == "POST" else None
    except HTTPException:  # a body too large to read: the view refuses it, counted per address
        key = None
    if key:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:24]
    return get_remote_address()


def install_rate_limits(app: Flask) -> None:
    """Bind the limiter to the app's Redis and limits from the settings."""
    settings = app.extensions["mm_settings"]
    jobs = app.extensions["mm_jobs"]
    app.config.update(
        RATELIMIT_STORAGE_URI="redis://",
        RATELIMIT_STORAGE_OPTIONS={"connection_pool": jobs.connection.connection_pool},
        RATELIMIT_ENABLED=settings.rate_limits_enabled,
    )
    limiter.init_app(app)
    # Every limit is a decorator on its view (reports, photos, logins, Open311 POSTs), which
    # checks it itself; with no app-wide limits the limiter's check before every request only
    # costs time (a fifth of a small answer's).
    checks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in checks:  # noqa: SLF001
        checks.remove(limiter._check_request_limit)  # noqa: SLF001


def reports_limit() -> str:
    """The limit on report creation (per address)."""
    return current_app.extensions["mm_settings"].rate_limit_reports


def photos_limit() -> str:
    """The limit on adding photos (per address)."""
    return current_app.extensions["mm_settings"].rate_limit_photos


def login_limit() -> str:
    """The limit on login attempts (per address), next to the failure counter."""
    return current_app.extensions["mm_settings"].rate_limit_login


def open311_limit() -> str:
    """The limit on Open311 POSTs (per api_key, else per address)."""
    return current_app.extensions["mm_settings"].rate_limit_open311

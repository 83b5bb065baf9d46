"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from backend.api.context import jobs, session, storage

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up (no dependencies checked)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Database, Redis and photo storage are reachable; 503 names what is not."""
    checks: dict[str, str] = {}
    try:
        session().execute(text("SELECT 1"))
        session().rollback()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        session().rollback()
        checks["database"] = type(exc).__name__
    replica = current_app.extensions.get("mm_read_engine")
    if replica is not None:
        try:
            with replica.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["replica"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["replica"] = type(exc).__name__
    try:
        jobs().connection.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = type(exc).__name__
    try:
        storage().exists("readyz-probe")
        checks["storage"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["storage"] = type(exc).__name__
    ready = all(value == "ok" for value in checks.values())
    if not ready:
        log.warning("not ready: %s", checks)
    response = jsonify({"status": "ok" if ready else "unavailable", "checks": checks})
    response.headers["Cache-Control"] = "no-store"
    if not ready:
        response.headers["Retry-After"] = "5"
    return response, 200 if ready else 503

"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from backend.api.context import jobs, session, storage
from backend.queue import queue_figures

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up (no dependencies checked)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Database, Redis and photo storage are reachable; 503 names what is not. Also shows
    the job queues (backlog, age, workers), which do not decide readiness."""
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
    body: dict = {"status": "ok" if ready else "unavailable", "checks": checks}
    if checks["redis"] == "ok":
        body["queues"] = _queues()
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    if not ready:
        response.headers["Retry-After"] = "5"
    return response, 200 if ready else 503


def _queues() -> dict[str, dict[str, float]]:
    """Per queue: waiting jobs, the oldest one's age and serving workers. For operators, not
    for the verdict: this instance can take reports while a worker or a remote system is away
    (the work waits in the database), so neither makes it unready."""
    try:
        return {f.name: {"waiting": f.depth, "oldest_s": round(f.oldest_age_s, 1),
                         "workers": f.workers}
                for f in queue_figures(jobs().connection)}
    except Exception as exc:  # noqa: BLE001 - Redis went away between the checks
        log.warning("queue figures unavailable: %s", type(exc).__name__)
        return {}

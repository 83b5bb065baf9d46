"""/healthz says the process is up; /readyz checks database, Redis and storage."""

from __future__ import annotations

from typing import Any


def test_healthy_and_ready(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}


def test_not_ready_without_redis_names_it(app_with: Any) -> None:
    app, _ = app_with(redis_url="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.get_json()
    assert body["status"] == "unavailable" and body["checks"]["redis"] != "ok"
    assert body["checks"]["database"] == "ok"
    assert app.test_client().get("/healthz").status_code == 200

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


def test_ready_shows_the_queues_without_letting_them_decide(client: Any) -> None:
    # A report with a photo waits for a worker; none runs here. The instance can still take
    # reports (the work waits in the database), so it stays ready and says what waits.
    from tests.backend.api.helpers import MARIENPLATZ, REPORTS_URL
    from tests.shared_data import shared_data_dir

    photo = (shared_data_dir() / "photos" / "cameras" / "Canon_40D.jpg").read_bytes()
    lon, lat = MARIENPLATZ
    import io

    created = client.post(REPORTS_URL, content_type="multipart/form-data", data={
        "category": "ampel-ausfall", "lat": str(lat), "lon": str(lon),
        "description": "Ampel dunkel", "photos": [(io.BytesIO(photo), "canon.jpg")]})
    assert created.status_code == 201, created.get_data(as_text=True)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    queues = ready.get_json()["queues"]
    assert list(queues) == ["photos", "notify", "forward", "export", "housekeeping"]
    assert queues["photos"]["waiting"] == 1 and queues["photos"]["workers"] == 0
    assert queues["photos"]["oldest_s"] >= 0
    assert queues["forward"] == {"waiting": 0, "oldest_s": 0.0, "workers": 0}

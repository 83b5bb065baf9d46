"""Redis stopped during intake: reports with photos are still accepted; their photo and
notification jobs run once Redis is back (the database is the outbox); nothing is lost or
done twice."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.db.engine import make_engine
from backend.models import Notification, Photo, PhotoDerivative, Report
from backend.queue import JobQueue
from backend.services.workflow import StatusChange, change_status
from backend.workflow import Actor, Status
from tests import servers
from tests.conftest import base_settings, private_server
from tests.peers.push_service import PushServiceReceiver, make_subscription
from tests.shared_data import shared_data_dir
from workers.runner import make_worker
from workers.sweeper import dispatch, sweep


@pytest.fixture
def own_redis(tmp_path: Path) -> Any:
    server = private_server("redis", tmp_path / "redis")
    yield server
    server.stop()


def test_intake_survives_a_redis_outage_and_catches_up_exactly_once(
    own_redis: Any, database_url: str, tmp_path: Path, push_service: PushServiceReceiver,
) -> None:
    from datetime import timedelta

    settings = base_settings(database_url, tmp_path, redis_url=own_redis.url,
                             push_allow_insecure_endpoints=True,
                             vapid_subject="mailto:o@mm.test", rate_limits_enabled=True)
    app = create_app(settings)
    client = app.test_client()
    photo = (shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg").read_bytes()
    port = urlsplit(own_redis.url).port
    own_redis.stop()  # Redis is gone

    created = []
    for i in range(5):
        response = client.post("/api/v1/reports", data={
            "category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755",
            "description": f"Bericht {i}", "email": f"r{i}@example.org",
            "photos": (io.BytesIO(photo), "a.jpg")}, content_type="multipart/form-data")
        assert response.status_code == 201, response.get_data(as_text=True)
        created.append(response.get_json())
    subscription, _ = make_subscription(push_service, "phone")
    assert client.post(f"/api/v1/track/{created[0]['tracking_token']}/push-subscriptions",
                       json={"endpoint": subscription["endpoint"], "keys": {
                           "p256dh": subscription["p256dh"], "auth": subscription["auth"]}}
                       ).status_code == 201
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:  # a crew changes a status meanwhile
            change_status(session, created[0]["id"], StatusChange(
                target=Status.IN_PROGRESS, actor=Actor.STAFF, actor_name="crew"),
                JobQueue(own_redis.url))

        restarted = servers.start_redis(tmp_path / "redis", port=port)  # Redis is back
        try:
            jobs = JobQueue(restarted.url)
            # The workers' sweeper finds what the queue lost and hands it out again — twice
            # here, to show that a repeated hand-out does no work twice.
            for _ in range(2):
                sweep(engine, jobs, stale_after=timedelta(0))
                dispatch(engine, jobs)
            make_worker(settings).work(burst=True)
            with Session(engine) as session:
                assert session.scalar(select(func.count()).select_from(Report)) == 5
                statuses = list(session.scalars(select(Photo.status)))
                assert statuses == ["ready"] * 5
                derivatives = session.scalar(select(func.count()).select_from(PhotoDerivative))
                assert derivatives == 5 * 4  # display + thumb, JPEG + WebP, once each
                pushes = list(session.scalars(select(Notification.status).where(
                    Notification.channel == "push")))
                assert pushes == ["sent"]
            assert len(push_service.received("phone")) == 1
        finally:
            restarted.stop()
    finally:
        engine.dispose()

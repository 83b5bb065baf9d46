"""The Open311 client: a department's reports go to its own system, statuses come back and
reach the reporter; an unreachable system is retried, and staff see how it went."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.models import Department, Forwarding
from backend.models.base import utcnow
from backend.queue import JobQueue
from backend.services import forwarding
from backend.services.city_state import bump_config_version
from backend.settings import Settings
from tests.backend.api.staff_helpers import make_user, report_url, token_for
from tests.peers.open311_server import Open311Server
from tests.peers.push_service import PushServiceReceiver, decrypt, make_subscription
from workers.runner import make_worker

KEY = "remote-secret-key"


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> Iterator[Open311Server]:
    monkeypatch.setenv("MM_TEST_OPEN311_KEY", KEY)
    server = Open311Server(api_key=KEY).start()
    yield server
    server.stop()


def _forward_mitte_to(settings: Settings, url: str) -> None:
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            session.execute(update(Department).where(
                Department.code == "bezirksinspektion-mitte").values(open311={
                    "url": url, "api_key_env": "MM_TEST_OPEN311_KEY",
                    "service_codes": {"schild-fehlt": "SIGN_MISSING"}, "send_contact": False}))
            bump_config_version(session)
            session.commit()
    finally:
        engine.dispose()


def _report(app: Flask, push_service: PushServiceReceiver) -> tuple[str, Any, str]:
    client = app.test_client()
    created = client.post("/api/v1/reports", json={
        "category": "schild-fehlt", "lat": 48.1374, "lon": 11.5755,
        "description": "Schild fehlt", "email": "rita@example.org"}).get_json()
    subscription, private_key = make_subscription(push_service, "phone")
    assert client.post(f"/api/v1/track/{created['tracking_token']}/push-subscriptions",
                       json={"endpoint": subscription["endpoint"], "keys": {
                           "p256dh": subscription["p256dh"],
                           "auth": subscription["auth"]}}).status_code == 201
    return created["id"], private_key, subscription["auth"]


def _rows(settings: Settings) -> list[Forwarding]:
    engine = make_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            return list(session.scalars(select(Forwarding).order_by(Forwarding.id)))
    finally:
        engine.dispose()


def _session(settings: Settings) -> Any:
    return Session(make_engine(settings.database_url), expire_on_commit=False)


def test_forward_then_a_remote_close_reaches_the_reporters_phone(
    app_with: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    remote: Open311Server,
) -> None:
    app, cfg = app_with(push_allow_insecure_endpoints=True, vapid_subject="mailto:o@mm.test")
    _forward_mitte_to(cfg, remote.url)
    report_id, private_key, auth = _report(app, push_service)
    jobs = JobQueue(cfg.redis_url)
    with _session(cfg) as session:
        assert forwarding.enqueue_due(session, jobs) == 1
    make_worker(cfg).work(burst=True)  # sends it
    [row] = _rows(cfg)
    assert (row.state, row.remote_id, row.attempts) == ("sent", "R-1", 1)
    sent = remote.requests["R-1"].form
    assert sent["service_code"] == "SIGN_MISSING" and sent["api_key"] == KEY
    # where and what: the report's point and the citizen's words
    assert (float(sent["lat"]), float(sent["long"])) == pytest.approx((48.1374, 11.5755),
                                                                      abs=1e-6)
    assert "Schild fehlt" in sent["description"]
    assert "email" not in sent  # contact data stays here unless configured
    with _session(cfg) as session:  # nothing new to send: exactly once
        assert forwarding.enqueue_due(session, jobs) == 0

    remote.requests["R-1"].status = "closed"
    remote.requests["R-1"].status_notes = "Schild neu gesetzt."
    with _session(cfg) as session:
        assert forwarding.pull_updates(session, jobs) == 1
    make_worker(cfg).work(burst=True)  # delivers the push
    public = app.test_client().get(f"/api/v1/reports/{report_id}").get_json()
    assert public["status"] == "resolved"
    assert public["history"][-1]["note"] == "Schild neu gesetzt."
    messages = [decrypt(m, private_key, auth) for m in push_service.received("phone")]
    assert any(m.get("status") == "resolved" for m in messages), messages
    with _session(cfg) as session:  # pulling again changes nothing
        assert forwarding.pull_updates(session, jobs) == 0


def test_an_unreachable_system_is_retried_later_and_staff_see_why(
    app_with: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MM_TEST_OPEN311_KEY", KEY)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/open311/v2"
    app, cfg = app_with(push_allow_insecure_endpoints=True, vapid_subject="mailto:o@mm.test")
    _forward_mitte_to(cfg, closed)
    report_id, _, _ = _report(app, push_service)
    jobs = JobQueue(cfg.redis_url)
    with _session(cfg) as session:
        forwarding.enqueue_due(session, jobs)
    make_worker(cfg).work(burst=True)
    [row] = _rows(cfg)
    assert row.state == "pending" and row.attempts == 1
    assert "Connection" in row.last_error
    assert row.next_attempt_at > utcnow()
    with _session(cfg) as session:  # not due yet: not sent again at once
        assert forwarding.enqueue_due(session, jobs) == 0
    make_user(app, "anna", "crew", ("bezirksinspektion-mitte",), password=None)
    detail = app.test_client().get(report_url(report_id), headers=token_for(app, "anna"))
    [shown] = detail.get_json()["forwardings"]
    assert shown["state"] == "pending" and shown["attempts"] == 1 and shown["last_error"]
    # When the system is back, the due retry goes through.
    server = Open311Server(api_key=KEY).start()
    try:
        _forward_mitte_to(cfg, server.url)
        with _session(cfg) as session:
            session.execute(update(Forwarding).values(next_attempt_at=utcnow()))
            session.commit()
            assert forwarding.enqueue_due(session, jobs) == 1
        make_worker(cfg).work(burst=True)
        [row] = _rows(cfg)
        assert (row.state, row.attempts, row.last_error) == ("sent", 2, None)
        assert server.posts == 1
    finally:
        server.stop()

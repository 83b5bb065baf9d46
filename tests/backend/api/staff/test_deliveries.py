"""Admins see what could not be delivered, with the last error, and the open circuits; they
retry a failed item; nobody else may (crew, dispatchers, analysts: 403)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.models import Department, Forwarding, Notification
from backend.models.base import utcnow
from backend.services import deliveries, forwarding
from backend.services.city_state import bump_config_version
from backend.services.destinations import figures
from backend.services.destinations.policy import RetryPolicy
from backend.services.workflow import StatusChange, change_status
from backend.settings import Settings
from backend.workflow import Actor, Status
from tests.backend.api.helpers import create
from tests.backend.api.staff_helpers import audit_actions, make_user, token_for
from tests.peers.push_service import PushServiceReceiver, make_subscription
from tests.servers import free_port

FAILED_URL = "/api/v1/admin/deliveries/failed"
CIRCUITS_URL = "/api/v1/admin/deliveries/circuits"
ONCE = RetryPolicy(max_attempts=1, failures_to_open=1)


def _failed_forwarding_and_push(app: Flask, settings: Settings,
                                push_service: PushServiceReceiver) -> tuple[str, int, int]:
    """A report whose forwarding (dead system) and push (service answering 500) failed."""
    client = app.test_client()
    report = create(client, category="schild-fehlt")
    subscription, _ = make_subscription(push_service, "phone")
    assert client.post(f"/api/v1/track/{report['tracking_token']}/push-subscriptions", json={
        "endpoint": subscription["endpoint"], "keys": {"p256dh": subscription["p256dh"],
                                                       "auth": subscription["auth"]}},
    ).status_code == 201
    push_service.set_response("phone", 500)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            session.execute(update(Department).where(
                Department.code == "bezirksinspektion-mitte").values(
                    open311={"url": f"http://127.0.0.1:{free_port()}/open311/v2"}))
            bump_config_version(session)  # the shared PostGIS database is restored afterwards
            session.commit()
            forwarding.create_missing(session)
            forwarding_id = session.scalar(select(Forwarding.id))
            assert forwarding.send(session, forwarding_id, policy=ONCE) == "failed"
            change_status(session, report["id"], StatusChange(
                target=Status.ACKNOWLEDGED, actor=Actor.STAFF, actor_name="crew-7"), None)
            push_id = session.scalar(select(Notification.id).where(
                Notification.channel == "push"))
            channels = deliveries.Channels(
                settings.base_url, settings.secret_key, None, "mailto:ops@mm.test",
                allow_private_push=True, policy=ONCE)
            assert deliveries.deliver(session, push_id, channels) == "failed"
    finally:
        engine.dispose()
    return report["id"], forwarding_id, push_id


def test_admins_see_failed_items_and_open_circuits_and_retry_one(
    app_with: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
) -> None:
    app, cfg = app_with(push_allow_insecure_endpoints=True)
    report_id, forwarding_id, push_id = _failed_forwarding_and_push(app, cfg, push_service)
    make_user(app, "ada", "admin", password=None)
    headers = token_for(app, "ada")
    client = app.test_client()

    answer = client.get(FAILED_URL, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "private, no-cache"
    items = answer.get_json()["items"]
    assert [(i["kind"], i["id"]) for i in items] == [("push", push_id),
                                                    ("forwarding", forwarding_id)]
    push, forwarded = items
    assert push["report"] == forwarded["report"] == report_id
    assert push["destination"] == f"push:{push_service.origin}"
    assert "500" in push["last_error"] and "ConnectionError" in forwarded["last_error"]
    assert forwarded["attempts"] == push["attempts"] == 1
    assert push["failed_at"] >= forwarded["failed_at"]  # newest first, ISO 8601

    circuits = client.get(CIRCUITS_URL, headers=headers).get_json()["circuits"]
    assert {c["key"]: c["state"] for c in circuits} == {
        forwarded["destination"]: "open", push["destination"]: "open"}

    retried = client.post(f"{FAILED_URL}/forwarding/{forwarding_id}/retry", headers=headers)
    assert retried.status_code == 200
    assert (retried.get_json()["state"], retried.get_json()["attempts"]) == ("pending", 0)
    assert [i["kind"] for i in client.get(FAILED_URL, headers=headers).get_json()["items"]
            ] == ["push"]
    # Its circuit is still open: the retry waits for the probe instead of going out at once.
    engine = make_engine(cfg.database_url)
    with Session(engine) as session:
        assert forwarding.due_ids(session) == []
        later = utcnow() + timedelta(seconds=ONCE.probe_interval_s + 1)
        assert forwarding.due_ids(session, now=later) == [forwarding_id]  # as the probe
        assert figures(session) == {"failed": {"forwarding": 0, "push": 1, "email": 0},
                                    "open_circuits": sorted([forwarded["destination"],
                                                             push["destination"]])}
    engine.dispose()
    assert ("ada", "retry_delivery") in audit_actions(app)

    again = client.post(f"{FAILED_URL}/forwarding/{forwarding_id}/retry", headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    wrong_kind = client.post(f"{FAILED_URL}/email/{push_id}/retry", headers=headers)
    assert wrong_kind.status_code == 404
    assert client.post(f"{FAILED_URL}/sms/1/retry", headers=headers).status_code == 404
    assert client.post(f"{FAILED_URL}/push/{push_id}/retry", headers=headers).status_code == 200


@pytest.mark.parametrize("role", ["crew", "dispatcher", "analyst"])
def test_only_admins_see_or_retry_failed_deliveries(
    app: Flask, client: Any, role: str,
) -> None:
    make_user(app, "someone", role, ("bezirksinspektion-mitte",) if role == "crew" else (),
              password=None)
    headers = token_for(app, "someone")
    for response in (client.get(FAILED_URL, headers=headers),
                     client.get(CIRCUITS_URL, headers=headers),
                     client.post(f"{FAILED_URL}/forwarding/1/retry", headers=headers)):
        assert response.status_code == 403, response.get_json()
        assert response.get_json()["error"]["code"] == "forbidden"
    assert client.get(FAILED_URL).status_code == 401

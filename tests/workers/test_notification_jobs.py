"""Status changes reach the reporter: one decrypted push and one e-mail, even through crashes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from backend.models import DeliveryStatus, DestinationCircuit, Notification, PushSubscription
from backend.models.base import utcnow
from backend.queue import JobQueue
from backend.services import deliveries
from backend.services.workflow import StatusChange, change_status
from backend.settings import Settings
from backend.workflow import Actor, Status
from tests.peers.push_service import PushServiceReceiver, decrypt, make_subscription
from tests.peers.smtp_server import SmtpServer
from workers.runner import make_worker
from workers.sweeper import dispatch

CLOSED_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def channels_app(app_with: Callable[..., tuple[Flask, Settings]], smtp_server: SmtpServer
                 ) -> Callable[..., tuple[Flask, Settings]]:
    """An app whose e-mail goes to the test SMTP server and that accepts loopback pushes."""
    def build(**overrides: Any) -> tuple[Flask, Settings]:
        return app_with(**{"smtp_host": smtp_server.host, "smtp_port": smtp_server.port,
                           "push_allow_insecure_endpoints": True,
                           "vapid_subject": "mailto:ops@mm.test", **overrides})
    return build


def _report_with_channels(app: Flask, push_service: PushServiceReceiver, *, locale: str = "en",
                          name: str = "phone") -> tuple[str, str, Any, str]:
    """A report with an e-mail address and a push subscription, as the app would make them."""
    client = app.test_client()
    created = client.post("/api/v1/reports", json={
        "category": "ampel-ausfall", "lat": 48.1374, "lon": 11.5755,
        "description": "Ampel dunkel", "email": "rita@example.org",
    }, headers={"Accept-Language": locale}).get_json()
    subscription, private_key = make_subscription(push_service, name)
    response = client.post(f"/api/v1/track/{created['tracking_token']}/push-subscriptions",
                           json={"endpoint": subscription["endpoint"], "keys": {
                               "p256dh": subscription["p256dh"],
                               "auth": subscription["auth"]}})
    assert response.status_code == 201, response.get_json()
    return created["id"], created["tracking_token"], private_key, subscription["auth"]


def _staff(target: Status, note: str | None = None) -> StatusChange:
    return StatusChange(target=target, actor=Actor.STAFF, actor_name="crew-7", public_note=note)


def _rows(engine: Engine) -> list[Notification]:
    with Session(engine) as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_a_crew_status_change_reaches_the_reporter_once_by_push_and_once_by_mail(
    channels_app: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    smtp_server: SmtpServer, engine: Engine,
) -> None:
    app, cfg = channels_app()
    report_id, token, private_key, auth = _report_with_channels(app, push_service)
    with Session(engine) as session:
        change_status(session, report_id, _staff(Status.IN_PROGRESS, "Crew is on its way"),
                      JobQueue(cfg.redis_url))
    make_worker(cfg).work(burst=True)

    pushes = push_service.received("phone")
    assert len(pushes) == 1 and pushes[0].status == 201
    assert pushes[0].vapid is not None and pushes[0].vapid.claims["sub"] == "mailto:ops@mm.test"
    payload = decrypt(pushes[0], private_key, auth)
    assert payload["report"] == report_id and payload["status"] == "in_progress"
    assert payload["note"] == "Crew is on its way"
    assert "progress" in payload["body"].lower()  # English, the reporter's language
    assert set(payload) <= {"report", "status", "title", "body", "note"}

    mails = smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1
    mail = mails[0]
    assert mail["To"] == "rita@example.org"
    assert report_id in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    # The link opens the app's tracking page (not the JSON API), which adds the report to
    # "My reports" on whatever device the e-mail is read.
    assert f"http://mm.test/track/{token}" in text
    assert "/api/v1/track/" not in text
    assert "In progress" in text or "in progress" in text.lower()
    assert mail["List-Unsubscribe"] and mail["List-Unsubscribe-Post"]
    assert {row.status for row in _rows(engine)} == {DeliveryStatus.SENT}


def test_german_reporters_get_german_texts(
    channels_app: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    smtp_server: SmtpServer, engine: Engine,
) -> None:
    app, cfg = channels_app()
    report_id, _, private_key, auth = _report_with_channels(app, push_service, locale="de")
    with Session(engine) as session:
        change_status(session, report_id, _staff(Status.RESOLVED, "Repariert"),
                      JobQueue(cfg.redis_url))
    make_worker(cfg).work(burst=True)
    payload = decrypt(push_service.received("phone")[0], private_key, auth)
    assert "Erledigt" in payload["body"]
    mail = smtp_server.wait_for(1)[0]
    text = mail.get_body(("plain",)).get_content()
    assert "Erledigt" in text and "/fixed/yes" in text and "/fixed/no" in text


def test_a_gone_subscription_is_removed_and_not_used_again(
    channels_app: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    smtp_server: SmtpServer, engine: Engine,
) -> None:
    app, cfg = channels_app()
    report_id, *_ = _report_with_channels(app, push_service)
    push_service.set_response("phone", 410)
    with Session(engine) as session:
        change_status(session, report_id, _staff(Status.ACKNOWLEDGED), JobQueue(cfg.redis_url))
    make_worker(cfg).work(burst=True)
    with Session(engine) as session:
        assert session.scalar(select(PushSubscription.removed_at)) is not None
        push_row = session.scalar(select(Notification).where(Notification.channel == "push"))
        assert push_row.status == DeliveryStatus.DROPPED
        change_status(session, report_id, _staff(Status.IN_PROGRESS), JobQueue(cfg.redis_url))
    make_worker(cfg).work(burst=True)
    assert len(push_service.received("phone")) == 1  # nothing after the 410
    assert [r.channel for r in _rows(engine)] == ["email", "push", "email"]


def test_a_busy_push_service_is_retried_after_its_retry_after(
    channels_app: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    smtp_server: SmtpServer, engine: Engine,
) -> None:
    app, cfg = channels_app()
    report_id, _, private_key, auth = _report_with_channels(app, push_service)
    push_service.set_response("phone", 503, retry_after=60)
    with Session(engine) as session:
        change_status(session, report_id, _staff(Status.IN_PROGRESS), JobQueue(cfg.redis_url))
    make_worker(cfg).work(burst=True)
    push = next(r for r in _rows(engine) if r.channel == "push")
    assert push.status == DeliveryStatus.PENDING and push.attempts == 1
    assert "503" in (push.last_error or "")
    # Not due yet: the dispatcher leaves it alone ...
    assert dispatch(engine, JobQueue(cfg.redis_url)) == 0
    with Session(engine) as session:
        session.execute(update(Notification).where(Notification.id == push.id).values(
            next_attempt_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    # ... and hands it out once it is.
    assert dispatch(engine, JobQueue(cfg.redis_url)) == 1
    make_worker(cfg).work(burst=True)
    records = push_service.received("phone")
    assert [r.status for r in records] == [503, 201]
    assert decrypt(records[1], private_key, auth)["status"] == "in_progress"
    assert {r.status for r in _rows(engine)} == {DeliveryStatus.SENT}


def test_redis_down_at_the_change_loses_nothing_and_sends_once(
    channels_app: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    smtp_server: SmtpServer, engine: Engine,
) -> None:
    app, cfg = channels_app()
    report_id, *_ = _report_with_channels(app, push_service)
    with Session(engine) as session:
        change_status(session, report_id, _staff(Status.IN_PROGRESS), JobQueue(CLOSED_REDIS))
    assert {r.status for r in _rows(engine)} == {DeliveryStatus.PENDING}
    assert dispatch(engine, JobQueue(cfg.redis_url)) == 2
    assert dispatch(engine, JobQueue(cfg.redis_url)) == 2  # handed out twice, sent once
    make_worker(cfg).work(burst=True)
    assert len(push_service.received("phone")) == 1
    assert len(smtp_server.wait_for(1)) == 1
    assert {r.status for r in _rows(engine)} == {DeliveryStatus.SENT}


def test_a_worker_that_died_after_claiming_and_before_sending_is_recovered_once(
    channels_app: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    smtp_server: SmtpServer, engine: Engine,
) -> None:
    app, cfg = channels_app()
    report_id, *_ = _report_with_channels(app, push_service)
    with Session(engine) as session:
        change_status(session, report_id, _staff(Status.IN_PROGRESS), JobQueue(CLOSED_REDIS))
        ids = [row.id for row in _rows(engine)]
        # A worker claims both rows and dies before sending anything.
        assert all(deliveries.claim(session, i) for i in ids)
    assert dispatch(engine, JobQueue(cfg.redis_url)) == 0  # claimed rows are not handed out
    with Session(engine) as session:
        assert deliveries.recover_stale_claims(session, older_than=timedelta(0)) == 2
    assert dispatch(engine, JobQueue(cfg.redis_url)) == 2
    make_worker(cfg).work(burst=True)
    assert len(push_service.received("phone")) == 1
    assert len(smtp_server.wait_for(1)) == 1
    assert {(r.status, r.attempts) for r in _rows(engine)} == {(DeliveryStatus.SENT, 2)}


def test_a_followers_mail_carries_no_one_elses_data(
    channels_app: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    smtp_server: SmtpServer, engine: Engine,
) -> None:
    app, cfg = channels_app()
    report_id, token, *_ = _report_with_channels(app, push_service)
    follow = app.test_client().post(f"/api/v1/reports/{report_id}/followers",
                                    json={"email": "fan@example.org"})
    assert follow.status_code == 201
    with Session(engine) as session:
        change_status(session, report_id, _staff(Status.IN_PROGRESS), JobQueue(cfg.redis_url))
    make_worker(cfg).work(burst=True)
    mails = {m["To"]: m for m in smtp_server.wait_for(2)}
    fan = mails["fan@example.org"].as_string()
    assert "rita@example.org" not in fan and token not in fan
    assert f"http://mm.test/reports/{report_id}" in mails["fan@example.org"].get_body(
        ("plain",)).get_content()  # the report on the app's map


def test_one_click_unsubscribe_stops_the_mails(
    channels_app: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    smtp_server: SmtpServer, engine: Engine,
) -> None:
    app, cfg = channels_app()
    report_id, *_ = _report_with_channels(app, push_service)
    with Session(engine) as session:
        change_status(session, report_id, _staff(Status.ACKNOWLEDGED), JobQueue(cfg.redis_url))
    make_worker(cfg).work(burst=True)
    url = str(smtp_server.wait_for(1)[0]["List-Unsubscribe"]).strip().strip("<>")
    path = url.replace(cfg.base_url, "")
    client = app.test_client()
    assert client.get(path).status_code == 200  # a confirmation page; GET changes nothing
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with Session(engine) as session:
        change_status(session, report_id, _staff(Status.IN_PROGRESS), JobQueue(cfg.redis_url))
    make_worker(cfg).work(burst=True)
    assert len(smtp_server.messages) == 1
    assert client.post(path.replace(".", ".x", 1)).status_code == 404


def _time_passes(engine: Engine) -> None:
    """Probe intervals and back-offs run out (instead of waiting for them)."""
    past = utcnow() - timedelta(days=1)
    with Session(engine) as session:
        session.execute(update(DestinationCircuit).where(DestinationCircuit.state == "open")
                        .values(next_probe_at=past))
        session.execute(update(Notification).where(Notification.status == "pending")
                        .values(next_attempt_at=past))
        session.commit()


def _open_circuits(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.scalars(select(DestinationCircuit.key).where(
            DestinationCircuit.state == "open")))


def test_a_failing_push_service_opens_its_circuit_while_mails_still_go_out(
    channels_app: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    smtp_server: SmtpServer, engine: Engine, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    app, cfg = channels_app(destination_failures_to_open=2)
    names = [f"phone{i}" for i in range(4)]
    reports = [_report_with_channels(app, push_service, name=name)[0] for name in names]
    for name in names[:2]:
        push_service.set_response(name, 500)
    jobs = JobQueue(cfg.redis_url)
    with Session(engine) as session:
        for report_id in reports:
            change_status(session, report_id, _staff(Status.IN_PROGRESS), jobs)
    make_worker(cfg).work(burst=True)

    assert len(smtp_server.wait_for(4)) == 4  # e-mail does not wait for the push service
    pushes = [row for row in _rows(engine) if row.channel == "push"]
    # Two 500s opened the push service's circuit; the other two waited without a try.
    assert [(r.status, r.attempts) for r in pushes] == [("pending", 1)] * 2 + [
        ("pending", 0)] * 2
    assert sum(len(push_service.received(name)) for name in names) == 2
    assert _open_circuits(engine) == {f"push:{push_service.origin}"}
    assert dispatch(engine, jobs) == 0  # nothing until the probe is due ...
    _time_passes(engine)
    assert dispatch(engine, jobs) == 1  # ... then one probe, not four pushes
    make_worker(cfg).work(burst=True)  # the probe succeeds: the circuit closes
    assert _open_circuits(engine) == set()
    assert dispatch(engine, jobs) == 3
    make_worker(cfg).work(burst=True)
    assert {r.status for r in _rows(engine)} == {DeliveryStatus.SENT}
    assert [len(push_service.received(name)) for name in names] == [2, 2, 1, 1]
    messages = [r.getMessage() for r in caplog.records]
    assert sum("circuit open" in m for m in messages) == 1
    assert sum("recovered" in m for m in messages) == 1
    assert not any(r.exc_info for r in caplog.records)


def test_an_unexpected_error_is_recorded_and_the_last_attempt_fails_once(
    channels_app: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    smtp_server: SmtpServer, engine: Engine, caplog: pytest.LogCaptureFixture,
) -> None:
    # A VAPID subject that is no URL makes the push library raise — a misconfiguration, not
    # the push service's fault — which used to leave an rq traceback per attempt.
    app, cfg = channels_app(vapid_subject="not a contact", notification_max_attempts=2)
    report_id, *_ = _report_with_channels(app, push_service)
    jobs = JobQueue(cfg.redis_url)
    with Session(engine) as session:
        change_status(session, report_id, _staff(Status.IN_PROGRESS), jobs)
    attempted = utcnow()
    make_worker(cfg).work(burst=True)
    push = next(r for r in _rows(engine) if r.channel == "push")
    assert (push.status, push.attempts) == (DeliveryStatus.PENDING, 1)
    # Retried after a back-off with full jitter: any time from the attempt on (it may be ~0).
    assert push.last_error and push.next_attempt_at >= attempted
    _time_passes(engine)
    assert dispatch(engine, jobs) == 1
    make_worker(cfg).work(burst=True)
    push = next(r for r in _rows(engine) if r.channel == "push")
    assert (push.status, push.attempts) == (DeliveryStatus.FAILED, 2)
    assert push.failed_at is not None
    assert len(smtp_server.wait_for(1)) == 1
    failed = [r for r in caplog.records if "failed after 2 attempts" in r.getMessage()]
    assert len(failed) == 1 and not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    ("accept_language", "label", "meaning"),
    [("tr, en;q=0.5", "Giderildi", "arızanın giderildiğini"),
     ("ar-EG, en;q=0.5", "تم الإصلاح", "قد أُصلح"),
     ("uk, en;q=0.5", "Усунено", "несправність усунено"),
     ("de-x-ls, de;q=0.5", "Repariert", "Es ist jetzt repariert")],
)
def test_reporters_are_written_to_in_the_language_of_their_app(
    channels_app: Callable[..., tuple[Flask, Settings]], push_service: PushServiceReceiver,
    smtp_server: SmtpServer, engine: Engine, accept_language: str, label: str, meaning: str,
) -> None:
    # Issue 20.7: the app sends its language first and its fallback second.
    app, cfg = channels_app()
    report_id, _, private_key, auth = _report_with_channels(app, push_service,
                                                            locale=accept_language)
    with Session(engine) as session:
        change_status(session, report_id, _staff(Status.RESOLVED), JobQueue(cfg.redis_url))
    make_worker(cfg).work(burst=True)
    payload = decrypt(push_service.received("phone")[0], private_key, auth)
    assert label in payload["body"]
    mail = smtp_server.wait_for(1)[0]
    assert label in mail["Subject"]
    assert meaning in mail.get_body(("plain",)).get_content()

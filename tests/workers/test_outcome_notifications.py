"""A report closed as not the city's reaches its reporter once by push and once by mail, each
saying who is responsible instead (issue 20.6), through the real workers, push service and SMTP."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from backend.queue import JobQueue
from backend.services.workflow import StatusChange, change_status
from backend.settings import Settings
from backend.workflow import Actor, RejectReason, Status
from tests.peers.push_service import PushServiceReceiver, decrypt
from tests.peers.smtp_server import SmtpServer
from tests.workers.test_notification_jobs import _report_with_channels, channels_app  # noqa: F401
from workers.runner import make_worker


def test_not_ours_names_who_is_responsible_in_push_and_mail_once(
    channels_app: Callable[..., tuple[Flask, Settings]],  # noqa: F811
    push_service: PushServiceReceiver, smtp_server: SmtpServer, engine: Engine,
) -> None:
    app, cfg = channels_app()
    report_id, _, private_key, auth = _report_with_channels(app, push_service, locale="de")
    with Session(engine) as session:
        change_status(session, report_id, StatusChange(
            target=Status.REJECTED, actor=Actor.STAFF, actor_name="crew-7",
            public_note="Die Ampel gehört zum Bahnübergang.", reason=RejectReason.NOT_RESPONSIBLE,
            responsible={"name": "Deutsche Bahn AG", "url": "https://www.bahn.de/kontakt"}),
            JobQueue(cfg.redis_url))
    make_worker(cfg).work(burst=True)

    pushes = push_service.received("phone")
    assert len(pushes) == 1
    note = decrypt(pushes[0], private_key, auth)["note"]
    assert note == ("Die Ampel gehört zum Bahnübergang.\n"
                    "Zuständig ist: Deutsche Bahn AG – https://www.bahn.de/kontakt")
    mails = smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1
    text = mails[0].get_body(("plain",)).get_content()
    assert "Zuständig ist: Deutsche Bahn AG – https://www.bahn.de/kontakt" in text

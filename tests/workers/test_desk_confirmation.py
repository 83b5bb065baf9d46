"""A caller's e-mail given at the service desk gets the usual confirmation, with the tracking
link, in the caller's language, through the real workers and a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from backend.settings import Settings
from tests.backend.api.staff_helpers import make_user, token_for
from tests.peers.smtp_server import SmtpServer
from workers.runner import make_worker


def test_the_caller_receives_the_tracking_link_in_their_language(
    app_with: Callable[..., tuple[Flask, Settings]], smtp_server: SmtpServer,
) -> None:
    app, cfg = app_with(smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    make_user(app, "desk", "dispatcher", ("anliegenmanagement",), password=None)
    client = app.test_client()
    response = client.post("/api/v1/staff/reports", json={
        "category": "ampel-ausfall", "lat": 48.1374, "lon": 11.5755,
        "description": "Anrufer: Ampel dunkel", "email": "caller@example.org",
        "language": "en"}, headers=token_for(app, "desk"))
    assert response.status_code == 201, response.get_json()
    filed = response.get_json()
    make_worker(cfg).work(burst=True)

    mail = smtp_server.wait_for(1)[0]
    assert mail["To"] == "caller@example.org"
    assert filed["id"] in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert filed["tracking_url"] in text
    assert "received your report" in text
    assert len(smtp_server.messages) == 1

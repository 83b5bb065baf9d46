"""E-mail over a real SMTP server on loopback: headers, UTF-8 text, refusals, STARTTLS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from backend.notify.email import SmtpSettings, send_email
from backend.notify.errors import PermanentDeliveryError, TransientDeliveryError
from backend.notify.texts import status_email
from tests.peers.smtp_server import SmtpServer
from tests.servers import free_port

SENDER = "Mängelmelder München <meldungen@muenchen.example>"
TO = "anna@example.org"
TRACK = "https://meldungen.example/track/tok"
UNSUB = "https://meldungen.example/unsubscribe/abc"
MESSAGE_ID = "<notification-17@meldungen.example>"
NOTE = "Die Ampel an der Schäftlarnstraße wird übermorgen getauscht."


def _settings(server: SmtpServer, **changes: Any) -> SmtpSettings:
    plain = SmtpSettings(server.host, server.port, None, None, starttls=False, sender=SENDER)
    return replace(plain, **changes)


def _send(smtp: SmtpSettings, *, status: str = "in_progress", timeout_s: float = 5.0) -> None:
    subject, text, html = status_email("de", "k7p3xr9q", status, NOTE, TRACK, UNSUB, None)
    send_email(smtp, to=TO, subject=subject, text=text, html=html, message_id=MESSAGE_ID,
               list_unsubscribe_url=UNSUB, timeout_s=timeout_s)


def test_status_email_arrives_with_german_text_links_and_headers(
    smtp_server: SmtpServer,
) -> None:
    _send(_settings(smtp_server))

    (message,) = smtp_server.wait_for(1)
    (delivery,) = smtp_server.deliveries
    assert delivery.mail_from == "meldungen@muenchen.example"
    assert delivery.rcpt_tos == (TO,)
    assert message["Subject"] == "Ihre Meldung k7p3xr9q: In Bearbeitung"
    assert message["From"] == SENDER
    assert message["To"] == TO
    assert message["Message-ID"] == MESSAGE_ID
    assert message["List-Unsubscribe"] == f"<{UNSUB}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] is not None

    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == "utf-8"
    body = text.get_content()
    assert NOTE in body  # umlauts and ß intact
    assert "hat sich geändert: In Bearbeitung." in body
    assert TRACK in body and UNSUB in body
    assert f'href="{UNSUB}"' in html.get_content()


def test_message_travels_7bit_clean(smtp_server: SmtpServer) -> None:
    _send(_settings(smtp_server))
    smtp_server.wait_for(1)
    raw = smtp_server.deliveries[0].raw
    # Quoted-printable and RFC 2047 headers: nothing for a non-8BITMIME relay to mangle.
    assert max(raw) < 0x80
    assert b"Sch=C3=A4ftlarnstra=C3=9Fe" in raw


def test_451_for_the_recipient_is_transient_and_a_retry_gets_through(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.refuse_next_rcpts(451)
    with pytest.raises(TransientDeliveryError) as caught:
        _send(_settings(smtp_server))
    assert caught.value.status == 451
    assert "451" in caught.value.reason

    _send(_settings(smtp_server))
    (message,) = smtp_server.wait_for(1)
    assert message["Message-ID"] == MESSAGE_ID  # the same id on every attempt


def test_550_for_the_recipient_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.refuse_next_rcpts(550)
    with pytest.raises(PermanentDeliveryError) as caught:
        _send(_settings(smtp_server))
    assert caught.value.status == 550
    assert "No such user" in caught.value.reason
    assert smtp_server.deliveries == []


def test_closed_port_is_transient() -> None:
    smtp = SmtpSettings("127.0.0.1", free_port(), None, None, False, SENDER)
    with pytest.raises(TransientDeliveryError):
        _send(smtp)


def test_starttls_requested_but_not_offered_is_permanent(smtp_server: SmtpServer) -> None:
    with pytest.raises(PermanentDeliveryError, match="STARTTLS"):
        _send(_settings(smtp_server, starttls=True))
    assert smtp_server.deliveries == []


@pytest.fixture
def tls_smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A relay that insists on STARTTLS and AUTH, with a certificate this process trusts."""
    with SmtpServer(tls=True, credentials=("melder", "geheim")) as server:
        # send_email verifies certificates against the default CA store on purpose; point
        # OpenSSL's default store at the test certificate rather than weaken the client.
        assert server.ca_file is not None
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
        yield server


def test_starttls_and_login_deliver(tls_smtp_server: SmtpServer) -> None:
    _send(_settings(tls_smtp_server, starttls=True, username="melder", password="geheim"))
    (message,) = tls_smtp_server.wait_for(1)
    assert message["Message-ID"] == MESSAGE_ID


def test_wrong_password_is_permanent(tls_smtp_server: SmtpServer) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        _send(_settings(tls_smtp_server, starttls=True, username="melder", password="falsch"))
    assert caught.value.status == 535
    assert tls_smtp_server.deliveries == []


def test_message_id_must_be_an_angle_bracketed_address(smtp_server: SmtpServer) -> None:
    with pytest.raises(ValueError, match="message_id"):
        send_email(_settings(smtp_server), to=TO, subject="s", text="t", html=None,
                   message_id="notification-17", list_unsubscribe_url=UNSUB)


def test_text_only_message_has_no_html_part(smtp_server: SmtpServer) -> None:
    send_email(_settings(smtp_server), to=TO, subject="Grüße", text="Nur Text: äöü", html=None,
               message_id=MESSAGE_ID, list_unsubscribe_url=UNSUB)
    (message,) = smtp_server.wait_for(1)
    assert not message.is_multipart()
    assert message.get_content() == "Nur Text: äöü\n"
    assert message["Subject"] == "Grüße"

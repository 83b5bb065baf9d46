"""E-mail delivery: one message to one reporter over SMTP, with errors mapped for retries."""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from backend.notify.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError

_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and as whom to send: relay host/port, optional login, STARTTLS, From address."""

    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    sender: str


def send_email(
    smtp: SmtpSettings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    list_unsubscribe_url: str,
    timeout_s: float = 20.0,
) -> None:
    """Send one UTF-8 status e-mail to `to`; raise a DeliveryError subclass on failure."""
    message = build_message(
        sender=smtp.sender,
        to=to,
        subject=subject,
        text=text,
        html=html,
        message_id=message_id,
        list_unsubscribe_url=list_unsubscribe_url,
    )
    conn: smtplib.SMTP | None = None
    try:
        # The constructor connects and raises SMTPConnectError unless the greeting is 220.
        conn = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout_s)
        if smtp.starttls:
            conn.starttls(context=ssl.create_default_context())
        if smtp.username is not None:
            conn.login(smtp.username, smtp.password or "")
        conn.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise _classify(exc) from exc
    finally:
        if conn is not None:
            _quit_quietly(conn)

def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    list_unsubscribe_url: str,
) -> EmailMessage:
    """The MIME message `send_email` sends: text (plus HTML alternative) and list headers."""
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"message_id must look like <local@domain>: {message_id!r}")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    # Stable per (report, status change): a resent message carries the same id, so receiving
    # systems can drop the duplicate after a retry whose first attempt did get through.
    message["Message-ID"] = message_id
    # RFC 8058 one-click unsubscribe: mail clients offer the button and POST to the URL.
    message["List-Unsubscribe"] = f"<{list_unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # RFC 3834: tells auto-responders (vacation replies) not to answer.
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps the message 7-bit clean, so umlauts survive relays that do not
    # announce 8BITMIME, while the text stays readable in the raw source.
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def _classify(exc: Exception) -> DeliveryError:
    """Map an smtplib/socket error to a transient or permanent delivery error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # One recipient per message, so this holds exactly one (code, message) pair.
        code, text = next(iter(exc.recipients.values()))
        return _by_code(code, f"recipient refused: {code} {_decode(text)}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # E.g. STARTTLS configured but not offered: never fall back to sending in plain text.
        return PermanentDeliveryError(f"SMTP server lacks a required extension: {exc}")
    if isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPServerDisconnected):
        return TransientDeliveryError(f"SMTP connection failed: {exc}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, f"SMTP server answered {exc.smtp_code} "
                                      f"{_decode(exc.smtp_error)}")
    # Socket errors, timeouts, TLS failures and anything smtplib does not classify.
    return TransientDeliveryError(f"SMTP delivery failed: {exc!r}")


def _by_code(code: int, reason: str) -> DeliveryError:
    # RFC 5321 §4.2.1: 4yz is a transient negative reply, 5yz a permanent one.
    if 400 <= code < 500:
        return TransientDeliveryError(reason, status=code)
    if 500 <= code < 600:
        return PermanentDeliveryError(reason, status=code)
    return TransientDeliveryError(reason, status=code)


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def _quit_quietly(conn: smtplib.SMTP) -> None:
    """Say QUIT, but never let a failing goodbye turn an accepted message into an error."""
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()

"""Who hears about a report: its reporter and its followers, and their channels."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.errors import InvalidInput, NotFound
from backend.models import PushSubscription, Recipient, Report
from backend.models.base import utcnow
from backend.notify.addresses import private_address
from backend.tokens import hash_token, signed_value

REPORTER, FOLLOWER = "reporter", "follower"


def reporter_recipient(session: Session, report: Report) -> Recipient:
    """The reporter's recipient row, created on first need from the report's own fields."""
    recipient = session.scalar(select(Recipient).where(
        Recipient.report_id == report.id, Recipient.role == REPORTER))
    if recipient is None:
        recipient = Recipient(report_id=report.id, role=REPORTER, locale=report.reporter_locale,
                              email=report.reporter_email, created_at=utcnow())
        session.add(recipient)
        session.flush()
    return recipient


def report_for_token(session: Session, token: str) -> Report:
    """The report a tracking token opens."""
    report = session.scalar(select(Report).where(Report.tracking_token_hash == hash_token(token)))
    if report is None:
        raise NotFound("No report with this tracking token.", {"token": ["not found"]})
    return report


def check_push_endpoint(endpoint: str, allow_insecure: bool) -> None:
    """A push endpoint must be an https URL of a public push service (we POST to it); its
    name must not resolve into a private network (checked again at every send)."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    local = host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")
    if allow_insecure and parts.scheme in ("http", "https") and host:
        return
    if (parts.scheme != "https" or not host or local or _is_ip_literal(host)
            or private_address(host, parts.port or 443)):
        raise InvalidInput("The push endpoint must be an https URL of a push service.",
                           {"endpoint": ["must be https and a public host name"]})


def _is_ip_literal(host: str) -> bool:
    """Any way of writing an IP address, including the numeric forms the resolver accepts
    (`2130706433`, `0x7f000001`, `127.1`), which `ipaddress` alone does not recognise."""
    import ipaddress
    import socket

    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
        return True
    except OSError:
        return False


def add_push_subscription(session: Session, recipient: Recipient, endpoint: str, p256dh: str,
                          auth: str) -> PushSubscription:
    """Store (or revive) a browser subscription for a recipient; commits."""
    sub = session.scalar(select(PushSubscription).where(
        PushSubscription.recipient_id == recipient.id, PushSubscription.endpoint == endpoint))
    if sub is None:
        sub = PushSubscription(recipient_id=recipient.id, endpoint=endpoint, p256dh=p256dh,
                               auth=auth, created_at=utcnow())
        session.add(sub)
    else:
        sub.p256dh, sub.auth, sub.removed_at = p256dh, auth, None
    session.commit()
    return sub


def follow_report(session: Session, report: Report, *, locale: str, email: str | None,
                  push: tuple[str, str, str] | None) -> Recipient:
    """Someone who found their problem already reported follows it instead; commits."""
    if email is None and push is None:
        raise InvalidInput("Give an e-mail address or a push subscription to follow.",
                           {"email": ["e-mail or push subscription required"]})
    recipient = Recipient(report_id=report.id, role=FOLLOWER, locale=locale, email=email,
                          created_at=utcnow())
    session.add(recipient)
    session.flush()
    if push is not None:
        endpoint, p256dh, auth = push
        session.add(PushSubscription(recipient_id=recipient.id, endpoint=endpoint,
                                     p256dh=p256dh, auth=auth, created_at=utcnow()))
    session.commit()
    return recipient


def move_followers(session: Session, duplicate: Report, original: Report) -> None:
    """When `duplicate` is rejected as a duplicate, its followers (and its reporter) follow
    `original` from now on. Runs inside the caller's transaction."""
    session.execute(update(Recipient).where(
        Recipient.report_id == duplicate.id, Recipient.role == FOLLOWER
    ).values(report_id=original.id))
    reporter = session.scalar(select(Recipient).where(
        Recipient.report_id == duplicate.id, Recipient.role == REPORTER))
    if reporter is None and duplicate.reporter_email is None:
        return
    source = reporter or reporter_recipient(session, duplicate)
    follower = Recipient(report_id=original.id, role=FOLLOWER, locale=source.locale,
                         email=None if source.email_unsubscribed_at else source.email,
                         created_at=utcnow())
    session.add(follower)
    session.flush()
    for sub in session.scalars(select(PushSubscription).where(
            PushSubscription.recipient_id == source.id,
            PushSubscription.removed_at.is_(None))):
        session.add(PushSubscription(recipient_id=follower.id, endpoint=sub.endpoint,
                                     p256dh=sub.p256dh, auth=sub.auth, created_at=utcnow()))


def unsubscribe_token(secret_key: str, recipient_id: int) -> str:
    """The token of a recipient's one-click unsubscribe link."""
    return f"{recipient_id}.{signed_value(secret_key, f'unsubscribe:{recipient_id}')}"


def unsubscribe(session: Session, secret_key: str, token: str) -> None:
    """Stop e-mails to the recipient the (signed) token names; idempotent; commits."""
    recipient_id, _, _signature = token.partition(".")
    valid_id = token.isascii() and recipient_id.isascii() and recipient_id.isdigit()
    if not valid_id or not hmac.compare_digest(
        unsubscribe_token(secret_key, int(recipient_id)).encode(), token.encode()
    ):
        raise NotFound("Unknown unsubscribe link.", {"token": ["not found"]})
    recipient = session.get(Recipient, int(recipient_id))
    if recipient is None:
        raise NotFound("Unknown unsubscribe link.", {"token": ["not found"]})
    if recipient.email_unsubscribed_at is None:
        recipient.email_unsubscribed_at = utcnow()
    session.commit()

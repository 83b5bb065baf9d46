"""Deliver outbox rows: claim, send once over the right channel, record the outcome.

A row is claimed (pending → sending, attempt counted) in its own committed transaction before
anything is sent, and its outcome is committed right after, whatever the error. A worker that
dies after claiming leaves a `sending` row that `recover_stale_claims` puts back; one that
dies before claiming leaves a `pending` row that the dispatcher hands out again. Only a death
between the push service's answer and our commit can repeat a message; the stable `Topic`
(push) and `Message-ID` (e-mail) let the receiving side collapse that repeat.

Each push service and the SMTP server is a destination with a circuit breaker
(`destinations.circuits`): while one is down its rows wait for the one probe per interval
(no attempt counted), and the others' still go out. Failures back off with jitter; after the
last attempt a row is `failed` (one log line), for an admin to retry.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.models import (
    DeliveryStatus,
    Notification,
    PushSubscription,
    Recipient,
    Report,
    ReportEvent,
    ServerKey,
)
from backend.models.base import utcnow
from backend.notify.email import SmtpSettings, send_email
from backend.notify.errors import (
    DeliveryError,
    GoneSubscription,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from backend.notify.push import PushSubscriptionInfo, send_push
from backend.notify.texts import push_payload, status_email, with_responsible
from backend.notify.vapid import generate_vapid_keys, public_key_from_private
from backend.services.destinations import backoff, circuits, keys, outbox
from backend.services.destinations.policy import (
    DEFAULT_NOTIFICATION,
    RetryPolicy,
    notification_policy,
)
from backend.services.recipients import unsubscribe_token
from backend.settings import Settings
from backend.tokens import tracking_token
from backend.workflow import Status

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=5)
VAPID_KEY = "vapid_private_pem"
MAX_ERROR = 500


@dataclass(frozen=True)
class Channels:
    """What deliveries need from the settings."""

    base_url: str
    secret_key: str
    smtp: SmtpSettings | None
    vapid_subject: str
    allow_private_push: bool = False
    policy: RetryPolicy = field(default=DEFAULT_NOTIFICATION)


def channels_from_settings(settings: Settings) -> Channels:
    """The delivery configuration from the settings."""
    smtp = None
    if settings.smtp_host:
        smtp = SmtpSettings(
            host=settings.smtp_host, port=settings.smtp_port,
            username=settings.smtp_username or None, password=settings.smtp_password or None,
            starttls=settings.smtp_starttls, sender=settings.mail_from,
        )
    return Channels(settings.base_url, settings.secret_key, smtp,
                    vapid_subject(settings),
                    settings.push_allow_insecure_endpoints, notification_policy(settings))


def vapid_subject(settings: Settings) -> str:
    """Who push services contact about our pushes (RFC 8292: a mailto: or https: URI): the
    setting; else the https base URL; else the sender address of our e-mails. (A plain-http
    base URL, as in the embedded demo, is refused by push services and by the signer.)"""
    if settings.vapid_subject:
        return settings.vapid_subject
    if settings.base_url.startswith("https://"):
        return settings.base_url
    return f"mailto:{parseaddr(settings.mail_from)[1] or 'noreply@localhost'}"


def ensure_vapid_key(session: Session) -> str:
    """The VAPID private key, created once (at `init`) and kept in the database."""
    key = session.get(ServerKey, VAPID_KEY)
    if key is None:
        private_pem, _ = generate_vapid_keys()
        key = ServerKey(name=VAPID_KEY, value=private_pem, created_at=utcnow())
        session.add(key)
        session.commit()
    return key.value


def vapid_public_key(session: Session) -> str:
    """The public key browsers subscribe with (`applicationServerKey`)."""
    return public_key_from_private(ensure_vapid_key(session))


def claim(session: Session, notification_id: int, now: datetime | None = None) -> bool:
    """Take a due, pending notification for sending; False when someone else has it."""
    now = now or utcnow()
    result = session.execute(update(Notification).where(
        Notification.id == notification_id, Notification.status == DeliveryStatus.PENDING,
        Notification.next_attempt_at <= now,
    ).values(status=DeliveryStatus.SENDING, claimed_at=now,
             attempts=Notification.attempts + 1))
    session.commit()
    return result.rowcount == 1


def destination_key(row: Notification, subscription: PushSubscription | None,
                    channels: Channels) -> str | None:
    """The circuit key of where this notification goes: its push service or the SMTP server."""
    if row.channel == "push":
        return keys.push_key(subscription.endpoint) if subscription is not None else None
    return keys.smtp_key(channels.smtp.host, channels.smtp.port) if channels.smtp else None


def deliver(session: Session, notification_id: int, channels: Channels, *,
            rand: backoff.Random = random.random) -> str:
    """Send one due notification at most once per claim, unless its destination's circuit
    is open (then it waits for the probe); returns its status afterwards. Never raises for
    a failed send: the outcome is recorded instead."""
    now = utcnow()
    row = session.get(Notification, notification_id, populate_existing=True)
    if row is None:
        return "missing"
    if row.status != DeliveryStatus.PENDING or row.next_attempt_at > now:
        return row.status
    subscription = (session.get(PushSubscription, row.push_subscription_id)
                    if row.push_subscription_id else None)
    key = destination_key(row, subscription, channels)
    if key != row.destination:
        _relocate(session, row, key)
    if not circuits.may_send(session, key, channels.policy, now):
        at = circuits.next_probe_at(session, key) or now + channels.policy.probe_interval
        return _finish(session, row.id, DeliveryStatus.PENDING, row.last_error,
                       next_attempt_at=at, only_if=DeliveryStatus.PENDING)
    if not claim(session, notification_id, now):
        return session.scalar(select(Notification.status)
                              .where(Notification.id == notification_id)) or "missing"
    row = session.get(Notification, notification_id, populate_existing=True)
    recipient = session.get(Recipient, row.recipient_id)
    report = session.get(Report, row.report_id)
    event = session.get(ReportEvent, row.event_id)
    vapid_pem = ensure_vapid_key(session) if row.channel == "push" else ""
    session.commit()  # no transaction (SQLite: write lock) while talking to the network
    try:
        _send(row, recipient, report, event, subscription, vapid_pem, channels)
    except GoneSubscription as exc:
        if subscription is not None:
            session.execute(update(PushSubscription).where(
                PushSubscription.id == subscription.id).values(removed_at=utcnow()))
        circuits.record_success(session, key)  # the service answered
        return _finish(session, row.id, DeliveryStatus.DROPPED, exc.reason)
    except TransientDeliveryError as exc:
        return _failed_attempt(session, row, key, exc.reason, channels.policy, rand,
                               retry_after_s=exc.retry_after_s)
    except DeliveryError as exc:  # permanent: this item can never go out
        _log_failed(row, exc.reason)
        return _finish(session, row.id, DeliveryStatus.FAILED, exc.reason, failed=True)
    except Exception as exc:  # noqa: BLE001 - a bug or misconfiguration: recorded, retried
        session.rollback()
        return _failed_attempt(session, row, key, f"{type(exc).__name__}: {exc}",
                               channels.policy, rand)
    circuits.record_success(session, key)
    return _finish(session, row.id, DeliveryStatus.SENT, None)


def _relocate(session: Session, row: Notification, key: str | None) -> None:
    """Record where a row goes; when the SMTP server was changed, every waiting e-mail of
    the old one follows (so none waits for the old server's probe)."""
    moved = [Notification.id == row.id]
    if row.channel == "email" and row.destination is not None:
        moved = [Notification.channel == "email", Notification.destination == row.destination,
                 Notification.status == DeliveryStatus.PENDING]
    session.execute(update(Notification).where(*moved).values(destination=key))
    session.commit()


def _failed_attempt(session: Session, row: Notification, key: str | None, error: str,
                    policy: RetryPolicy, rand: backoff.Random, *,
                    retry_after_s: float | None = None) -> str:
    """Record a failed attempt on the row (back-off, or `failed` after the last one) and on
    its destination's circuit."""
    error = error[:MAX_ERROR]
    attempts = session.scalar(select(Notification.attempts)
                              .where(Notification.id == row.id)) or 0
    now = utcnow()
    if attempts >= policy.max_attempts:
        _log_failed(row, error, attempts)
        status = _finish(session, row.id, DeliveryStatus.FAILED, error, failed=True)
    else:
        status = _finish(session, row.id, DeliveryStatus.PENDING, error,
                         next_attempt_at=backoff.next_attempt_at(attempts, policy, now, rand,
                                                                 at_least_s=retry_after_s))
    circuits.record_failure(session, key, error, policy, now)
    return status


def _log_failed(row: Notification, error: str, attempts: int | None = None) -> None:
    after = f" after {attempts} attempts" if attempts else ""
    log.warning("notification %d (%s) failed%s: %s", row.id, row.channel, after, error)


def _send(row: Notification, recipient: Recipient, report: Report, event: ReportEvent,
          subscription: PushSubscription | None, vapid_pem: str, channels: Channels) -> None:
    status, note, locale = event.to_status, event.public_note, recipient.locale
    if status == Status.REJECTED:  # closed as not the city's: say whose it is
        note = with_responsible(locale, note, report.responsible)
    if row.channel == "push":
        if subscription is None or subscription.removed_at is not None:
            raise GoneSubscription("the subscription was removed")
        send_push(
            PushSubscriptionInfo(subscription.endpoint, subscription.p256dh, subscription.auth),
            push_payload(locale, report.public_id, status, note),
            vapid_private_pem=vapid_pem, vapid_subject=channels.vapid_subject,
            topic=f"n{row.id}", allow_private=channels.allow_private_push,
        )
        return
    if channels.smtp is None:
        raise PermanentDeliveryError("e-mail is not configured (MM_SMTP_HOST)")
    if recipient.email is None or recipient.email_unsubscribed_at is not None:
        raise GoneSubscription("the address unsubscribed")
    # Links open the citizen app (its /track/… page adds the report to "My reports"); the
    # "is it fixed?" answers and unsubscribing are small server pages that work anywhere.
    tracking_url = fixed_urls = None
    if report.tracking_salt and recipient.role == "reporter":
        token = tracking_token(channels.secret_key, report.public_id, report.tracking_salt)
        tracking_url = f"{channels.base_url}/track/{token}"
        if status == Status.RESOLVED:
            answer_url = f"{channels.base_url}/api/v1/track/{token}/fixed"
            fixed_urls = (f"{answer_url}/yes", f"{answer_url}/no")
    public_url = f"{channels.base_url}/reports/{report.public_id}"
    unsubscribe_url = (f"{channels.base_url}/api/v1/unsubscribe/"
                       f"{unsubscribe_token(channels.secret_key, recipient.id)}")
    subject, text, html = status_email(locale, report.public_id, status, note,
                                       tracking_url or public_url, unsubscribe_url, fixed_urls)
    domain = channels.base_url.split("//")[-1].split("/")[0].split(":")[0] or "localhost"
    send_email(channels.smtp, to=recipient.email, subject=subject, text=text, html=html,
               message_id=f"<notification-{row.id}@{domain}>",
               list_unsubscribe_url=unsubscribe_url)


def _finish(session: Session, notification_id: int, status: str, error: str | None, *,
            next_attempt_at: datetime | None = None, failed: bool = False,
            only_if: str = DeliveryStatus.SENDING) -> str:
    values: dict = {"status": status, "last_error": error}
    if status == DeliveryStatus.SENT:
        values["sent_at"] = utcnow()
    if failed:
        values["failed_at"] = utcnow()
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    session.execute(update(Notification).where(Notification.id == notification_id,
                                               Notification.status == only_if).values(**values))
    session.commit()
    return status


def due_notification_ids(session: Session, limit: int = 500) -> list[int]:
    """Pending notifications whose time has come (new, retried, or whose job was lost); of
    a destination whose circuit is open only one, when its probe is due."""
    now = utcnow()
    return outbox.due_ids(session, Notification.id, Notification.destination,
                          [Notification.status == DeliveryStatus.PENDING,
                           Notification.next_attempt_at <= now], now, limit)


def recover_stale_claims(session: Session, older_than: timedelta = STALE_CLAIM) -> int:
    """Put back notifications whose worker died while sending them."""
    result = session.execute(update(Notification).where(
        Notification.status == DeliveryStatus.SENDING,
        Notification.claimed_at < utcnow() - older_than,
    ).values(status=DeliveryStatus.PENDING, next_attempt_at=utcnow()))
    session.commit()
    return result.rowcount or 0

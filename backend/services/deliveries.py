"""Deliver outbox rows: claim, send once over the right channel, record the outcome.

A row is claimed (pending → sending) in its own committed transaction before anything is
sent, and its outcome is committed right after. A worker that dies after claiming leaves a
`sending` row that `recover_stale_claims` puts back; one that dies before claiming leaves a
`pending` row that the dispatcher hands out again. Only a death between the push service's
answer and our commit can repeat a message; the stable `Topic` (push) and `Message-ID`
(e-mail) let the receiving side collapse that repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
from backend.notify.texts import push_payload, status_email
from backend.notify.vapid import generate_vapid_keys, public_key_from_private
from backend.services.recipients import unsubscribe_token
from backend.settings import Settings
from backend.tokens import tracking_token
from backend.workflow import Status

MAX_ATTEMPTS = 8
BACKOFF_S = (10, 30, 120, 600, 1800, 3600, 3600)
STALE_CLAIM = timedelta(minutes=5)
VAPID_KEY = "vapid_private_pem"


@dataclass(frozen=True)
class Channels:
    """What deliveries need from the settings."""

    base_url: str
    secret_key: str
    smtp: SmtpSettings | None
    vapid_subject: str
    allow_private_push: bool = False


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
                    settings.vapid_subject or settings.base_url,
                    settings.push_allow_insecure_endpoints)


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


def deliver(session: Session, notification_id: int, channels: Channels) -> str:
    """Send one notification at most once per claim; returns its status afterwards."""
    if not claim(session, notification_id):
        row = session.get(Notification, notification_id)
        return row.status if row else "missing"
    row = session.get(Notification, notification_id)
    recipient = session.get(Recipient, row.recipient_id)
    report = session.get(Report, row.report_id)
    event = session.get(ReportEvent, row.event_id)
    subscription = (session.get(PushSubscription, row.push_subscription_id)
                    if row.push_subscription_id else None)
    vapid_pem = ensure_vapid_key(session) if row.channel == "push" else ""
    session.commit()  # no transaction (SQLite: write lock) while talking to the network
    try:
        _send(row, recipient, report, event, subscription, vapid_pem, channels)
    except GoneSubscription as exc:
        if subscription is not None:
            session.execute(update(PushSubscription).where(
                PushSubscription.id == subscription.id).values(removed_at=utcnow()))
        return _finish(session, row, DeliveryStatus.DROPPED, exc.reason)
    except TransientDeliveryError as exc:
        if row.attempts >= MAX_ATTEMPTS:
            return _finish(session, row, DeliveryStatus.FAILED, exc.reason)
        delay = exc.retry_after_s or BACKOFF_S[min(row.attempts, len(BACKOFF_S)) - 1]
        return _finish(session, row, DeliveryStatus.PENDING, exc.reason,
                       next_attempt_at=utcnow() + timedelta(seconds=delay))
    except (PermanentDeliveryError, DeliveryError) as exc:
        return _finish(session, row, DeliveryStatus.FAILED, exc.reason)
    except Exception as exc:
        # A bug or a misconfiguration (e.g. a bad VAPID subject): keep the row retryable with
        # backoff and its error visible, instead of leaving it claimed; then let rq log it.
        session.rollback()
        failed = row.attempts >= MAX_ATTEMPTS
        _finish(session, row, DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
                f"{type(exc).__name__}: {exc}"[:500],
                next_attempt_at=None if failed else utcnow() + timedelta(
                    seconds=BACKOFF_S[min(row.attempts, len(BACKOFF_S)) - 1]))
        raise
    return _finish(session, row, DeliveryStatus.SENT, None)


def _send(row: Notification, recipient: Recipient, report: Report, event: ReportEvent,
          subscription: PushSubscription | None, vapid_pem: str, channels: Channels) -> None:
    status, note, locale = event.to_status, event.public_note, recipient.locale
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


def _finish(session: Session, row: Notification, status: str, error: str | None, *,
            next_attempt_at: datetime | None = None) -> str:
    values: dict = {"status": status, "last_error": error}
    if status == DeliveryStatus.SENT:
        values["sent_at"] = utcnow()
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    session.execute(update(Notification).where(Notification.id == row.id).values(**values))
    session.commit()
    return status


def due_notification_ids(session: Session, limit: int = 500) -> list[int]:
    """Pending notifications whose time has come (new, retried, or whose job was lost)."""
    return list(session.scalars(select(Notification.id).where(
        Notification.status == DeliveryStatus.PENDING, Notification.next_attempt_at <= utcnow(),
    ).order_by(Notification.id).limit(limit)))


def recover_stale_claims(session: Session, older_than: timedelta = STALE_CLAIM) -> int:
    """Put back notifications whose worker died while sending them."""
    result = session.execute(update(Notification).where(
        Notification.status == DeliveryStatus.SENDING,
        Notification.claimed_at < utcnow() - older_than,
    ).values(status=DeliveryStatus.PENDING, next_attempt_at=utcnow()))
    session.commit()
    return result.rowcount or 0

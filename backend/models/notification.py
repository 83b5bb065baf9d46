"""Who hears about a report (recipients, push subscriptions) and the outbox of deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, UTCDateTime, utcnow
from backend.models.report import BigId


class Recipient(Base):
    """The reporter or a follower of a report, with the channels they chose."""

    __tablename__ = "recipient"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # reporter | follower
    locale: Mapped[str] = mapped_column(String(8), default="de")
    email: Mapped[str | None] = mapped_column(String(254))
    email_unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PushSubscription(Base):
    """A browser's Web Push subscription for one recipient."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipient.id"), index=True)
    endpoint: Mapped[str] = mapped_column(Text)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the service said gone

    __table_args__ = (UniqueConstraint("recipient_id", "endpoint"),)


class DeliveryStatus:
    """Where one notification stands."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"  # the subscription is gone or the address unsubscribed


class Notification(Base):
    """One delivery of one status change to one recipient over one channel (the outbox).

    Written in the same transaction as the status change; a worker claims it
    (pending → sending), sends, and records the outcome, so no crash loses or repeats it.
    """

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("report_event.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipient.id"))
    channel: Mapped[str] = mapped_column(String(8))  # push | email
    push_subscription_id: Mapped[int | None] = mapped_column(ForeignKey("push_subscription.id"))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The circuit-breaker key (`push:<origin>` or `smtp:<host>:<port>`), set by the first
    # delivery attempt, so the dispatcher can hold back rows of a destination that is down.
    destination: Mapped[str | None] = mapped_column(String(300))
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last attempt failed

    __table_args__ = (
        UniqueConstraint("event_id", "recipient_id", "channel", "push_subscription_id"),
        Index("ix_notification_status_next", "status", "next_attempt_at"),
        Index("ix_notification_destination_status", "destination", "status"),
    )


class ServerKey(Base):
    """Keys the server creates once and keeps (the VAPID key pair for Web Push)."""

    __tablename__ = "server_key"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

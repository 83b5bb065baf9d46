"""Removing the personal data of given reports and recipients: shared by erasure requests,
their re-application after a restore, and retention."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from backend.media.storage import PhotoStorage
from backend.models import DeliveryStatus, Notification, Photo, PushSubscription, Recipient, Report
from backend.models.base import utcnow


@dataclass
class Removed:
    """What was removed."""

    reports: int = 0
    addresses: int = 0
    subscriptions: int = 0
    originals: int = 0
    report_ids: list[int] = field(default_factory=list)


def scrub(session: Session, storage: PhotoStorage, report_ids: list[int],
          recipient_ids: list[int], removed: Removed) -> None:
    """Remove the personal data of these reports and recipients (no commit)."""
    now = utcnow()
    if report_ids:
        removed.reports += session.execute(update(Report).where(
            Report.id.in_(report_ids),
            or_(Report.reporter_email.is_not(None), Report.reporter_name.is_not(None),
                Report.reporter_phone.is_not(None))).values(
            reporter_email=None, reporter_name=None, reporter_phone=None)).rowcount
        for photo in session.scalars(select(Photo).where(Photo.report_id.in_(report_ids),
                                                         Photo.original_key.is_not(None),
                                                         Photo.status != "pending")):
            storage.delete(photo.original_key)
            photo.original_key = None
            removed.originals += 1
    if recipient_ids:
        removed.addresses += session.execute(update(Recipient).where(
            Recipient.id.in_(recipient_ids), Recipient.email.is_not(None)).values(
            email=None)).rowcount
        for sub in session.scalars(select(PushSubscription).where(
                PushSubscription.recipient_id.in_(recipient_ids),
                ~PushSubscription.endpoint.startswith("erased:"))):
            sub.endpoint, sub.p256dh, sub.auth = f"erased:{sub.id}", "", ""
            sub.removed_at = sub.removed_at or now
            removed.subscriptions += 1
        session.execute(update(Notification).where(
            Notification.recipient_id.in_(recipient_ids),
            Notification.status == DeliveryStatus.PENDING).values(
            status=DeliveryStatus.DROPPED, last_error="personal data removed"))

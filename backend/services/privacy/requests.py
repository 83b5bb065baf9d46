"""Data protection: retention, and access and erasure requests (GDPR Art. 15 and 17).

Personal data here is: the reporter's and followers' e-mail addresses, a reporter's name and
phone (from Open311 clients), push subscriptions (device endpoints and keys), and photo
originals (which may carry EXIF). Reports themselves stay, anonymised: their public content
serves the city's duty to fix and document defects.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from backend.media.storage import PhotoStorage
from backend.models import (
    AuditEntry,
    DeliveryStatus,
    Notification,
    Photo,
    PushSubscription,
    Recipient,
    Report,
)
from backend.models.base import utcnow
from backend.workflow import CLOSED_STATUSES

log = logging.getLogger(__name__)
CLOSED_VALUES = sorted(s.value for s in CLOSED_STATUSES)


@dataclass
class Removed:
    """What was removed."""

    reports: int = 0
    addresses: int = 0
    subscriptions: int = 0
    originals: int = 0
    report_ids: list[int] = field(default_factory=list)


def _scrub(session: Session, storage: PhotoStorage, report_ids: list[int],
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


def retention_sweep(session: Session, storage: PhotoStorage, days: int) -> Removed:
    """Remove personal data of reports closed more than `days` ago (commits)."""
    cutoff = utcnow() - timedelta(days=days)
    report_ids = list(session.scalars(select(Report.id).where(
        Report.status.in_(CLOSED_VALUES), Report.updated_at < cutoff,
        or_(Report.reporter_email.is_not(None), Report.reporter_name.is_not(None),
            Report.reporter_phone.is_not(None),
            Report.id.in_(select(Recipient.report_id).where(Recipient.email.is_not(None))),
            Report.id.in_(select(Photo.report_id).where(Photo.original_key.is_not(None),
                                                        Photo.status != "pending")),
            Report.id.in_(select(Recipient.report_id).join(
                PushSubscription, PushSubscription.recipient_id == Recipient.id).where(
                ~PushSubscription.endpoint.startswith("erased:")))))
        .limit(5000)))
    removed = Removed(report_ids=report_ids)
    if not report_ids:
        return removed
    recipient_ids = list(session.scalars(select(Recipient.id).where(
        Recipient.report_id.in_(report_ids))))
    _scrub(session, storage, report_ids, recipient_ids, removed)
    session.commit()
    log.info("retention: personal data removed from %d closed report(s)", len(report_ids))
    return removed


def _by_email(session: Session, email: str) -> tuple[list[Report], list[Recipient]]:
    address = email.strip().lower()
    # Exact, case-insensitive comparison (not LIKE: `_` and `%` are valid in addresses).
    reports = list(session.scalars(select(Report).where(
        func.lower(Report.reporter_email) == address).order_by(Report.id)))
    recipients = list(session.scalars(select(Recipient).where(
        func.lower(Recipient.email) == address).order_by(Recipient.id)))
    return reports, recipients


def export(session: Session, email: str) -> dict[str, Any]:
    """Everything stored about an e-mail address (access request)."""
    reports, recipients = _by_email(session, email)
    followed = {r.report_id for r in recipients if r.role != "reporter"}
    public_ids = dict(session.execute(select(Report.id, Report.public_id).where(
        Report.id.in_({r.report_id for r in recipients} | {r.id for r in reports}))).all())
    subscriptions = list(session.scalars(select(PushSubscription).where(
        PushSubscription.recipient_id.in_([r.id for r in recipients]))))
    return {
        "email": email,
        "reports": [{
            "id": r.public_id, "created_at": r.created_at.isoformat(),
            "status": r.status, "description": r.description, "address": r.address,
            "name": r.reporter_name, "phone": r.reporter_phone, "attributes": r.attributes,
            "photos": [p.public_id for p in r.photos],
        } for r in reports],
        "following": sorted(public_ids[i] for i in followed if i in public_ids),
        "notifications": {
            "email_subscriptions": [{"report": public_ids.get(r.report_id), "role": r.role,
                                     "unsubscribed": r.email_unsubscribed_at is not None}
                                    for r in recipients],
            "push_subscriptions": len([s for s in subscriptions if s.removed_at is None]),
        },
    }


def erase(session: Session, storage: PhotoStorage, email: str) -> Removed:
    """Remove an e-mail address and everything that identifies its owner (erasure request,
    commits); the reports stay, anonymised. The audit log keeps only a hash of the address."""
    reports, recipients = _by_email(session, email)
    report_ids = [r.id for r in reports]
    recipient_ids = [r.id for r in recipients] + list(session.scalars(select(Recipient.id).where(
        Recipient.report_id.in_(report_ids), Recipient.role == "reporter")))
    removed = Removed(report_ids=report_ids)
    _scrub(session, storage, report_ids, sorted(set(recipient_ids)), removed)
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]
    session.add(AuditEntry(at=utcnow(), user_id=None, actor="privacy", action="erase",
                           details={"email_sha256_16": digest, "reports": len(report_ids),
                                    "addresses": removed.addresses}))
    session.commit()
    return removed

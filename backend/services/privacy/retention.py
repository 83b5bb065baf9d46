"""Retention: personal data of reports closed longer than the retention period goes."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.media.storage import PhotoStorage
from backend.models import Photo, PushSubscription, Recipient, Report
from backend.models.base import utcnow
from backend.services.privacy.scrub import Removed, scrub
from backend.workflow import CLOSED_STATUSES

log = logging.getLogger(__name__)
CLOSED_VALUES = sorted(s.value for s in CLOSED_STATUSES)


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
    scrub(session, storage, report_ids, recipient_ids, removed)
    session.commit()
    log.info("retention: personal data removed from %d closed report(s)", len(report_ids))
    return removed

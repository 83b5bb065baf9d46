"""rq jobs for notifications: they take an outbox row id and call the delivery service."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.services.deliveries import channels_from_settings
from backend.services.deliveries import deliver as deliver_one
from workers.context import job_context


def deliver(notification_id: int) -> str:
    """Send one notification (the service records the outcome and schedules retries)."""
    ctx = job_context()
    with Session(ctx.engine, expire_on_commit=False) as session:
        return deliver_one(session, notification_id, channels_from_settings(ctx.settings))

"""What admins see of failing destinations: failed forwardings and notifications with their
last error, the circuits, and a retry of one failed item."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from backend.errors import Conflict, NotFound
from backend.models import (
    AuditEntry,
    CircuitState,
    DeliveryStatus,
    DestinationCircuit,
    Forwarding,
    Notification,
    Report,
    StaffUser,
)
from backend.models.base import utcnow
from backend.permissions import require_delivery_admin

KINDS = ("forwarding", "push", "email")
FORWARDING_FAILED = "failed"
LIST_LIMIT = 500


def _item(kind: str, row: Forwarding | Notification, public_id: str) -> dict[str, Any]:
    state = row.state if isinstance(row, Forwarding) else row.status
    return {"kind": kind, "id": row.id, "report": public_id, "destination": row.destination,
            "state": state, "attempts": row.attempts, "last_error": row.last_error,
            "failed_at": row.failed_at, "next_attempt_at": row.next_attempt_at}


def _newest_first(item: dict[str, Any]) -> tuple[datetime, int]:
    return (item["failed_at"] or datetime.min.replace(tzinfo=utcnow().tzinfo), item["id"])


def failed_items(session: Session, user: StaffUser, limit: int = LIST_LIMIT
                 ) -> list[dict[str, Any]]:
    """Failed forwardings and notifications, newest first, each with its last error."""
    require_delivery_admin(user)
    forwardings = session.execute(
        select(Forwarding, Report.public_id).join(Report, Report.id == Forwarding.report_id)
        .where(Forwarding.state == FORWARDING_FAILED)
        .order_by(Forwarding.failed_at.desc(), Forwarding.id.desc()).limit(limit)).all()
    notifications = session.execute(
        select(Notification, Report.public_id).join(Report, Report.id == Notification.report_id)
        .where(Notification.status == DeliveryStatus.FAILED)
        .order_by(Notification.failed_at.desc(), Notification.id.desc()).limit(limit)).all()
    items = [_item("forwarding", row, public_id) for row, public_id in forwardings]
    items += [_item(row.channel, row, public_id) for row, public_id in notifications]
    items.sort(key=_newest_first, reverse=True)
    return items[:limit]


def circuit_list(session: Session, user: StaffUser) -> list[dict[str, Any]]:
    """Every destination that failed lately: open circuits first, then by key."""
    require_delivery_admin(user)
    rows = session.scalars(select(DestinationCircuit).where(or_(
        DestinationCircuit.state != CircuitState.CLOSED,
        DestinationCircuit.consecutive_failures > 0,
    )).order_by(DestinationCircuit.state.desc(), DestinationCircuit.key))
    return [{"key": c.key, "state": c.state, "consecutive_failures": c.consecutive_failures,
             "opened_at": c.opened_at, "next_probe_at": c.next_probe_at,
             "last_error": c.last_error, "updated_at": c.updated_at} for c in rows]


def retry(session: Session, user: StaffUser, kind: str, item_id: int) -> dict[str, Any]:
    """Put one failed item back: pending, attempts from zero, due now (a destination whose
    circuit is still open takes it with its next probe); audited; commits."""
    require_delivery_admin(user)
    if kind not in KINDS:
        raise NotFound(f"No kind {kind!r}.", {"kind": [f"one of {', '.join(KINDS)}"]})
    now = utcnow()
    if kind == "forwarding":
        model, state, failed, pending = (Forwarding, Forwarding.state, FORWARDING_FAILED,
                                         "pending")
        where = [Forwarding.id == item_id]
    else:
        model, state, failed, pending = (Notification, Notification.status,
                                         DeliveryStatus.FAILED, DeliveryStatus.PENDING)
        where = [Notification.id == item_id, Notification.channel == kind]
    row = session.scalar(select(model).where(*where))
    if row is None:
        raise NotFound(f"No {kind} {item_id}.", {"id": ["not found"]})
    if session.scalar(select(state).where(*where)) != failed:
        raise Conflict(f"{kind} {item_id} has not failed.", {"id": ["not failed"]})
    session.execute(update(model).where(*where, state == failed).values(
        {state.key: pending, "attempts": 0, "next_attempt_at": now, "failed_at": None}))
    session.add(AuditEntry(at=now, user_id=user.id, actor=user.username,
                           action="retry_delivery", report_id=row.report_id,
                           details={"kind": kind, "id": item_id}))
    session.commit()
    session.refresh(row)
    public_id = session.scalar(select(Report.public_id).where(Report.id == row.report_id))
    return _item(kind, row, public_id)


def figures(session: Session) -> dict[str, Any]:
    """For /metrics: failed items per kind, and the keys of the open circuits."""
    failed = dict.fromkeys(KINDS, 0)
    failed["forwarding"] = session.scalar(select(func.count()).select_from(Forwarding).where(
        Forwarding.state == FORWARDING_FAILED)) or 0
    for channel, count in session.execute(
            select(Notification.channel, func.count()).where(
                Notification.status == DeliveryStatus.FAILED).group_by(Notification.channel)):
        failed[channel] = count
    open_keys = list(session.scalars(select(DestinationCircuit.key).where(
        DestinationCircuit.state == CircuitState.OPEN).order_by(DestinationCircuit.key)))
    return {"failed": failed, "open_circuits": open_keys}

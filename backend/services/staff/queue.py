"""The crews' and dispatchers' queue: one page of the reports a person may work, filtered
and ordered (priority and due date, age, or distance)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, case, func, select, text
from sqlalchemy.orm import Session

from backend.db.spatial import in_box
from backend.errors import InvalidInput
from backend.models import (
    Report,
    StaffUser,
)
from backend.models.base import utcnow
from backend.models.report import OPEN_STATUS_SQL
from backend.permissions import (
    Forbidden,
    Role,
    StaffMember,
    visible_department_ids,
)
from backend.services.assets.batch import get_assets
from backend.services.assets.queries import AssetHit
from backend.services.report_queries import first_thumbnails
from backend.workflow import (
    OPEN_STATUSES,
    Priority,
)

SORTS = ("priority", "age", "distance")
MAX_AFTER_PHOTOS = 3
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}

@dataclass(frozen=True)
class QueueFilter:
    """The crew's and dispatchers' queue request."""

    bbox: tuple[float, float, float, float] | None = None
    statuses: frozenset[str] = frozenset(s.value for s in OPEN_STATUSES)
    category_ids: frozenset[int] | None = None
    department_ids: frozenset[int] | None = None  # None: all the person may see
    sort: str = "priority"
    near: tuple[float, float] | None = None  # lon, lat
    limit: int = 200
    offset: int = 0


OPEN_VALUES = frozenset(s.value for s in OPEN_STATUSES)
QUEUE_COLUMNS = (
    Report.id, Report.public_id, Report.category_id, Report.status, Report.priority,
    Report.district_id, Report.department_id, Report.created_at, Report.updated_at,
    Report.due_at, Report.address, Report.description, Report.assigned_to_id,
    Report.review_flags, Report.asset_id, Report.reporter_reopens,
    func.ST_X(Report.geom).label("lon"), func.ST_Y(Report.geom).label("lat"),
)


def _effective_departments(user: StaffMember, wanted: frozenset[int] | None
                           ) -> frozenset[int] | None:
    if user.role not in (Role.CREW, Role.DISPATCHER, Role.ADMIN) or not user.active:
        raise Forbidden("Only crews, dispatchers and admins work report queues.")
    visible = visible_department_ids(user)
    if wanted is None:
        return visible
    if visible is not None and not wanted <= visible:
        raise Forbidden("You may only see your own departments' queues.",
                        {"department": ["not one of your departments"]})
    return wanted


def staff_queue(session: Session, user: StaffMember, flt: QueueFilter,
                now: datetime | None = None) -> tuple[list[Row], int | None]:
    """One page of the queue and the offset of the next page (or None)."""
    if flt.sort not in SORTS:
        raise InvalidInput("Unknown sort order.", {"sort": [f"one of {', '.join(SORTS)}"]})
    if flt.sort == "distance" and flt.near is None:
        raise InvalidInput("Sorting by distance needs a position.",
                           {"near": ["required with sort=distance"]})
    departments = _effective_departments(user, flt.department_ids)
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    query = select(*QUEUE_COLUMNS).where(
        text(OPEN_STATUS_SQL) if flt.statuses == OPEN_VALUES
        else Report.status.in_(sorted(flt.statuses)))
    if departments is not None:
        if not departments:
            return [], None
        query = query.where(Report.department_id.in_(sorted(departments)))
    if flt.bbox is not None:
        query = query.where(in_box(dialect, "report", Report.id, Report.geom, flt.bbox))
    if flt.category_ids:
        query = query.where(Report.category_id.in_(sorted(flt.category_ids)))
    query = query.order_by(*_order(flt, now)).offset(flt.offset).limit(flt.limit + 1)
    rows = session.execute(query).all()
    if len(rows) > flt.limit:
        return rows[: flt.limit], flt.offset + flt.limit
    return rows, None


def _order(flt: QueueFilter, now: datetime) -> list[Any]:
    if flt.sort == "age":
        return [Report.created_at, Report.id]
    if flt.sort == "distance":
        lon, lat = flt.near  # type: ignore[misc]
        # Planar distance with the longitude scaled at this latitude: the order is right
        # within a city, and the same on both backends; metres are computed for display.
        scale = math.cos(math.radians(lat)) ** 2
        dx, dy = func.ST_X(Report.geom) - lon, func.ST_Y(Report.geom) - lat
        return [dx * dx * scale + dy * dy, Report.id]
    overdue = case((and_(Report.due_at.is_not(None), Report.due_at < now), 0), else_=1)
    rank = case(PRIORITY_RANK, value=Report.priority, else_=len(PRIORITY_RANK))
    return [overdue, rank, Report.due_at, Report.id]


def assignees(session: Session, ids: set[int]) -> dict[int, StaffUser]:
    """The staff users behind `assigned_to_id` values."""
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))}


def queue_thumbnails(session: Session, rows: list[Row]) -> dict[int, str]:
    """The first ready thumbnail per report in the page."""
    return first_thumbnails(session, [row.id for row in rows])


def queue_assets(session: Session, rows: list[Row]) -> dict[int, AssetHit]:
    """The assets the reports in the page point at, by asset id."""
    return get_assets(session, [row.asset_id for row in rows])

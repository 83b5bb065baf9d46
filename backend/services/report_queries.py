"""Read-only report queries for the public map and the duplicate prompt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from backend.db.spatial import degree_box, distance_m, in_box
from backend.models import Photo, PhotoDerivative, PhotoStatus, Report
from backend.services.city_cache import CitySnapshot
from backend.workflow import OPEN_STATUSES, Status


@dataclass(frozen=True)
class ReportFilter:
    """Filters of the public report list."""

    bbox: tuple[float, float, float, float] | None = None
    statuses: frozenset[Status] | None = None
    category_ids: frozenset[int] | None = None
    limit: int = 100
    before_id: int | None = None
    updated_after: datetime | None = None


LIST_COLUMNS = (
    Report.id, Report.public_id, Report.category_id, Report.status, Report.priority,
    Report.district_id, Report.department_id, Report.created_at, Report.updated_at,
    func.ST_X(Report.geom).label("lon"), func.ST_Y(Report.geom).label("lat"),
)


def list_reports(session: Session, flt: ReportFilter) -> tuple[list[Row], int | None]:
    """Newest first, keyset-paginated: the rows and the id to continue before (or None)."""
    dialect = session.get_bind().dialect.name
    query = select(*LIST_COLUMNS)
    if flt.bbox is not None:
        query = query.where(in_box(dialect, "report", Report.id, Report.geom, flt.bbox))
    if flt.statuses:
        query = query.where(Report.status.in_(sorted(s.value for s in flt.statuses)))
    if flt.category_ids:
        query = query.where(Report.category_id.in_(sorted(flt.category_ids)))
    if flt.before_id is not None:
        query = query.where(Report.id < flt.before_id)
    if flt.updated_after is not None:
        query = query.where(Report.updated_at >= flt.updated_after)
    rows = session.execute(query.order_by(Report.id.desc()).limit(flt.limit + 1)).all()
    if len(rows) > flt.limit:
        return rows[: flt.limit], rows[flt.limit - 1].id
    return rows, None


def nearby_open_reports(session: Session, snapshot: CitySnapshot, category_code: str,
                        lon: float, lat: float, radius_m: float, limit: int = 20
                        ) -> list[Row]:
    """Open reports of the same category group within `radius_m`, nearest first."""
    category = snapshot.categories[category_code]
    same_group = [
        c.id for c in snapshot.categories.values() if c.group.code == category.group.code
    ]
    dialect = session.get_bind().dialect.name
    distance = distance_m(dialect, Report.geom, lon, lat).label("distance_m")
    query = (
        select(*LIST_COLUMNS, distance)
        .where(in_box(dialect, "report", Report.id, Report.geom, degree_box(lon, lat, radius_m)))
        .where(Report.status.in_(sorted(s.value for s in OPEN_STATUSES)))
        .where(Report.category_id.in_(same_group))
    )
    inner = query.subquery()
    return session.execute(
        select(inner).where(inner.c.distance_m <= radius_m)
        .order_by(inner.c.distance_m, inner.c.id.desc()).limit(limit)
    ).all()


def first_thumbnails(session: Session, report_ids: list[int]) -> dict[int, str]:
    """The SHA-256 of the first ready thumbnail (JPEG) of each report that has one."""
    if not report_ids:
        return {}
    rows = session.execute(
        select(Photo.report_id, PhotoDerivative.sha256)
        .join(PhotoDerivative, PhotoDerivative.photo_id == Photo.id)
        .where(Photo.report_id.in_(report_ids), Photo.status == PhotoStatus.READY,
               PhotoDerivative.name == "thumb", PhotoDerivative.format == "jpeg")
        .order_by(Photo.report_id, Photo.position)
    ).all()
    thumbs: dict[int, str] = {}
    for report_id, sha256 in rows:
        thumbs.setdefault(report_id, sha256)
    return thumbs

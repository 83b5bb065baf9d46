"""Read-only report queries: the duplicate prompt, thumbnails, filter values.

(The public map's and Open311's lists are chosen from the process's map index, see
backend/services/public_map.)"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from backend.db.spatial import degree_box, distance_m, in_box
from backend.errors import InvalidInput
from backend.models import Photo, PhotoDerivative, Report
from backend.models.public_view import ReportPublicView
from backend.services.approximate import exact_location
from backend.services.assets.queries import get_asset
from backend.services.city_cache import CitySnapshot
from backend.services.redaction.visibility import public_photo
from backend.workflow import OPEN_STATUSES


def category_ids(snapshot: CitySnapshot, codes: list[str] | None) -> frozenset[int] | None:
    """The ids of the category codes a query names (None: any), refusing unknown codes."""
    if not codes:
        return None
    unknown = [c for c in codes if c not in snapshot.categories]
    if unknown:
        raise InvalidInput("Unknown category.", {"category": [f"unknown: {', '.join(unknown)}"]})
    return frozenset(snapshot.categories[c].id for c in codes)


# A report's id and its stored map feature (None where it must be rendered on the spot).
LIST_COLUMNS = (Report.id, ReportPublicView.feature)


def _listing() -> Select:
    return select(*LIST_COLUMNS).outerjoin(
        ReportPublicView, ReportPublicView.report_id == Report.id)


def in_list(column: str, name: str, values: list[Any]) -> tuple[str, dict[str, Any]]:
    """`column IN (:name0, :name1, ...)` and its parameters."""
    names = [f"{name}{i}" for i in range(len(values))]
    return (f"{column} IN ({', '.join(':' + n for n in names)})",
            dict(zip(names, values, strict=True)))


def nearby_open_reports(session: Session, snapshot: CitySnapshot, category_code: str,
                        lon: float, lat: float, radius_m: float, limit: int = 20,
                        asset_id: int | None = None, approximate: bool = False
                        ) -> tuple[list[Row], set[int]]:
    """Open reports of the same category group: with `asset_id`, those pointing at that
    asset first (at any distance, newest first), then those within `radius_m`, nearest
    first. Rows are (id, stored feature, distance in metres); the set holds the ids of the
    same-asset ones. Distance says nothing about a report placed only by district: such
    reports are never found by distance, and an `approximate` point searches none."""
    category = snapshot.categories[category_code]
    same_group = [
        c.id for c in snapshot.categories.values() if c.group.code == category.group.code
    ]
    dialect = session.get_bind().dialect.name
    distance = distance_m(dialect, Report.geom, lon, lat).label("distance_m")
    open_in_group = (
        _listing().add_columns(distance)
        .where(Report.status.in_(sorted(s.value for s in OPEN_STATUSES)))
        .where(Report.category_id.in_(same_group))
    )
    first: list[Row] = []
    if asset_id is not None:
        if get_asset(session, asset_id) is None:
            raise InvalidInput("No asset with this id.", {"asset_id": ["unknown asset"]})
        first = list(session.execute(open_in_group.where(Report.asset_id == asset_id)
                                     .order_by(Report.id.desc()).limit(limit)).all())
    same = {row[0] for row in first}
    if approximate:
        return first[:limit], same
    inner = open_in_group.where(
        in_box(dialect, "report", Report.id, Report.geom, degree_box(lon, lat, radius_m)),
        exact_location(),
    ).subquery()
    near = session.execute(
        select(inner).where(inner.c.distance_m <= radius_m)
        .order_by(inner.c.distance_m, inner.c.id.desc()).limit(limit)
    ).all()
    return (first + [row for row in near if row[0] not in same])[:limit], same


def first_thumbnails(session: Session, report_ids: list[int]) -> dict[int, str]:
    """The SHA-256 of the first public thumbnail (JPEG) of each report that has one."""
    if not report_ids:
        return {}
    rows = session.execute(
        select(Photo.report_id, PhotoDerivative.sha256)
        .join(PhotoDerivative, PhotoDerivative.photo_id == Photo.id)
        .where(Photo.report_id.in_(report_ids), public_photo(),
               PhotoDerivative.name == "thumb", PhotoDerivative.format == "jpeg")
        .order_by(Photo.report_id, Photo.position)
    ).all()
    thumbs: dict[int, str] = {}
    for report_id, sha256 in rows:
        thumbs.setdefault(report_id, sha256)
    return thumbs

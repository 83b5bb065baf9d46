"""Read-only report queries for the public map and the duplicate prompt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from backend.db.spatial import degree_box, distance_m, in_box
from backend.db.statements import Source, dialect_of, rows
from backend.errors import InvalidInput
from backend.models import Photo, PhotoDerivative, PhotoStatus, Report
from backend.models.public_view import ReportPublicView
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
    # How much of the city's extent the box covers (0..1; PostgreSQL: above DENSE_SHARE the
    # newest reports are scanned instead of walking the spatial index).
    city_share: float = 0.0


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
# Above this many points in a box, scanning the newest reports finds a page sooner than
# collecting the box's points from the R*Tree first (SpatiaLite).
DENSE_BOX = 5000
_RTREE = ("SELECT pkid FROM idx_report_geom WHERE xmin <= :maxx AND xmax >= :minx "
          "AND ymin <= :maxy AND ymax >= :miny")
_EXACT = "ST_X(r.geom) BETWEEN :minx AND :maxx AND ST_Y(r.geom) BETWEEN :miny AND :maxy"
_BOX_SQL = {
    # Exact, indexed, and estimated from the column's statistics (&& plus the coordinate
    # checks would be estimated as almost nothing, and planned for that).
    "postgresql": "ST_Intersects(r.geom, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))",
    "sqlite": f"r.id IN ({_RTREE}) AND {_EXACT}",
    # The R*Tree's hits only as a filter (a unary plus keeps SQLite from looking each one
    # up): for queries that walk another index, e.g. creation time.
    "filter": f"+r.id IN ({_RTREE}) AND {_EXACT}",
    "dense": _EXACT,
}
# Fewer R*Tree hits than this: looking each one up beats walking a time index.
FEW_HITS = 500
def _listing() -> Select:
    return select(*LIST_COLUMNS).outerjoin(
        ReportPublicView, ReportPublicView.report_id == Report.id)


def _hits(session: Source, box: tuple[float, float, float, float]) -> int:
    """How many points the SpatiaLite R*Tree holds in the box (counted up to DENSE_BOX + 1)."""
    minx, miny, maxx, maxy = box
    return rows(session, f"SELECT count(*) FROM ({_RTREE} LIMIT {DENSE_BOX + 1})",
                {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy})[0][0] or 0


def _dense(session: Source, box: tuple[float, float, float, float]) -> bool:
    """Whether the SpatiaLite R*Tree holds more than DENSE_BOX points in the box."""
    return _hits(session, box) > DENSE_BOX


def box_condition(session: Source, bbox: tuple[float, float, float, float], *,
                  ordered_by_time: bool = False) -> tuple[str, dict[str, float]]:
    """SQL (on `report r`) for the points in a lon/lat box, by the spatial index, and its
    parameters. On SpatiaLite a box holding most reports is scanned instead (see DENSE_BOX),
    and for a query ordered by time a box of many points only filters the time index's walk."""
    params = dict(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True))
    if dialect_of(session) == "postgresql":
        return _BOX_SQL["postgresql"], params
    hits = _hits(session, bbox)
    kind = ("dense" if hits > DENSE_BOX else
            "filter" if ordered_by_time and hits >= FEW_HITS else "sqlite")
    return _BOX_SQL[kind], params


def in_list(column: str, name: str, values: list[Any]) -> tuple[str, dict[str, Any]]:
    """`column IN (:name0, :name1, ...)` and its parameters."""
    names = [f"{name}{i}" for i in range(len(values))]
    return (f"{column} IN ({', '.join(':' + n for n in names)})",
            dict(zip(names, values, strict=True)))


# SpatiaLite, optimistic: the box's R*Tree hits (at most DENSE_BOX + 1) feed the page in the
# same statement, and every row says how many there were; at more than DENSE_BOX the box is
# dense and the page is fetched again by scanning (see DENSE_BOX).
_SQLITE_HITS = "WITH hits AS MATERIALIZED ({rtree} LIMIT {cap}) "
_SQLITE_BOX = f"r.id IN (SELECT pkid FROM hits) AND {_EXACT}"
# Boxes up to about a district's size (in square degrees; a phone's street view is ~4e-5) try
# that first; bigger ones count their hits before choosing.
SMALL_BOX_DEG2 = 1e-3


def list_reports(session: Source, flt: ReportFilter
                 ) -> tuple[list[tuple[int, str | None]], int | None]:
    """Newest first, keyset-paginated: (id, feature) rows and the id to continue before (or
    None). Plain SQL: this is the public map's query, run for every viewport."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": flt.limit + 1}
    parts = [in_list("r.status", "s", sorted(s.value for s in flt.statuses))
             if flt.statuses else None,
             in_list("r.category_id", "c", sorted(flt.category_ids))
             if flt.category_ids else None]
    for clause, values in filter(None, parts):
        where.append(clause)
        params.update(values)
    if flt.before_id is not None:
        where.append("r.id < :before_id")
        params["before_id"] = flt.before_id
    if flt.updated_after is not None:
        where.append("r.updated_at >= :updated_after")
        params["updated_after"] = flt.updated_after
    def page(box: str | None, prefix: str = "", hits: str = "") -> list[tuple]:
        conditions = ([box] if box else []) + (
            # Scanning newest first: keep SQLite off the status/time indexes (a unary plus),
            # which would fetch every open report of the city and sort them.
            [c if c.startswith("r.id ") else f"+{c}" for c in where]
            if box == _BOX_SQL["dense"] else where)
        sql = (f"{prefix}SELECT r.id, v.feature{hits} FROM report r LEFT JOIN report_public v "
               "ON v.report_id = r.id" + (" WHERE " + " AND ".join(conditions)
                                          if conditions else "")
               + " ORDER BY r.id DESC LIMIT :limit")
        return rows(session, sql, params)

    if flt.bbox is None:
        found = page(None)
    else:
        params.update(zip(("minx", "miny", "maxx", "maxy"), flt.bbox, strict=True))
        if dialect_of(session) == "postgresql":
            found = _postgres_box_page(session, flt, where, params)
        else:
            minx, miny, maxx, maxy = flt.bbox
            if (maxx - minx) * (maxy - miny) > SMALL_BOX_DEG2:
                found = page(_BOX_SQL["dense" if _dense(session, flt.bbox) else "sqlite"])
            else:
                found = page(_SQLITE_BOX, _SQLITE_HITS.format(rtree=_RTREE, cap=DENSE_BOX + 1),
                             ", (SELECT count(*) FROM hits)")
                if (found[0][2] > DENSE_BOX) if found else _dense(session, flt.bbox):
                    found = page(_BOX_SQL["dense"])
    page_rows = [(row[0], row[1]) for row in found]
    if len(page_rows) > flt.limit:
        return page_rows[: flt.limit], page_rows[flt.limit - 1][0]
    return page_rows, None


DENSE_SHARE = 0.3
_PG_ENVELOPE = _BOX_SQL["postgresql"]
_PG_PAGE = ("SELECT p.id, v.feature FROM ({inner}) p LEFT JOIN report_public v "
            "ON v.report_id = p.id ORDER BY p.id DESC")
_PG_CHUNK = 2000


def _postgres_box_page(session: Source, flt: ReportFilter, where: list[str],
                       params: dict[str, Any]) -> list[tuple]:
    """PostgreSQL: the newest reports in a box. A small box walks the GiST index on
    (geom, id) nearest-first by id (`id <-> max`: newest first, a page's worth of entries);
    a box over most of the city scans the newest reports in chunks and keeps those inside.
    The page is chosen before the views are joined (the planner cannot know how many rows the
    box holds and would otherwise join them all)."""
    conditions = " AND ".join(where)
    if flt.city_share <= DENSE_SHARE:
        inner = (f"SELECT r.id FROM report r WHERE {_PG_ENVELOPE}"
                 + (f" AND {conditions}" if conditions else "")
                 + " ORDER BY r.id <-> 9223372036854775807 LIMIT :limit")
        return rows(session, _PG_PAGE.format(inner=inner), params)
    found: list[tuple] = []
    upper = flt.before_id if flt.before_id is not None else 2**62
    for _ in range(50):  # at most 100,000 reports looked at; then the index walk answers
        chunk = rows(session, "SELECT max(id), min(id) FROM (SELECT id FROM report "
                     "WHERE id < :upper ORDER BY id DESC LIMIT :chunk) c",
                     {"upper": upper, "chunk": _PG_CHUNK})
        newest, oldest = chunk[0]
        if newest is None:
            return found
        inner = (f"SELECT r.id FROM report r WHERE r.id BETWEEN :oldest AND :newest AND "
                 f"{_EXACT}" + (f" AND {conditions}" if conditions else "")
                 + " ORDER BY r.id DESC LIMIT :need")
        found += rows(session, _PG_PAGE.format(inner=inner),
                      {**params, "oldest": oldest, "newest": newest,
                       "need": params["limit"] - len(found)})
        if len(found) >= params["limit"]:
            return found
        upper = oldest
    return found + rows(session, _PG_PAGE.format(inner=(
        f"SELECT r.id FROM report r WHERE {_PG_ENVELOPE} AND r.id < :upper"
        + (f" AND {conditions}" if conditions else "")
        + " ORDER BY r.id <-> 9223372036854775807 LIMIT :need")),
        {**params, "upper": upper, "need": params["limit"] - len(found)})


def box_share(box: tuple[float, float, float, float],
              extent: tuple[float, float, float, float] | None) -> float:
    """How much of `extent` the box covers (0..1; 0 without an extent)."""
    if extent is None:
        return 0.0
    width = min(box[2], extent[2]) - max(box[0], extent[0])
    height = min(box[3], extent[3]) - max(box[1], extent[1])
    area = (extent[2] - extent[0]) * (extent[3] - extent[1])
    return max(width, 0.0) * max(height, 0.0) / area if area > 0 else 0.0


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
        _listing().add_columns(distance)
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

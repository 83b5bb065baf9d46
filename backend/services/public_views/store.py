"""The `report_public` table: load reports' public data, render, store.

Every write service's session renders the reports it touched just before it commits (a session
hook, installed once for all sessions), so a change and its rendering commit together. Database
triggers delete a report's row on any change the hook may not see (bulk UPDATE statements,
another program), and `render_missing` (start-up, housekeeping) fills such gaps; readers render
a missing row on the spot meanwhile, so a reader never sees a stale view.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session

from backend.db.statements import rows
from backend.models import Photo, PhotoDerivative, Report, ReportEvent
from backend.models.public_view import ReportPublicView
from backend.services.approximate import approximate
from backend.services.assets.queries import AssetHit
from backend.services.public_views.render import (
    Event,
    Fragments,
    PhotoFile,
    PublicPhoto,
    ReportData,
    render,
)
from backend.services.redaction.visibility import PUBLIC_PHOTO_SQL
from backend.workflow import outcome_of

log = logging.getLogger(__name__)

BATCH = 2000
_TOUCHED = "mm_public_views_touched"

_REPORTS_SQL = (
    "SELECT r.id, r.public_id, r.category_id, r.department_id, r.district_id, r.status, "
    "r.priority, r.description, r.address, ST_X(r.geom), ST_Y(r.geom), r.created_at, "
    "r.updated_at, r.due_at, a.id, l.code, t.code, a.external_id, a.name, a.number, "
    "ST_X(a.geom), ST_Y(a.geom), a.retired_at, r.review_flags, r.reject_reason, "
    "r.responsible FROM report r "
    "LEFT JOIN asset a ON a.id = r.asset_id LEFT JOIN asset_layer l ON l.id = a.layer_id "
    "LEFT JOIN asset_type t ON t.id = l.asset_type_id "
    "WHERE r.id IN ({ids}) ORDER BY r.id{lock}")
_EVENTS_SQL = ("SELECT report_id, to_status, at, public_note FROM report_event "
               "WHERE report_id IN ({ids}) ORDER BY id")
_PHOTOS_SQL = (
    "SELECT p.report_id, p.id, p.public_id, p.kind, d.name, d.format, d.width, d.height, "
    "d.sha256 "
    "FROM photo p JOIN photo_derivative d ON d.photo_id = p.id "
    "JOIN report r ON r.id = p.report_id "
    f"WHERE p.report_id IN ({{ids}}) AND {PUBLIC_PHOTO_SQL} "
    "ORDER BY p.report_id, p.position, p.id, d.id")


def _time(value: datetime | str | None) -> datetime | None:
    """A stored timestamp as an aware datetime (SQLite hands back UTC text)."""
    if value is None or isinstance(value, datetime):
        return value.astimezone(UTC) if value is not None else None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def load(session: Session, ids: Iterable[int], *, lock: bool = False) -> list[ReportData]:
    """The public data of these reports (three plain queries for any number of them). With
    `lock` the report rows are locked first (PostgreSQL), so that two transactions rendering
    the same report do so one after the other and the later one sees the earlier one's
    changes."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    id_list = ",".join(str(int(i)) for i in wanted)  # integers only: safe to inline
    postgres = session.get_bind().dialect.name == "postgresql"
    reports = rows(session, _REPORTS_SQL.format(
        ids=id_list, lock=" FOR UPDATE OF r" if lock and postgres else ""))
    events: dict[int, list[Event]] = defaultdict(list)
    for report_id, to_status, at, note in rows(session, _EVENTS_SQL.format(ids=id_list)):
        events[report_id].append(Event(to_status, _time(at), note))  # type: ignore[arg-type]
    files: dict[int, list[PhotoFile]] = defaultdict(list)
    photos: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for report_id, photo_id, photo_public_id, kind, name, fmt, width, height, sha256 in rows(
            session, _PHOTOS_SQL.format(ids=id_list)):
        if photo_id not in files:
            photos[report_id].append((photo_id, photo_public_id, kind or "report"))
        files[photo_id].append(PhotoFile(name, fmt, width, height, sha256))
    return [ReportData(
        id=row[0], public_id=row[1], category_id=row[2], department_id=row[3],
        district_id=row[4], status=row[5], priority=row[6], description=row[7],
        address=row[8], lon=float(row[9]), lat=float(row[10]),
        created_at=_time(row[11]), updated_at=_time(row[12]),  # type: ignore[arg-type]
        due_at=_time(row[13]), events=tuple(events.get(row[0], ())),
        photos=tuple(PublicPhoto(pid, tuple(files[photo_id]), kind)
                     for photo_id, pid, kind in photos.get(row[0], ())),
        asset=_asset(row[14:23]), approximate=approximate(row[23]),
        outcome=outcome_of(row[5], row[24]), responsible=_responsible(row[25]),
    ) for row in reports]


def _responsible(value: str | dict | None) -> tuple[str, str | None] | None:
    """Who is responsible instead (the JSON column comes back as text from SQLite)."""
    data = json.loads(value) if isinstance(value, str) else value
    if not isinstance(data, dict) or not data.get("name"):
        return None
    return str(data["name"]), (str(data["url"]) if data.get("url") else None)


def _asset(row: Sequence) -> AssetHit | None:
    """The report's asset from the joined columns (None when it points at none)."""
    if row[0] is None:
        return None
    return AssetHit(row[0], row[1], row[2], row[3], row[4], row[5], float(row[6]),
                    float(row[7]), row[8] is not None)


def store(session: Session, rendered: Sequence[tuple[int, Fragments]]) -> None:
    """Replace the rows of these reports (no commit); each gets a new revision."""
    if not rendered:
        return
    session.execute(delete(ReportPublicView).where(
        ReportPublicView.report_id.in_([report_id for report_id, _ in rendered])))
    session.execute(insert(ReportPublicView), [{
        "report_id": report_id, "feature": f.feature.decode(), "detail": f.detail.decode(),
        "open311": f.open311.decode(), "open311_ext": f.open311_ext.decode(),
    } for report_id, f in rendered])


def refresh(session: Session, ids: Iterable[int]) -> int:
    """Render and store these reports' views in the session's transaction (no commit)."""
    wanted = sorted(set(ids))
    done = 0
    for start in range(0, len(wanted), BATCH):
        rendered = []
        for report in load(session, wanted[start:start + BATCH], lock=True):
            try:
                rendered.append((report.id, render(report)))
            except Exception:  # a rendering bug must not cost the write it follows
                log.exception("public views: report %d could not be rendered", report.id)
        store(session, rendered)
        done += len(rendered)
    return done


def render_missing(session: Session, *, limit: int | None = None) -> int:
    """Render every report that has no stored view (committing per batch); returns how many.
    For existing data after the upgrade, after bulk changes, and after seeding."""
    done = 0
    after = 0
    while limit is None or done < limit:
        ids = list(session.scalars(
            select(Report.id).outerjoin(ReportPublicView,
                                        ReportPublicView.report_id == Report.id)
            .where(ReportPublicView.report_id.is_(None), Report.id > after)
            .order_by(Report.id).limit(BATCH)))
        if not ids:
            break
        done += refresh(session, ids)
        session.commit()
        after = ids[-1]
    if done:
        log.info("public views: rendered %d report(s) that had none", done)
    return done


# ------------------------------------------------------------------------ the session hook

def _touched(session: Session) -> set[int]:
    return session.info.setdefault(_TOUCHED, set())


def _after_flush(session: Session, _context: object) -> None:
    """Note which reports this flush changed (the triggers have dropped their views); photo
    files are noted by photo, resolved to their report before the commit."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Report):
            _touched(session).add(obj.id)
        elif isinstance(obj, (ReportEvent, Photo)):
            _touched(session).add(obj.report_id)
        elif isinstance(obj, PhotoDerivative):
            _touched(session).add(-obj.photo_id)  # negative: a photo id


def _before_commit(session: Session) -> None:
    """Render what this transaction touched, so that it commits with its views."""
    if not session.info.get(_TOUCHED) and not (session.new or session.dirty or session.deleted):
        return
    session.flush()
    touched = session.info.pop(_TOUCHED, None)
    if not touched:
        return
    photo_ids = [-i for i in touched if i < 0]
    report_ids = {i for i in touched if i > 0}
    if photo_ids:
        report_ids.update(session.scalars(select(Photo.report_id).where(Photo.id.in_(photo_ids))))
    refresh(session, report_ids)


def _forget(session: Session, *_args: object) -> None:
    session.info.pop(_TOUCHED, None)


def install() -> None:
    """Install the hook on every session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_rollback", _forget)


install()

"""The `report_public` table: load reports' public data, render, store.

Every write service's session renders the reports it touched just before it commits (a session
hook, installed once for all sessions), so a change and its rendering commit together. Database
triggers delete a report's row on any change the hook may not see (bulk UPDATE statements,
another program), and `render_missing` (start-up, housekeeping) fills such gaps; readers render
a missing row on the spot meanwhile, so a reader never sees a stale view.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session

from backend.models import Photo, PhotoDerivative, PhotoStatus, Report, ReportEvent
from backend.models.public_view import ReportPublicView
from backend.services.public_views.render import (
    Event,
    Fragments,
    PhotoFile,
    PublicPhoto,
    ReportData,
    render,
)

log = logging.getLogger(__name__)

BATCH = 2000
_TOUCHED = "mm_public_views_touched"

REPORT_COLUMNS = (
    Report.id, Report.public_id, Report.category_id, Report.department_id, Report.district_id,
    Report.status, Report.priority, Report.description, Report.address,
    func.ST_X(Report.geom), func.ST_Y(Report.geom),
    Report.created_at, Report.updated_at, Report.due_at,
)


def load(session: Session, ids: Iterable[int], *, lock: bool = False) -> list[ReportData]:
    """The public data of these reports (three queries for any number of them). With `lock`
    the report rows are locked first (PostgreSQL), so that two transactions rendering the same
    report do so one after the other and the later one sees the earlier one's changes."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    query = select(*REPORT_COLUMNS).where(Report.id.in_(wanted)).order_by(Report.id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Report)
    rows = session.execute(query).all()
    events: dict[int, list[Event]] = defaultdict(list)
    for report_id, to_status, at, note in session.execute(
            select(ReportEvent.report_id, ReportEvent.to_status, ReportEvent.at,
                   ReportEvent.public_note)
            .where(ReportEvent.report_id.in_(wanted)).order_by(ReportEvent.id)):
        events[report_id].append(Event(to_status, at, note))
    files: dict[int, list[PhotoFile]] = defaultdict(list)
    photos: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for report_id, photo_id, photo_public_id, name, fmt, width, height, sha256 in session.execute(
            select(Photo.report_id, Photo.id, Photo.public_id, PhotoDerivative.name,
                   PhotoDerivative.format, PhotoDerivative.width, PhotoDerivative.height,
                   PhotoDerivative.sha256)
            .join(PhotoDerivative, PhotoDerivative.photo_id == Photo.id)
            .where(Photo.report_id.in_(wanted), Photo.status == PhotoStatus.READY)
            .order_by(Photo.report_id, Photo.position, Photo.id, PhotoDerivative.id)):
        if photo_id not in files:
            photos[report_id].append((photo_id, photo_public_id))
        files[photo_id].append(PhotoFile(name, fmt, width, height, sha256))
    return [ReportData(
        id=row[0], public_id=row[1], category_id=row[2], department_id=row[3],
        district_id=row[4], status=row[5], priority=row[6], description=row[7],
        address=row[8], lon=float(row[9]), lat=float(row[10]), created_at=row[11],
        updated_at=row[12], due_at=row[13], events=tuple(events.get(row[0], ())),
        photos=tuple(PublicPhoto(pid, tuple(files[photo_id]))
                     for photo_id, pid in photos.get(row[0], ())),
    ) for row in rows]


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

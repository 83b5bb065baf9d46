"""One report as staff see it, and the reporter's contact (every read audited)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.models import (
    AuditEntry,
    Category,
    Report,
    ReportNote,
    StaffUser,
)
from backend.permissions import (
    ReportAction,
    StaffMember,
    can_see_report,
    report_actions,
)
from backend.services.assets.queries import AssetHit, get_asset
from backend.services.desk.on_behalf import filed_by as desk_filer
from backend.services.forwarding import forwarding_states
from backend.workflow import (
    ALLOWED_TRANSITIONS,
    Actor,
    Status,
)


@dataclass(frozen=True)
class StaffReport:
    """A report with everything staff may see of it (the e-mail only through `reporter`)."""

    report: Report
    lon: float
    lat: float
    notes: list[ReportNote]
    assigned_to: StaffUser | None
    actions: frozenset[ReportAction]
    transitions: list[str]
    duplicate_of: str | None
    forwardings: list[dict[str, Any]]  # hand-overs to departments' own Open311 systems
    asset: AssetHit | None = None  # the signal, sign post … the report is about
    photos_public: bool = True  # the category's photos may be public at all
    photo_log: tuple[AuditEntry, ...] = ()  # staff-only: photo moderation, previews
    filed_by: dict[str, str] | None = None  # staff-only: the service desk filed it for a caller


def load_report(session: Session, public_id: str) -> Report:
    report = session.scalar(select(Report).where(Report.public_id == public_id))
    if report is None:
        raise NotFound("No report with this id.", {"id": ["not found"]})
    return report


def staff_report(session: Session, user: StaffMember, public_id: str) -> StaffReport:
    """The full view of a report this person may see (else 404)."""
    report = load_report(session, public_id)
    if not can_see_report(user, report.department_id):
        raise NotFound("No report with this id.", {"id": ["not found"]})
    lon, lat = session.execute(select(func.ST_X(Report.geom), func.ST_Y(Report.geom))
                               .where(Report.id == report.id)).one()
    notes = list(session.scalars(select(ReportNote).where(ReportNote.report_id == report.id)
                                 .order_by(ReportNote.id)))
    assigned = session.get(StaffUser, report.assigned_to_id) if report.assigned_to_id else None
    original = session.get(Report, report.duplicate_of_id) if report.duplicate_of_id else None
    current = Status(report.status)
    transitions = [target.value for target, actors in ALLOWED_TRANSITIONS[current].items()
                   if Actor.STAFF in actors]
    photos_public = bool(session.scalar(select(Category.photos_public)
                                        .where(Category.id == report.category_id)))
    photo_log = tuple(session.scalars(select(AuditEntry).where(
        AuditEntry.report_id == report.id, AuditEntry.action.like("photo_%"))
        .order_by(AuditEntry.id)))
    return StaffReport(report, float(lon), float(lat), notes, assigned,
                       report_actions(user, report.department_id), transitions,
                       original.public_id if original else None,
                       forwarding_states(session, report.id),
                       get_asset(session, report.asset_id) if report.asset_id else None,
                       photos_public, photo_log, desk_filer(session, report))

"""Staff and assets: the reports of one asset (its history) and correcting the asset a report
points at (dispatchers and admins; audited like every staff action)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.models import Category, CategoryGroup, Report, ReportEvent, StaffUser
from backend.models.base import utcnow
from backend.permissions import ReportAction, StaffMember, require_asset_history
from backend.permissions import visible_department_ids as _visible
from backend.queue import JobQueue
from backend.services.assets.queries import AssetHit, get_asset
from backend.services.assets.reporting import asset_for_report

# One action runner for every staff action (replay, permission, audit, commit).
from backend.services.staff.actions import ActionResult, run_action
from backend.workflow import CLOSED_STATUSES

CLOSED_VALUES = sorted(s.value for s in CLOSED_STATUSES)


@dataclass(frozen=True)
class AssetReport:
    """One report in an asset's history."""

    public_id: str
    status: str
    category_id: int
    department_id: int
    district_id: int | None
    created_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None  # when it entered its current closed status; None if open

    @property
    def hours_to_fix(self) -> float | None:
        """Resolved minus created, in hours (None while not resolved)."""
        if self.resolved_at is None:
            return None
        return round((self.resolved_at - self.created_at).total_seconds() / 3600, 2)


def asset_history(session: Session, user: StaffMember, asset_id: int
                  ) -> tuple[AssetHit, list[AssetReport]]:
    """The asset and every report pointing at it that this person may see (any status),
    newest first."""
    require_asset_history(user)
    asset = get_asset(session, asset_id)
    if asset is None:
        raise NotFound("No asset with this id.", {"id": ["not found"]})
    closed = (select(ReportEvent.report_id, func.max(ReportEvent.at).label("at"))
              .where(ReportEvent.to_status.in_(CLOSED_VALUES))
              .group_by(ReportEvent.report_id).subquery())
    query = (select(Report.public_id, Report.status, Report.category_id, Report.department_id,
                    Report.district_id, Report.created_at, Report.resolved_at, closed.c.at)
             .outerjoin(closed, closed.c.report_id == Report.id)
             .where(Report.asset_id == asset_id)
             .order_by(Report.created_at.desc(), Report.id.desc()))
    visible = _visible(user)
    if visible is not None:
        query = query.where(Report.department_id.in_(sorted(visible)))
    # Closed: when it entered a closed status (rows changed without an event: resolved_at).
    reports = [AssetReport(*r[:7], (r[7] or r[6]) if r[1] in CLOSED_VALUES else None)
               for r in session.execute(query)]
    return asset, reports


def correct_asset(session: Session, user: StaffUser, public_id: str, asset_id: int | None, *,
                  key: str | None = None, jobs: JobQueue | None = None) -> ActionResult:
    """Point the report at another asset (checked like the intake: an active asset of a type
    tied to the category's group), or at none; audited with the previous and new asset. The
    report's public views are rendered again in the same transaction (session hook)."""
    def work(report: Report) -> tuple[dict[str, Any], list[int]]:
        previous = report.asset_id
        if asset_id is not None:
            group = session.scalar(select(CategoryGroup.code)
                                   .join(Category, Category.group_id == CategoryGroup.id)
                                   .where(Category.id == report.category_id))
            asset_for_report(session, asset_id, group or "")
        if previous != asset_id:
            report.asset_id, report.updated_at = asset_id, utcnow()
        return {"previous_asset_id": previous, "asset_id": asset_id}, []
    return run_action(session, user, public_id, ReportAction.ASSET, key, jobs, work)

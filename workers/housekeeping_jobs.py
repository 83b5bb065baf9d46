"""rq jobs for housekeeping: retention of personal data, originals orphaned by requests
that died before their commit, public views no write service rendered, and the old rows of
the log of changed reports. The scheduler
hands them out; they run on their own queue, so a slow sweep never holds up the scheduler's
dispatching of notifications."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from backend.services import photos as photo_service
from backend.services import privacy
from backend.services.public_map.changes import prune as prune_changes
from backend.services.public_views.store import render_missing
from workers.context import job_context

log = logging.getLogger(__name__)

RETENTION_JOB = "workers.housekeeping_jobs.apply_retention"
ORPHANS_JOB = "workers.housekeeping_jobs.remove_orphan_originals"
VIEWS_JOB = "workers.housekeeping_jobs.render_missing_views"
# Public views rendered per job at most: a big backlog (after an upgrade) is worked off over
# several sweeps rather than in one job that would hit the job timeout.
VIEWS_PER_JOB = 50_000


def apply_retention() -> int:
    """Remove personal data of reports closed longer than the retention period."""
    ctx = job_context()
    with Session(ctx.engine) as session:
        return len(privacy.retention_sweep(session, ctx.storage,
                                           ctx.settings.privacy_retention_days).report_ids)


def remove_orphan_originals() -> int:
    """Delete photo originals no photo row names (requests killed before their commit)."""
    ctx = job_context()
    with Session(ctx.engine) as session:
        return photo_service.sweep_orphan_originals(session, ctx.storage)


def render_missing_views() -> int:
    """Render the public views that are missing (existing reports after the upgrade, reports
    changed by bulk statements; readers render them on the spot meanwhile), and prune the
    log of changed reports that web processes follow."""
    ctx = job_context()
    with Session(ctx.engine) as session:
        rendered = render_missing(session, limit=VIEWS_PER_JOB)
        pruned = prune_changes(session, datetime.now(UTC))
        session.commit()
    if pruned:
        log.info("report change log: pruned %d row(s)", pruned)
    return rendered

"""The reporter's answer to "Is it fixed?": yes closes the report, no reopens it into the same
department's queue one priority higher with the reporter's comment (see the workflow service).
The same answer given twice (a double tap, a retry after the network dropped) changes nothing
the second time, so one "not fixed" is one reopening and one notification to followers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Report, ReportEvent
from backend.queue import JobQueue
from backend.services import recipients, workflow
from backend.workflow import Actor, Status

REPORTER = "reporter"


def answer_fixed(session: Session, token: str, fixed: bool, note: str | None,
                 jobs: JobQueue | None = None) -> Report:
    """Apply the reporter's answer once; returns the report (the reporter is identified by
    the secret tracking token, so no other permission applies)."""
    report = recipients.report_for_token(session, token)
    target = Status.CLOSED if fixed else Status.REOPENED
    if _already_answered(session, report, target):
        return report
    change = workflow.StatusChange(target=target, actor=Actor.REPORTER, actor_name=REPORTER,
                                   public_note=(note or "").strip() or None)
    workflow.change_status(session, report.public_id, change, jobs)
    return report


def _already_answered(session: Session, report: Report, target: Status) -> bool:
    """The report is where this answer puts it, and the reporter's own answer put it there
    (read from the database: the session may hold the report from before a commit)."""
    status, last = session.execute(
        select(Report.status, select(ReportEvent.actor).where(ReportEvent.report_id == report.id,
                                                              ReportEvent.to_status == target.value)
               .order_by(ReportEvent.id.desc()).limit(1).scalar_subquery())
        .where(Report.id == report.id)).one()
    return status == target.value and last == REPORTER

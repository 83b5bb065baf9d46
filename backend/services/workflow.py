"""Status changes: one function enforces the workflow table, appends history, fills the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import Conflict, InvalidInput, NotFound
from backend.models import Notification, PushSubscription, Recipient, Report, ReportEvent
from backend.models.base import utcnow
from backend.permissions import can_change_status
from backend.queue import JobQueue
from backend.services import recipients as recipient_service
from backend.services.city_cache import last_snapshot
from backend.workflow import (
    ALLOWED_TRANSITIONS,
    OUTCOMES,
    RAISED_PRIORITY,
    REPORTER_REOPEN_WINDOW_DAYS,
    Actor,
    Priority,
    RejectReason,
    Status,
)

DELIVER_JOB = "workers.notification_jobs.deliver"


@dataclass(frozen=True)
class StatusChange:
    """What someone wants to happen to a report."""

    target: Status
    actor: Actor
    actor_name: str
    public_note: str | None = None
    internal_note: str | None = None
    reason: RejectReason | None = None
    duplicate_of: str | None = None  # public id of the original
    # Closing as "not our responsibility": who is ({"name": ..., "url": ...}).
    responsible: dict[str, str | None] | None = None


RESPONSIBLE_NAME_MAX = 200
RESPONSIBLE_URL_MAX = 500


def _responsible_problems(change: StatusChange) -> list[str]:
    """What is wrong with the named responsible body (a name; a link only http(s))."""
    if change.reason is None or not any(
            rule.names_responsible and rule.reason == change.reason for rule in OUTCOMES.values()):
        return ["only when closing as not our responsibility"] if change.responsible else []
    name = ((change.responsible or {}).get("name") or "").strip()
    url = ((change.responsible or {}).get("url") or "").strip()
    if not name:
        return ["required: say who is responsible (name, and a link if there is one)"]
    if len(name) > RESPONSIBLE_NAME_MAX or len(url) > RESPONSIBLE_URL_MAX:
        return [f"at most {RESPONSIBLE_NAME_MAX} characters, a link {RESPONSIBLE_URL_MAX}"]
    if url and not url.lower().startswith(("https://", "http://")):
        return ["the link must start with https:// or http://"]
    return []


def check_transition(report: Report, change: StatusChange, original: Report | None) -> None:
    """The workflow rules: allowed move, reasons, notes, the reporter's reopening window."""
    current = Status(report.status)
    if change.target not in ALLOWED_TRANSITIONS[current]:
        raise Conflict(f"A report cannot go from {current.value} to {change.target.value}.",
                       {"status": [f"not allowed from {current.value}"]})
    can_change_status(change.actor, current, change.target)
    if change.target == Status.REJECTED:
        problems: dict[str, list[str]] = {}
        if change.reason is None:
            problems["reason"] = ["required when rejecting"]
        if not (change.public_note or "").strip():
            problems["public_note"] = ["required when rejecting: tell the reporter why"]
        if change.reason == RejectReason.DUPLICATE and original is None:
            problems["duplicate_of"] = ["required for a duplicate: the original report"]
        if original is not None and original.id == report.id:
            problems["duplicate_of"] = ["a report cannot duplicate itself"]
        if responsible := _responsible_problems(change):
            problems["responsible"] = responsible
        if problems:
            raise InvalidInput("The rejection is incomplete.", problems)
    elif change.responsible:
        raise InvalidInput("Only closing as not our responsibility names who is.",
                           {"responsible": ["only when closing as not our responsibility"]})
    if change.target == Status.REOPENED and change.actor == Actor.REPORTER:
        resolved_at = report.resolved_at or report.updated_at
        if utcnow() - resolved_at > timedelta(days=REPORTER_REOPEN_WINDOW_DAYS):
            raise Conflict(
                f"A report can be reopened by its reporter only within "
                f"{REPORTER_REOPEN_WINDOW_DAYS} days of being resolved.",
                {"status": ["the reopening window has passed"]})


def change_status(session: Session, public_id: str, change: StatusChange,
                  jobs: JobQueue | None = None) -> ReportEvent:
    """Apply a status change, append its history event and one outbox row per recipient and
    channel in the same transaction, commit, then hand the deliveries to the workers."""
    report = session.scalar(select(Report).where(Report.public_id == public_id))
    if report is None:
        raise NotFound("No report with this id.", {"id": ["not found"]})
    event, notification_ids = apply_status_change(session, report, change)
    session.commit()
    enqueue_deliveries(jobs, notification_ids)
    return event


def apply_status_change(session: Session, report: Report, change: StatusChange
                        ) -> tuple[ReportEvent, list[int]]:
    """The status change inside the caller's transaction (no commit): history event, report
    columns, outbox rows. Returns the event and the notification ids to hand to workers
    after the caller's commit. Reopening restarts the service-level clock."""
    original = None
    if change.duplicate_of:
        original = session.scalar(select(Report).where(Report.public_id == change.duplicate_of))
        if original is None:
            raise InvalidInput("The original report does not exist.",
                               {"duplicate_of": ["not found"]})
    check_transition(report, change, original)
    now = utcnow()
    event = ReportEvent(report_id=report.id, at=now, actor=change.actor_name,
                        from_status=report.status, to_status=change.target.value,
                        public_note=change.public_note, internal_note=change.internal_note)
    session.add(event)
    report.status, report.updated_at = change.target.value, now
    if change.target == Status.RESOLVED:
        report.resolved_at = now
    if change.target == Status.REOPENED and change.actor == Actor.REPORTER:
        # "Not fixed": back to the same department, one priority higher, counted.
        raised = RAISED_PRIORITY[Priority(report.priority)].value
        if raised != report.priority:
            event.internal_note = "\n".join(filter(None, [
                event.internal_note, f"priority: {report.priority} → {raised}"]))
        report.priority = raised
        report.reporter_reopens = (report.reporter_reopens or 0) + 1
    if change.target == Status.REOPENED:
        report.due_at = last_snapshot(session).due_at(report.priority, now)
    if change.target == Status.REJECTED:
        report.reject_reason = change.reason.value if change.reason else None
        report.duplicate_of_id = original.id if original else None
        report.responsible = _clean_responsible(change.responsible)
    session.flush()
    notification_ids = _fill_outbox(session, report, event, skip_reporter=(
        change.actor == Actor.REPORTER))
    if original is not None:
        recipient_service.move_followers(session, report, original)
    return event, notification_ids


def _clean_responsible(value: dict[str, str | None] | None) -> dict[str, str | None] | None:
    if not value:
        return None
    return {"name": (value.get("name") or "").strip(),
            "url": (value.get("url") or "").strip() or None}


def _fill_outbox(session: Session, report: Report, event: ReportEvent, *,
                 skip_reporter: bool) -> list[int]:
    """One pending notification per recipient and channel for this event."""
    recipient_service.reporter_recipient(session, report)
    rows: list[Notification] = []
    for recipient in session.scalars(select(Recipient).where(Recipient.report_id == report.id)):
        if skip_reporter and recipient.role == recipient_service.REPORTER:
            continue  # they made the change themselves
        if recipient.email and recipient.email_unsubscribed_at is None:
            rows.append(_notification(report, event, recipient, "email", None))
        for sub in session.scalars(select(PushSubscription).where(
                PushSubscription.recipient_id == recipient.id,
                PushSubscription.removed_at.is_(None))):
            rows.append(_notification(report, event, recipient, "push", sub.id))
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def _notification(report: Report, event: ReportEvent, recipient: Recipient, channel: str,
                  subscription_id: int | None) -> Notification:
    now = utcnow()
    return Notification(report_id=report.id, event_id=event.id, recipient_id=recipient.id,
                        channel=channel, push_subscription_id=subscription_id,
                        status="pending", attempts=0, next_attempt_at=now, created_at=now)


def enqueue_deliveries(jobs: JobQueue | None, notification_ids: list[int]) -> None:
    """Hand deliveries to the workers; a lost job is found again by the dispatcher."""
    if jobs is not None:
        jobs.submit_each(DELIVER_JOB, notification_ids, "notify")

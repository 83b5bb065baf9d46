"""What staff do with a report: claim, assign, change the status, resolve (with an after
photo), forward, mark as a duplicate, note. Each is checked by `backend.permissions`, written
to the audit log in the same transaction, and replayed (not repeated) when the same
Idempotency-Key comes again from the same person."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import Conflict, InvalidInput
from backend.media.storage import PhotoStorage
from backend.models import (
    AuditEntry,
    Department,
    Photo,
    Report,
    ReportNote,
    StaffUser,
)
from backend.models.base import utcnow
from backend.notify.texts import duplicate_note
from backend.permissions import (
    ReportAction,
    Role,
    can_see_report,
    require_report_action,
)
from backend.queue import JobQueue
from backend.services import photos as photo_service
from backend.services import workflow
from backend.services.staff.detail import load_report
from backend.workflow import (
    Actor,
    RejectReason,
    Status,
    outcome_of,
)

MAX_AFTER_PHOTOS = 3
@dataclass(frozen=True)
class ActionResult:
    """What an action did: `replayed` when an earlier request with the key had done it."""

    public_id: str
    replayed: bool = False


# An action's work inside the transaction: returns audit details and notification ids.
Work = Callable[[Report], tuple[dict[str, Any], list[int]]]


def audit_entry(user: StaffUser, action: str, report_id: int | None, details: dict | None,
           key: str | None) -> AuditEntry:
    return AuditEntry(at=utcnow(), user_id=user.id, actor=user.username, action=action,
                      report_id=report_id, details=details, idempotency_key=key)


def _replay(session: Session, user: StaffUser, key: str | None, action: str,
            public_id: str) -> ActionResult | None:
    if not key:
        return None
    entry = session.scalar(select(AuditEntry).where(AuditEntry.user_id == user.id,
                                                    AuditEntry.idempotency_key == key))
    if entry is None:
        return None
    report = session.get(Report, entry.report_id) if entry.report_id else None
    if entry.action != action or report is None or report.public_id != public_id:
        raise Conflict("This Idempotency-Key was used for another action.",
                       {"Idempotency-Key": ["already used for another action"]})
    return ActionResult(public_id, replayed=True)


def run_action(session: Session, user: StaffUser, public_id: str, action: ReportAction,
         key: str | None, jobs: JobQueue | None, work: Work,
         cleanup: Callable[[], None] | None = None, audit_as: str | None = None
         ) -> ActionResult:
    """Run one action: replay check, permission, work, audit, commit, then hand out jobs.
    `audit_as` names the audit entry when one permission guards several actions."""
    label = audit_as or action.value
    replay = _replay(session, user, key, label, public_id)
    if replay is not None:
        return replay
    try:
        report = load_report(session, public_id)
        require_report_action(user, report.department_id, action)
        details, notification_ids = work(report)
        session.add(audit_entry(user, label, report.id, details, key))
        session.commit()
    except IntegrityError:
        session.rollback()
        if cleanup:
            cleanup()
        replay = _replay(session, user, key, label, public_id)
        if replay is not None:  # the same key won a race in another request
            return replay
        raise
    except BaseException:
        session.rollback()
        if cleanup:
            cleanup()
        raise
    workflow.enqueue_deliveries(jobs, notification_ids)
    return ActionResult(public_id)


def reporter_contact(session: Session, user: StaffUser, public_id: str) -> dict[str, str | None]:
    """The reporter's e-mail (and name and phone, which Open311 clients may send) for staff of
    the assigned department; every read is audited."""
    report = load_report(session, public_id)
    require_report_action(user, report.department_id, ReportAction.REPORTER)
    session.add(audit_entry(user, "read_reporter_email", report.id, None, None))
    session.commit()
    return {"email": report.reporter_email, "name": report.reporter_name,
            "phone": report.reporter_phone}



def _actor(user: StaffUser) -> str:
    return f"staff:{user.username}"


def claim(session: Session, user: StaffUser, public_id: str, *, key: str | None = None,
          jobs: JobQueue | None = None) -> ActionResult:
    """Assign the report to oneself."""
    def work(report: Report) -> tuple[dict[str, Any], list[int]]:
        previous = report.assigned_to_id
        report.assigned_to_id, report.updated_at = user.id, utcnow()
        return {"previous_assignee": previous}, []
    return run_action(session, user, public_id, ReportAction.CLAIM, key, jobs, work)


def assign(session: Session, user: StaffUser, public_id: str, username: str | None, *,
           key: str | None = None, jobs: JobQueue | None = None) -> ActionResult:
    """Assign the report to someone (or nobody) who can work it."""
    def work(report: Report) -> tuple[dict[str, Any], list[int]]:
        target = None
        if username:
            target = session.scalar(select(StaffUser).where(
                StaffUser.username == username.strip().lower(), StaffUser.active))
            if target is None:
                raise InvalidInput("No such active user.", {"username": ["not found"]})
            if target.role == Role.ANALYST or not can_see_report(target, report.department_id):
                raise InvalidInput("This person cannot work this department's reports.",
                                   {"username": ["not a member of the report's department"]})
        report.assigned_to_id = target.id if target else None
        report.updated_at = utcnow()
        return {"assignee": target.username if target else None}, []
    return run_action(session, user, public_id, ReportAction.ASSIGN, key, jobs, work)


def change_status(session: Session, user: StaffUser, public_id: str, *, status: str,
                  public_note: str | None = None, internal_note: str | None = None,
                  reason: str | None = None, duplicate_of: str | None = None,
                  responsible: dict[str, str | None] | None = None,
                  key: str | None = None, jobs: JobQueue | None = None) -> ActionResult:
    """Any workflow transition staff may make (the workflow service checks the rules),
    including closing with an outcome: not fixed, or not ours (saying whose it is)."""
    change = _status_change(user, status, public_note, internal_note, reason, duplicate_of,
                            responsible)

    def work(report: Report) -> tuple[dict[str, Any], list[int]]:
        event, ids = workflow.apply_status_change(session, report, change)
        if change.target == Status.IN_PROGRESS and report.assigned_to_id is None:
            report.assigned_to_id = user.id  # who starts it, has it
        details: dict[str, Any] = {"from": event.from_status, "to": event.to_status}
        outcome = outcome_of(report.status, report.reject_reason)
        if outcome is not None and change.target == Status.REJECTED:
            details["outcome"] = outcome.value
        if report.responsible:
            details["responsible"] = report.responsible
        return details, ids
    return run_action(session, user, public_id, ReportAction.STATUS, key, jobs, work)


def _status_change(user: StaffUser, status: str, public_note: str | None,
                   internal_note: str | None, reason: str | None, duplicate_of: str | None,
                   responsible: dict[str, str | None] | None = None
                   ) -> workflow.StatusChange:
    problems: dict[str, list[str]] = {}
    try:
        target = Status(status)
    except ValueError:
        problems["status"] = [f"one of {', '.join(s.value for s in Status)}"]
    reject_reason = None
    if reason:
        try:
            reject_reason = RejectReason(reason)
        except ValueError:
            problems["reason"] = [f"one of {', '.join(r.value for r in RejectReason)}"]
    if problems:
        raise InvalidInput("The status change is invalid.", problems)
    return workflow.StatusChange(
        target=target, actor=Actor.STAFF, actor_name=_actor(user),
        public_note=(public_note or "").strip() or None,
        internal_note=(internal_note or "").strip() or None,
        reason=reject_reason, duplicate_of=(duplicate_of or "").strip() or None,
        responsible=responsible)


@dataclass(frozen=True)
class AfterPhoto:
    """An "after" photo upload with its limits."""

    data: bytes
    max_bytes: int
    max_pixels: int


def resolve(session: Session, storage: PhotoStorage, user: StaffUser, public_id: str, *,
            public_note: str, photo: AfterPhoto | None = None, key: str | None = None,
            jobs: JobQueue | None = None) -> ActionResult:
    """Mark the report resolved with a public note and an optional "after" photo, which goes
    through the same photo pipeline as citizens' photos (checked, stored, re-encoded)."""
    if not (public_note or "").strip():
        raise InvalidInput("Tell the reporter what was done.",
                           {"public_note": ["required when resolving"]})
    replay = _replay(session, user, key, ReportAction.RESOLVE.value, public_id)
    if replay is not None:
        return replay
    inspected: list[Any] = []
    written: list[str] = []
    if photo is not None:
        session.commit()  # no open transaction during the slow checks and the file write
        inspected = photo_service.inspect_uploads(
            [photo.data], max_bytes=photo.max_bytes, max_pixels=photo.max_pixels, limit=1)
        written = photo_service.store_originals(storage, list(zip(inspected, [photo.data],
                                                                  strict=True)))
    change = _status_change(user, Status.RESOLVED.value, public_note, None, None, None)
    photo_ids: list[int] = []

    def work(report: Report) -> tuple[dict[str, Any], list[int]]:
        event, ids = workflow.apply_status_change(session, report, change)
        if report.assigned_to_id is None:
            report.assigned_to_id = user.id
        if inspected:
            existing = list(session.scalars(select(Photo).where(Photo.report_id == report.id)))
            if sum(1 for p in existing if p.kind == "after") >= MAX_AFTER_PHOTOS:
                raise InvalidInput("This report has enough after photos.",
                                   {"photo": [f"at most {MAX_AFTER_PHOTOS} after photos"]})
            known = {p.original_sha256 for p in existing}
            fresh = [p for p in inspected if p.sha256 not in known]
            rows = photo_service.photo_rows(report.id, fresh, len(existing))
            for row in rows:
                row["kind"] = "after"
            photo_ids.extend(photo_service.insert_photo_rows(session, rows))
        return {"from": event.from_status, "to": event.to_status,
                "after_photos": len(photo_ids)}, ids

    result = run_action(session, user, public_id, ReportAction.RESOLVE, key, jobs, work,
                  cleanup=lambda: photo_service.discard(storage, written))
    if result.replayed or not photo_ids:
        photo_service.discard(storage, written)
    else:
        photo_service.ensure_originals(storage, list(zip(inspected, [photo.data], strict=True))
                                       if photo else [])
    photo_service.enqueue_processing(jobs, photo_ids)
    return result


def forward(session: Session, user: StaffUser, public_id: str, *, department: str,
            reason: str, key: str | None = None, jobs: JobQueue | None = None
            ) -> ActionResult:
    """Hand a misrouted report to another department, with the reason (kept internal)."""
    problems: dict[str, list[str]] = {}
    if not (reason or "").strip():
        problems["reason"] = ["required: say why it is forwarded"]
    target = session.scalar(select(Department).where(Department.code == (department or ""),
                                                     Department.active))
    if target is None:
        problems["department"] = ["not an active department"]
    if problems:
        raise InvalidInput("The forwarding is incomplete.", problems)
    assert target is not None

    def work(report: Report) -> tuple[dict[str, Any], list[int]]:
        if report.department_id == target.id:
            raise InvalidInput("The report is in this department already.",
                               {"department": ["the report's current department"]})
        source = session.get(Department, report.department_id)
        report.department_id, report.assigned_to_id = target.id, None
        report.updated_at = utcnow()
        session.add(ReportNote(report_id=report.id, user_id=user.id, author=user.display_name,
                               text=f"→ {target.code}: {reason.strip()}", at=utcnow()))
        return {"from": source.code if source else None, "to": target.code,
                "reason": reason.strip()}, []
    return run_action(session, user, public_id, ReportAction.FORWARD, key, jobs, work)


def mark_duplicate(session: Session, user: StaffUser, public_id: str, *, of: str,
                   public_note: str | None = None, key: str | None = None,
                   jobs: JobQueue | None = None) -> ActionResult:
    """Reject as a duplicate of another report; its followers move to the original."""
    def work(report: Report) -> tuple[dict[str, Any], list[int]]:
        original = session.scalar(select(Report).where(Report.public_id == (of or "").strip()))
        if original is None or not can_see_report(user, original.department_id):
            raise InvalidInput("The original report does not exist.", {"of": ["not found"]})
        note = (public_note or "").strip() or duplicate_note(report.reporter_locale,
                                                             original.public_id)
        change = _status_change(user, Status.REJECTED.value, note, None,
                                RejectReason.DUPLICATE.value, original.public_id)
        event, ids = workflow.apply_status_change(session, report, change)
        return {"of": original.public_id, "from": event.from_status}, ids
    return run_action(session, user, public_id, ReportAction.DUPLICATE, key, jobs, work)


def add_note(session: Session, user: StaffUser, public_id: str, *, text: str,
             key: str | None = None, jobs: JobQueue | None = None) -> ActionResult:
    """An internal note (never shown to the public or the reporter)."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("The note is empty.", {"text": ["required"]})
    if len(text) > 4000:
        raise InvalidInput("The note is too long.", {"text": ["at most 4000 characters"]})

    def work(report: Report) -> tuple[dict[str, Any], list[int]]:
        session.add(ReportNote(report_id=report.id, user_id=user.id, author=user.display_name,
                               text=text, at=utcnow()))
        return {"length": len(text)}, []
    return run_action(session, user, public_id, ReportAction.NOTE, key, jobs, work)

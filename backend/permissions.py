"""Who may do what, named after what each check guards (one place for all of them)."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from backend.errors import DomainError, NotFound
from backend.workflow import ALLOWED_TRANSITIONS, Actor, Status


class Forbidden(DomainError):
    """The actor may not do this."""

    status = 403
    code = "forbidden"


def can_change_status(actor: Actor, current: Status, target: Status) -> None:
    """Guards `change_status`: the workflow table says which actor may make each move."""
    allowed = ALLOWED_TRANSITIONS.get(current, {}).get(target)
    if allowed is not None and actor not in allowed:
        raise Forbidden(
            f"A {actor.value} may not move a report from {current.value} to {target.value}.",
            {"status": [f"not allowed for {actor.value}"]},
        )


class Role(StrEnum):
    """What a staff member does; rights follow from it (and from department membership)."""

    CREW = "crew"
    DISPATCHER = "dispatcher"
    ANALYST = "analyst"
    ADMIN = "admin"


class ReportAction(StrEnum):
    """Everything staff can do to one report."""

    CLAIM = "claim"
    ASSIGN = "assign"
    STATUS = "status"
    RESOLVE = "resolve"
    FORWARD = "forward"
    DUPLICATE = "duplicate"
    NOTE = "note"
    REPORTER = "reporter"  # read the reporter's e-mail address
    ASSET = "asset"  # correct the asset (signal, sign post) the report is about
    PHOTOS = "photos"  # moderate photos: private original, hide, rotate, redact, release


class StaffMember(Protocol):
    """What the checks need to know about a person (a StaffUser row fits)."""

    role: str
    active: bool

    @property
    def department_ids(self) -> frozenset[int]: ...


# Roles that see and work every department's queue (the triage side).
_ALL_DEPARTMENTS = frozenset({Role.DISPATCHER, Role.ADMIN})
_WORKING_ROLES = frozenset({Role.CREW, Role.DISPATCHER, Role.ADMIN})
# Crews work in the field: photo moderation shows unredacted originals and decides what the
# public sees, an office task for triage (least privilege; a crew asks a dispatcher).
_CREW_ACTIONS = frozenset(ReportAction) - {ReportAction.ASSIGN, ReportAction.REPORTER,
                                           ReportAction.ASSET, ReportAction.PHOTOS}


def visible_department_ids(user: StaffMember) -> frozenset[int] | None:
    """Guards the queue: the departments whose reports this person sees (None: all)."""
    if not user.active or user.role not in _WORKING_ROLES:
        return frozenset()
    if user.role in _ALL_DEPARTMENTS:
        return None
    return user.department_ids


def can_see_report(user: StaffMember, department_id: int) -> bool:
    """Guards report details: crew only their departments', dispatchers and admins all."""
    visible = visible_department_ids(user)
    return visible is None or department_id in visible


def report_actions(user: StaffMember, department_id: int) -> frozenset[ReportAction]:
    """Guards every report action: what this person may do to a report of that department."""
    if not can_see_report(user, department_id):
        return frozenset()
    actions = set(_CREW_ACTIONS)
    if user.role in _ALL_DEPARTMENTS:
        actions.add(ReportAction.ASSIGN)
        actions.add(ReportAction.ASSET)  # triage corrects what a report is about
        actions.add(ReportAction.PHOTOS)  # and decides what its photos show the public
    if can_read_reporter_email(user, department_id):
        actions.add(ReportAction.REPORTER)
    return frozenset(actions)


def can_read_reporter_email(user: StaffMember, department_id: int) -> bool:
    """Guards the reporter's e-mail: only staff of the assigned department (and never
    analysts); every read is audited by the caller."""
    return (user.active and user.role in _WORKING_ROLES
            and department_id in user.department_ids)


def require_report_action(user: StaffMember, department_id: int, action: ReportAction) -> None:
    """Raise unless the person may do `action`; a report they may not see at all is 404, so
    its existence is not revealed."""
    if not can_see_report(user, department_id):
        raise NotFound("No report with this id.", {"id": ["not found"]})
    if action not in report_actions(user, department_id):
        raise Forbidden(f"A {user.role} may not {action.value} this report.",
                        {"action": [f"{action.value} not allowed for {user.role}"]})


def require_city_editing(user: StaffMember) -> None:
    """Guards categories, departments and routing rules: dispatchers and admins."""
    if not (user.active and user.role in _ALL_DEPARTMENTS):
        raise Forbidden("Only dispatchers and admins may change the city configuration.")


def require_user_admin(user: StaffMember) -> None:
    """Guards staff accounts: admins only."""
    if not (user.active and user.role == Role.ADMIN):
        raise Forbidden("Only admins may manage staff accounts.")


def require_template_admin(user: StaffMember) -> None:
    """Guards response templates (listing all, creating, changing, deactivating): admins."""
    if not (user.active and user.role == Role.ADMIN):
        raise Forbidden("Only admins may manage response templates.")


def require_delivery_admin(user: StaffMember) -> None:
    """Guards failed deliveries and destination circuits (listing them, retrying): admins."""
    if not (user.active and user.role == Role.ADMIN):
        raise Forbidden("Only admins may see and retry failed deliveries.")


def require_desk_reporting(user: StaffMember) -> None:
    """Guards `file_for_caller` (a report on behalf of a caller): dispatchers and admins.

    Service-desk work is triage's: crews work their queue in the street, and a report filed
    by staff carries the city's word that someone called, so least privilege leaves it out of
    the crew role (a crew member who is told of a defect reports it like anyone else)."""
    if not (user.active and user.role in _ALL_DEPARTMENTS):
        raise Forbidden("Only dispatchers and admins may file a report for a caller.")


def require_asset_history(user: StaffMember) -> None:
    """Guards an asset's report history: crews, dispatchers and admins (each sees the
    reports of the departments they see)."""
    if not (user.active and user.role in _WORKING_ROLES):
        raise Forbidden("Only crews, dispatchers and admins see an asset's reports.")


def require_analytics(user: StaffMember) -> None:
    """Guards aggregates and exports: analysts, dispatchers and admins (not crew)."""
    if not (user.active and user.role in {Role.ANALYST, Role.DISPATCHER, Role.ADMIN}):
        raise Forbidden("Only analysts, dispatchers and admins may read aggregates.")

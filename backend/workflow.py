"""Report statuses and priorities as data (the transition table grows with the workflow issue)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """Where a report stands; each maps to Open311's `open` or `closed`."""

    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    CLOSED = "closed"
    REOPENED = "reopened"


class Priority(StrEnum):
    """How soon a report needs attention, most urgent last."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


OPEN311_STATE: dict[Status, str] = {
    Status.SUBMITTED: "open",
    Status.ACKNOWLEDGED: "open",
    Status.IN_PROGRESS: "open",
    Status.REOPENED: "open",
    Status.RESOLVED: "closed",
    Status.REJECTED: "closed",
    Status.CLOSED: "closed",
}

OPEN_STATUSES: frozenset[Status] = frozenset(s for s, o in OPEN311_STATE.items() if o == "open")
CLOSED_STATUSES: frozenset[Status] = frozenset(Status) - OPEN_STATUSES

INITIAL_STATUS = Status.SUBMITTED


class RejectReason(StrEnum):
    """Why a report is rejected; `duplicate` needs the original report."""

    NOT_RESPONSIBLE = "not_responsible"
    DUPLICATE = "duplicate"
    CANNOT_FIX = "cannot_fix"


class Actor(StrEnum):
    """Who changes a status."""

    STAFF = "staff"
    REPORTER = "reporter"
    SYSTEM = "system"


_STAFF = frozenset({Actor.STAFF})
_WORK_TARGETS = {
    Status.ACKNOWLEDGED: _STAFF, Status.IN_PROGRESS: _STAFF, Status.RESOLVED: _STAFF,
    Status.REJECTED: _STAFF,
}

# The whole workflow: from each status, the statuses it may move to and who may move it.
ALLOWED_TRANSITIONS: dict[Status, dict[Status, frozenset[Actor]]] = {
    Status.SUBMITTED: dict(_WORK_TARGETS),
    Status.ACKNOWLEDGED: {s: a for s, a in _WORK_TARGETS.items() if s != Status.ACKNOWLEDGED},
    Status.IN_PROGRESS: {
        Status.ACKNOWLEDGED: _STAFF, Status.RESOLVED: _STAFF, Status.REJECTED: _STAFF,
    },
    Status.RESOLVED: {
        Status.CLOSED: frozenset({Actor.STAFF, Actor.REPORTER, Actor.SYSTEM}),
        Status.REOPENED: frozenset({Actor.STAFF, Actor.REPORTER}),
    },
    Status.REOPENED: dict(_WORK_TARGETS),
    Status.REJECTED: {},
    Status.CLOSED: {},
}

# A reporter may say "not fixed" only this long after the report was resolved.
REPORTER_REOPEN_WINDOW_DAYS = 14

# The reporter's "not fixed" sends the report back to its department one priority higher.
RAISED_PRIORITY: dict[Priority, Priority] = {
    Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH,
    Priority.HIGH: Priority.URGENT, Priority.URGENT: Priority.URGENT,
}


class Outcome(StrEnum):
    """How a report ended, said honestly: fixed is one outcome among several."""

    FIXED = "fixed"
    NOT_FIXED = "not_fixed"  # closed without a fix (cannot or will not be fixed)
    NOT_RESPONSIBLE = "not_responsible"  # someone else is responsible: the report says who
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class OutcomeRule:
    """What an outcome means: the status it closes with, the rejection reason that picks it,
    whether it counts for (True), against (False) or not at all (None) in the fix rate, and
    whether it must name who is responsible instead."""

    status: Status
    reason: RejectReason | None
    counts_as_fixed: bool | None
    names_responsible: bool = False


OUTCOMES: dict[Outcome, OutcomeRule] = {
    Outcome.FIXED: OutcomeRule(Status.RESOLVED, None, True),
    Outcome.NOT_FIXED: OutcomeRule(Status.REJECTED, RejectReason.CANNOT_FIX, False),
    Outcome.NOT_RESPONSIBLE: OutcomeRule(Status.REJECTED, RejectReason.NOT_RESPONSIBLE, None,
                                         names_responsible=True),
    Outcome.DUPLICATE: OutcomeRule(Status.REJECTED, RejectReason.DUPLICATE, None),
}
# A reporter's "not fixed" counts against the fix rate, however the report ends later.
REPORTER_NOT_FIXED_COUNTS_AS_FIXED = False


def outcome_of(status: str, reject_reason: str | None) -> Outcome | None:
    """A report's outcome from its status and rejection reason (None while it is open)."""
    current = Status(status)
    if current in OPEN_STATUSES:
        return None
    if current in (Status.RESOLVED, Status.CLOSED):
        return Outcome.FIXED  # closed is reached from resolved only
    for outcome, rule in OUTCOMES.items():
        if rule.status == current and rule.reason is not None and rule.reason == reject_reason:
            return outcome
    return Outcome.NOT_FIXED  # a rejection without a known reason fixed nothing


def expand_status_filter(values: list[str]) -> set[Status]:
    """Turn a status filter (statuses, or the Open311 groups `open`/`closed`) into statuses."""
    result: set[Status] = set()
    for value in values:
        if value == "open":
            result |= OPEN_STATUSES
        elif value == "closed":
            result |= CLOSED_STATUSES
        else:
            result.add(Status(value))
    return result

"""Report statuses and priorities as data (the transition table grows with the workflow issue)."""

from __future__ import annotations

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

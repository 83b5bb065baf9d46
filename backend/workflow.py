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

"""Who may do what, named after what each check guards (one place for all of them)."""

from __future__ import annotations

from backend.errors import DomainError
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

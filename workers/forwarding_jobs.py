"""rq jobs of the Open311 client: send one forwarding; pull remote statuses."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.queue import JobQueue
from backend.services import forwarding
from backend.services.destinations.policy import forwarding_policy
from workers.context import job_context


def send_forwarding(forwarding_id: int) -> str:
    """Send one report on to its department's Open311 system; the service records every
    outcome (back-off, circuit, `failed`), so the job itself never fails for a bad peer."""
    ctx = job_context()
    with Session(ctx.engine, expire_on_commit=False) as session:
        return forwarding.send(session, forwarding_id, policy=forwarding_policy(ctx.settings))


def pull_open311_updates() -> int:
    """Bring remote statuses back into our workflow."""
    ctx = job_context()
    with Session(ctx.engine, expire_on_commit=False) as session:
        return forwarding.pull_updates(session, JobQueue(ctx.settings.redis_url),
                                       policy=forwarding_policy(ctx.settings))

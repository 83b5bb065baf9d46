"""The scheduler: find work the queue lost (Redis restarted, a worker died) and hand it
out again; dispatch the notification and forwarding outboxes; pull Open311 statuses; apply
retention; remove photo originals orphaned by requests that died.

The database is the record of what still has to be done; Redis only carries the jobs. Jobs
are idempotent, so handing one out twice costs time, never correctness.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from backend.models.base import utcnow
from backend.queue import JobQueue
from backend.services import deliveries, forwarding
from backend.services import photos as photo_service
from backend.services.workflow import enqueue_deliveries
from backend.settings import Settings
from workers.housekeeping_jobs import ORPHANS_JOB, RETENTION_JOB, VIEWS_JOB

log = logging.getLogger(__name__)

MAX_PHOTO_ATTEMPTS = 8
STALE_AFTER = timedelta(minutes=2)
INTERVAL_S = 60.0
ORPHAN_INTERVAL_S = 3600.0
CLAIM_STALE_AFTER = deliveries.STALE_CLAIM


@dataclass(frozen=True)
class Timing:
    """How often the scheduler works, and after how long work counts as abandoned."""

    dispatch_interval_s: float = 5.0
    sweep_interval_s: float = INTERVAL_S
    photo_stale_after: timedelta = STALE_AFTER
    claim_stale_after: timedelta = CLAIM_STALE_AFTER

    @classmethod
    def from_settings(cls, settings: Settings) -> Timing:
        """The timing the settings ask for (MM_NOTIFY_DISPATCH_INTERVAL_S, …)."""
        return cls(settings.notify_dispatch_interval_s, settings.sweep_interval_s,
                   timedelta(seconds=settings.photo_stale_after_s),
                   timedelta(seconds=settings.claim_stale_after_s))


def sweep(engine: Engine, jobs: JobQueue, *, stale_after: timedelta = STALE_AFTER,
          max_attempts: int = MAX_PHOTO_ATTEMPTS) -> int:
    """Re-enqueue pending photos untouched for `stale_after`; returns how many."""
    with Session(engine) as session:
        given_up = photo_service.give_up_on_exhausted(session, max_attempts)
        if given_up:
            log.warning("%d photo(s) failed %d times and are marked failed", given_up,
                        max_attempts)
        ids = photo_service.pending_photo_ids(session, utcnow() - stale_after, max_attempts)
    photo_service.enqueue_processing(jobs, ids)
    return len(ids)


def dispatch(engine: Engine, jobs: JobQueue, *,
             stale_claim: timedelta = CLAIM_STALE_AFTER) -> int:
    """Hand out due notifications: new ones whose job was lost, retries whose time came, and
    claims older than `stale_claim` (their worker died); and due Open311 forwardings."""
    with Session(engine) as session:
        deliveries.recover_stale_claims(session, stale_claim)
        ids = deliveries.due_notification_ids(session)
    enqueue_deliveries(jobs, ids)
    # Forwarding second, and on its own: its trouble must not hold up citizens' notifications.
    try:
        with Session(engine) as session:
            forwarding.enqueue_due(session, jobs, stale_claim=stale_claim)
    except Exception:  # noqa: BLE001 - logged; the next round tries again
        log.exception("handing out forwardings failed")
    return len(ids)


def pull(jobs: JobQueue) -> None:
    """Ask for remote Open311 statuses (one job at a time: the job id is fixed)."""
    jobs.submit(forwarding.PULL_JOB, job_id="open311-pull", description="open311 pull")


def housekeep(jobs: JobQueue, *, orphans: bool) -> None:
    """Hand out retention, missing public views (and, when `orphans`, the removal of orphaned
    originals) as jobs on the housekeeping queue: a long sweep must never delay the
    dispatching here."""
    jobs.submit(RETENTION_JOB, job_id="housekeeping-retention", description="retention")
    jobs.submit(VIEWS_JOB, job_id="housekeeping-views", description="public views")
    if orphans:
        jobs.submit(ORPHANS_JOB, job_id="housekeeping-orphans", description="orphan originals")


def run_schedule(engine: Engine, jobs: JobQueue, stop: threading.Event, *,
                 timing: Timing = Timing(), heartbeat: Path | None = None) -> None:
    """Dispatch notifications and forwardings every `timing.dispatch_interval_s`; sweep
    photos, pull Open311 statuses and hand out retention every `timing.sweep_interval_s`; the
    removal of orphaned originals hourly; until `stop` is set.

    Touches `heartbeat` after every round that reached the database, so a health check can
    tell a looping scheduler from a stuck one.
    """
    next_sweep = next_orphan_sweep = 0.0
    while not stop.is_set():
        try:
            dispatch(engine, jobs, stale_claim=timing.claim_stale_after)
            if time.monotonic() >= next_sweep:
                sweep(engine, jobs, stale_after=timing.photo_stale_after)
                pull(jobs)
                orphans = time.monotonic() >= next_orphan_sweep
                housekeep(jobs, orphans=orphans)
                if orphans:
                    next_orphan_sweep = time.monotonic() + ORPHAN_INTERVAL_S
                next_sweep = time.monotonic() + timing.sweep_interval_s
            if heartbeat is not None:
                heartbeat.touch()
        except Exception:  # keep going; the next round may succeed
            log.exception("sweep failed")
        stop.wait(timing.dispatch_interval_s)


def start_sweeping(engine: Engine, jobs: JobQueue, timing: Timing = Timing()
                   ) -> threading.Event:
    """`run_schedule` in a daemon thread (the embedded setup's worker); set the returned
    event to stop."""
    stop = threading.Event()
    threading.Thread(target=run_schedule, name="mm-sweeper", daemon=True, args=(
        engine, jobs, stop), kwargs={"timing": timing}).start()
    return stop

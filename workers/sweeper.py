"""Find work the queue lost (Redis restarted, a worker died) and hand it out again.

The database is the record of what still has to be done; Redis only carries the jobs. Jobs
are idempotent, so handing one out twice costs time, never correctness.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from backend.models.base import utcnow
from backend.queue import JobQueue
from backend.services import photos as photo_service

log = logging.getLogger(__name__)

MAX_PHOTO_ATTEMPTS = 8
STALE_AFTER = timedelta(minutes=2)
INTERVAL_S = 60.0


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


def start_sweeping(engine: Engine, jobs: JobQueue, interval_s: float = INTERVAL_S
                   ) -> threading.Event:
    """Sweep now and then every `interval_s` in a daemon thread; set the event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                sweep(engine, jobs)
            except Exception:  # keep sweeping; the next round may succeed
                log.exception("sweep failed")
            stop.wait(interval_s)

    threading.Thread(target=loop, name="mm-sweeper", daemon=True).start()
    return stop

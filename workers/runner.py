"""Run an rq worker on our queues with the JSON serializer, and the scheduler (in the
worker for the embedded setup, or as its own process when workers are scaled out)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

from backend.db.engine import make_engine
from backend.log_format import configure_logging
from backend.media.storage import storage_from_settings
from backend.queue import QUEUE_NAMES, JobQueue, redis_connection
from backend.settings import Settings
from workers.context import configure
from workers.sweeper import run_schedule, start_sweeping


def make_worker(settings: Settings, connection: object | None = None) -> Worker:
    """A worker on every queue, most urgent first, whose jobs use these settings."""
    # Import the job modules (Pillow, pywebpush, …) once here: rq forks a work horse per job,
    # and a horse that inherits them starts in milliseconds instead of importing them again.
    import workers.analytics_jobs  # noqa: F401
    import workers.forwarding_jobs  # noqa: F401
    import workers.notification_jobs  # noqa: F401
    import workers.photo_jobs  # noqa: F401

    configure(settings)
    conn = connection or redis_connection(settings.redis_url)
    # Jobs run in the worker process itself, not in a forked horse per job: they then share
    # one database pool and skip a fork, which made notification delivery ~5x faster. A job
    # that crashes the process is not lost: the database records what is pending, and the
    # sweeper hands it out again after the supervisor restarts the worker.
    return SimpleWorker(list(QUEUE_NAMES), connection=conn, serializer=JSONSerializer)


def run_worker(settings: Settings, *, with_scheduler: bool = True) -> None:
    """Work until stopped (SIGTERM finishes the current job first); with the scheduler in a
    thread unless it runs as its own process (`maengelmelder scheduler`)."""
    configure_logging(settings.log_level, settings.log_format)  # rq's lines too, scrubbed
    worker = make_worker(settings)
    stop = None
    if with_scheduler:
        stop = start_sweeping(make_engine(settings.database_url), JobQueue(settings.redis_url),
                              dispatch_interval_s=settings.notify_dispatch_interval_s,
                              storage=storage_from_settings(settings),
                              retention_days=settings.privacy_retention_days)
    try:
        # rq's own scheduler moves delayed jobs (retries with backoff) to their queues; it
        # takes a lock in Redis, so one worker of many does it at a time.
        worker.work(with_scheduler=True)
    finally:
        if stop is not None:
            stop.set()


def scheduler_heartbeat(settings: Settings) -> Path:
    """The file the scheduler touches after every round (read by its health check)."""
    return Path(settings.data_dir) / "scheduler.alive"


def run_scheduler(settings: Settings) -> None:
    """The scheduler in the foreground until SIGTERM or SIGINT."""
    configure_logging(settings.log_level, settings.log_format)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    heartbeat = scheduler_heartbeat(settings)
    heartbeat.parent.mkdir(parents=True, exist_ok=True)
    run_schedule(make_engine(settings.database_url), JobQueue(settings.redis_url), stop,
                 dispatch_interval_s=settings.notify_dispatch_interval_s,
                 storage=storage_from_settings(settings),
                 retention_days=settings.privacy_retention_days, heartbeat=heartbeat)

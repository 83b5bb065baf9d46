"""Run an rq worker on our queues with the JSON serializer, plus the lost-work sweeper."""

from __future__ import annotations

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

from backend.db.engine import make_engine
from backend.media.storage import storage_from_settings
from backend.queue import QUEUE_NAMES, JobQueue, redis_connection
from backend.settings import Settings
from workers.context import configure
from workers.sweeper import start_sweeping


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


def run_worker(settings: Settings) -> None:
    """Work until stopped (SIGTERM finishes the current job first), sweeping meanwhile."""
    worker = make_worker(settings)
    stop = start_sweeping(make_engine(settings.database_url), JobQueue(settings.redis_url),
                          dispatch_interval_s=settings.notify_dispatch_interval_s,
                          retention=(storage_from_settings(settings),
                                     settings.privacy_retention_days))
    try:
        worker.work(with_scheduler=True)
    finally:
        stop.set()

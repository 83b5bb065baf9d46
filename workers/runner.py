"""Run an rq worker on our queues with the JSON serializer, plus the lost-work sweeper."""

from __future__ import annotations

from rq import Worker
from rq.serializers import JSONSerializer

from backend.db.engine import make_engine
from backend.queue import QUEUE_NAMES, JobQueue, redis_connection
from backend.settings import Settings
from workers.context import configure
from workers.sweeper import start_sweeping


def make_worker(settings: Settings, connection: object | None = None) -> Worker:
    """A worker on every queue, most urgent first, whose jobs use these settings."""
    configure(settings)
    conn = connection or redis_connection(settings.redis_url)
    return Worker(list(QUEUE_NAMES), connection=conn, serializer=JSONSerializer)


def run_worker(settings: Settings) -> None:
    """Work until stopped (SIGTERM finishes the current job first), sweeping meanwhile."""
    worker = make_worker(settings)
    stop = start_sweeping(make_engine(settings.database_url), JobQueue(settings.redis_url),
                          dispatch_interval_s=settings.notify_dispatch_interval_s)
    try:
        worker.work(with_scheduler=True)
    finally:
        stop.set()

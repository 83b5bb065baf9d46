"""Run an rq worker on our queues with the JSON serializer."""

from __future__ import annotations

from rq import Worker
from rq.serializers import JSONSerializer

from backend.queue import QUEUE_NAMES, redis_connection
from backend.settings import Settings


def make_worker(settings: Settings, connection: object | None = None) -> Worker:
    """A worker on every queue, most urgent first."""
    conn = connection or redis_connection(settings.redis_url)
    return Worker(list(QUEUE_NAMES), connection=conn, serializer=JSONSerializer)


def run_worker(settings: Settings) -> None:
    """Work until stopped (SIGTERM finishes the current job first)."""
    make_worker(settings).work(with_scheduler=True)

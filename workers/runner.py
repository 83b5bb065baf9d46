"""Run an rq worker on chosen queues with the JSON serializer, and the scheduler (in the
worker for the embedded setup, or as its own process when workers are scaled out)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from resource import struct_rusage
from types import FrameType
from typing import Any

from rq import Queue, Worker
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.worker import WorkerStatus

from backend.db.engine import make_engine
from backend.log_format import configure_logging
from backend.queue import (
    LEGACY_QUEUE_NAMES,
    POLICIES,
    QUEUE_NAMES,
    JobQueue,
    plain_client,
    redis_connection,
)
from backend.settings import Settings
from workers.context import configure
from workers.isolation import TimeLimit, apply_limits, death, die_with_parent, killed_handlers
from workers.sweeper import Timing, run_schedule, start_sweeping

log = logging.getLogger(__name__)


class QueueWorker(Worker):
    """A worker that runs each job as its queue's policy says.

    Network-bound jobs (notifications, forwarding) run in the worker process itself: they
    share one database pool and skip a fork (about 5× faster delivery), and the database
    keeps their state, so a crash loses nothing. Jobs that may exhaust memory or time
    (photos, exports, housekeeping) run in a forked horse with limits; one that dies there is
    recorded with its reason and never blocks the jobs behind it.
    """

    death_penalty_class = TimeLimit
    server: object | None = None  # an embedded Redis client: keeps its server up meanwhile

    def __init__(self, queues: Sequence[Queue], *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(queues, work_horse_killed_handler=self._horse_killed, **kwargs)
        self.settings = settings
        self._handlers = killed_handlers()

    def subscribe(self) -> None:
        """rq's command channel, polled each second: redis-py joins this thread when the
        worker stops, and with rq's 60 s poll a stopping worker could hang for a minute."""
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler)

    def time_limit(self, queue_name: str, job: Job) -> int:
        """The time limit of a job on `queue_name` (photos: the setting)."""
        if queue_name == "photos":
            return self.settings.photo_job_timeout_s
        policy = POLICIES.get(queue_name)
        return int(job.timeout or (policy.timeout_s if policy else 300))

    def execute_job(self, job: Job, queue: Queue) -> None:
        policy = POLICIES.get(queue.name)
        if policy is None or not policy.isolated:
            execution = self.prepare_execution(job)
            self.perform_job(job, queue, execution)
            self.set_state(WorkerStatus.IDLE)
            return
        job.timeout = self.time_limit(queue.name, job)
        super().execute_job(job, queue)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        apply_limits(cpu_s=int(job.timeout or 0), memory_mb=self.settings.job_memory_limit_mb)
        super().main_work_horse(job, queue)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        if job.timeout == -1:
            return super().get_heartbeat_ttl(job, working_time)
        return int(job.timeout or 300) + 60

    def _horse_killed(self, job: Job, _pid: int, wait_status: int,
                      _rusage: struct_rusage) -> None:
        elapsed = 0.0
        if job.started_at is not None:
            from rq.utils import now

            elapsed = (now() - job.started_at).total_seconds()
        end = death(wait_status, elapsed, int(job.timeout or 0))
        log.warning("job %s (%s) died: %s", job.id, job.func_name, end.reason)
        handler = self._handlers.get(job.func_name)
        if handler is None:
            return
        try:
            handler(list(job.args), end)
        except Exception:  # noqa: BLE001 - the job's own retry or the sweeper takes over
            log.exception("recording the death of job %s failed", job.id)


def rq_log_level(level: str) -> str:
    """rq's own loggers log every job's start and end at INFO: thousands of lines an hour
    that say nothing an operator acts on. They speak from WARNING up, unless the app logs at
    DEBUG. Failures (and our one line per state change) still show."""
    return "DEBUG" if level.upper() == "DEBUG" else "WARNING"


def make_worker(settings: Settings, connection: object | None = None,
                queue_names: Sequence[str] = QUEUE_NAMES) -> Worker:
    """A worker on `queue_names` (default: every queue), most urgent first, then the queues
    of earlier versions; its jobs use these settings."""
    # Import the job modules (Pillow, pywebpush, …) once here: a forked horse that inherits
    # them starts in milliseconds instead of importing them again.
    import workers.analytics_jobs  # noqa: F401
    import workers.forwarding_jobs  # noqa: F401
    import workers.housekeeping_jobs  # noqa: F401
    import workers.notification_jobs  # noqa: F401
    import workers.photo_jobs  # noqa: F401

    configure(settings)
    if any(name in queue_names for name in ("photos", *LEGACY_QUEUE_NAMES)):
        workers.photo_jobs.preload_detectors(settings)
    server = connection or redis_connection(settings.redis_url)
    conn = plain_client(server)
    names = [n for n in QUEUE_NAMES if n in queue_names]
    if tuple(names) == QUEUE_NAMES:
        names += LEGACY_QUEUE_NAMES  # jobs enqueued before an upgrade still run
    worker = QueueWorker([Queue(n, connection=conn, serializer=JSONSerializer) for n in names],
                         settings=settings, connection=conn, serializer=JSONSerializer)
    worker.server = server
    return worker


def run_worker(settings: Settings, *, with_scheduler: bool = True,
               queue_names: Sequence[str] = QUEUE_NAMES) -> None:
    """Work until stopped (SIGTERM finishes the current job first); with the scheduler in a
    thread unless it runs as its own process (`maengelmelder scheduler`)."""
    configure_logging(settings.log_level, settings.log_format)  # rq's lines too, scrubbed
    os.register_at_fork(after_in_child=die_with_parent)
    worker = make_worker(settings, queue_names=queue_names)
    stop = None
    if with_scheduler:
        stop = start_sweeping(make_engine(settings.database_url), JobQueue(settings.redis_url),
                              Timing.from_settings(settings))
    try:
        # rq's own scheduler moves delayed jobs (retries with backoff) to their queues; it
        # takes a lock in Redis, so one worker of many does it at a time.
        worker.work(with_scheduler=True, logging_level=rq_log_level(settings.log_level))
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
                 timing=Timing.from_settings(settings), heartbeat=heartbeat)

"""Liveness of the background processes, for container health checks."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from rq import Worker
from rq.serializers import JSONSerializer

from backend.queue import redis_connection

SCHEDULER_STALE_S = 180.0


def worker_problem(redis_url: str, hostname: str | None = None) -> str | None:
    """None when an rq worker of this host is registered in Redis (rq drops a worker whose
    heartbeats stop); otherwise what is wrong."""
    hostname = hostname or socket.gethostname()
    try:
        workers = Worker.all(connection=redis_connection(redis_url), serializer=JSONSerializer)
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return f"Redis unreachable: {type(exc).__name__}"
    if any(worker.hostname == hostname for worker in workers):
        return None
    return f"no worker of host {hostname} is registered"


def scheduler_problem(heartbeat: Path, stale_after_s: float = SCHEDULER_STALE_S) -> str | None:
    """None when the scheduler finished a round within `stale_after_s`."""
    try:
        age = time.time() - heartbeat.stat().st_mtime
    except FileNotFoundError:
        return "the scheduler has not finished a round yet"
    if age > stale_after_s:
        return f"the scheduler's last round ended {age:.0f} s ago"
    return None

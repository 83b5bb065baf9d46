"""Poison jobs: run a job that may exhaust memory or time (a photo, an export) in a forked
process with limits, and tell the job's kind why it died when the limits killed it.

The limits are set in the forked work horse only: address space (the worker's own size plus
`MM_JOB_MEMORY_LIMIT_MB`, so a huge decode raises MemoryError instead of waking the OOM
killer) and CPU time (the kernel ends a horse stuck in C code, where rq's alarm cannot reach).
rq's own alarm ends a horse that is slow in Python; its parent kills one stuck elsewhere at
the time limit plus 60 s.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rq.timeouts import JobTimeoutException, UnixSignalDeathPenalty

log = logging.getLogger(__name__)

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# Signals after which running the same job again would end the same way.
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT}


class TimeLimitExceeded(BaseException):  # noqa: N818 - it is not an error of the job's own
    """A job ran past its time limit. A BaseException, so that no `except Exception` in the
    job's own code (e.g. the decoders' "anything means a damaged file") mistakes it for the
    job's failure."""


class TimeLimit(UnixSignalDeathPenalty):
    """rq's alarm for a job's time limit, raising `TimeLimitExceeded` (other alarms, such as
    the parent's horse monitoring, keep their own exceptions)."""

    def __init__(self, timeout: Any, exception: type[BaseException] = JobTimeoutException,
                 **kwargs: Any) -> None:
        if exception is JobTimeoutException:
            exception = TimeLimitExceeded
        super().__init__(timeout, exception, **kwargs)


def address_space_bytes() -> int:
    """This process's virtual size now."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[0]) * PAGE_SIZE


def apply_limits(*, cpu_s: int, memory_mb: int) -> None:
    """Limit this (forked) process: `cpu_s` seconds of CPU, `memory_mb` more address space."""
    # No core dump: it would take long to write, and would hold a citizen's photo.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if cpu_s > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
    if memory_mb > 0:
        limit = address_space_bytes() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@dataclass(frozen=True)
class Death:
    """Why a work horse ended abnormally, and whether trying again could help."""

    reason: str
    final: bool


def death(wait_status: int | None, elapsed_s: float, timeout_s: int) -> Death:
    """Explain a horse's exit status (from `waitpid`) after `elapsed_s` of a `timeout_s`
    limit: the limits and crashes are final; a kill from outside (an operator, the OOM
    killer) is not, and the job's kind retries."""
    if wait_status is not None and os.WIFSIGNALED(wait_status):
        number = os.WTERMSIG(wait_status)
        name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
        if number == signal.SIGXCPU:
            return Death(f"stopped after {timeout_s} s of processing time (the limit)", True)
        if elapsed_s >= timeout_s:
            return Death(f"stopped after {elapsed_s:.0f} s (the limit is {timeout_s} s)", True)
        if number in CRASH_SIGNALS:
            return Death(f"processing crashed ({name})", True)
        return Death(f"processing was interrupted ({name})", False)
    code = os.WEXITSTATUS(wait_status) if wait_status is not None else None
    return Death(f"processing ended unexpectedly (exit status {code})", False)


KilledHandler = Callable[[list, Death], None]


def killed_handlers() -> dict[str, KilledHandler]:
    """What each job function does when its horse was killed: record the reason where
    staff and the citizen see it (by the function's dotted name)."""
    from workers import photo_jobs

    return {"workers.photo_jobs.process_photo": photo_jobs.after_kill}


def die_with_parent() -> None:
    """In a forked child (a horse, rq's scheduler process): end when the worker that forked
    it dies. A worker killed with SIGKILL cannot stop them itself, and an orphaned scheduler
    process would live on, holding its connections, until the machine restarts (Linux only;
    elsewhere nothing happens)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() == 1:  # the parent died before the line above
        os.kill(os.getpid(), signal.SIGTERM)

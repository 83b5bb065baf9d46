"""Poison jobs: a job that hangs (in Python or in C) or exhausts memory is stopped at its
limit, recorded with the reason, and the jobs behind it still run — with real photos, a real
Redis, and both database backends where a database is involved."""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from PIL import Image
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.models import Photo, Report
from backend.queue import enqueue, redis_connection
from backend.settings import Settings
from tests.backend.api.helpers import MARIENPLATZ, REPORTS_URL
from tests.conftest import base_settings
from tests.shared_data import shared_data_dir
from tests.workers import jobs_for_tests
from workers import photo_jobs
from workers.isolation import Death, death
from workers.runner import make_worker

APPEND = "tests.workers.jobs_for_tests.append_json"


def _status(sig: int) -> int:
    """A wait status as waitpid reports a death by `sig`."""
    return sig & 0x7F


@pytest.mark.parametrize(("wait_status", "elapsed", "expected"), [
    (_status(signal.SIGXCPU), 3.0, Death("stopped after 10 s of processing time (the limit)",
                                         True)),
    (_status(signal.SIGKILL), 75.0, Death("stopped after 75 s (the limit is 10 s)", True)),
    (_status(signal.SIGSEGV), 1.0, Death("processing crashed (SIGSEGV)", True)),
    (_status(signal.SIGKILL), 1.0, Death("processing was interrupted (SIGKILL)", False)),
    (1 << 8, 1.0, Death("processing ended unexpectedly (exit status 1)", False)),
])
def test_a_dead_horse_is_explained_and_only_limits_and_crashes_are_final(
    wait_status: int, elapsed: float, expected: Death
) -> None:
    assert death(wait_status, elapsed, 10) == expected


# --------------------------------------------------------------- jobs without a database


@pytest.fixture
def worker_settings(redis_server: Any, tmp_path: Path) -> Settings:
    return base_settings(f"sqlite:///{tmp_path}/unused.sqlite", tmp_path,
                         redis_url=redis_server.url, photo_job_timeout_s=2,
                         job_memory_limit_mb=256)


@pytest.fixture
def connection(worker_settings: Settings) -> Any:
    conn = redis_connection(worker_settings.redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()


def _lines(path: Path) -> list[Any]:
    if not path.exists():
        return []
    return [json.loads(line)["payload"] for line in path.read_text().splitlines()]


@pytest.mark.parametrize("poison", [
    pytest.param(("spin_in_c", "started"), id="hang-in-C"),
    pytest.param(("sleep", 600), id="hang-in-Python"),
    pytest.param(("allocate", 1024), id="out-of-memory"),
])
def test_a_poison_photo_job_is_stopped_and_the_photos_behind_it_run(
    worker_settings: Settings, connection: redis.Redis, tmp_path: Path, poison: tuple,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name, argument = poison
    if argument == "started":
        argument = str(tmp_path / "started")
    out = tmp_path / "out.jsonl"
    bad = enqueue(connection, getattr(jobs_for_tests, name), argument, queue_name="photos",
                  retry=None)
    for n in range(3):
        enqueue(connection, APPEND, str(out), f"behind-{n}", queue_name="photos")

    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert make_worker(worker_settings).work(burst=True) is True
    elapsed = time.monotonic() - started

    assert _lines(out) == ["behind-0", "behind-1", "behind-2"]
    assert elapsed < 15, elapsed  # the limit is 2 s; the parent's last resort would be 62 s
    job = Job.fetch(bad.id, connection=connection, serializer=JSONSerializer)
    assert job.get_status() == "failed"
    if name == "spin_in_c":  # only the kernel's CPU limit reaches C code
        assert any("stopped after 2 s of processing time" in r.getMessage()
                   for r in caplog.records)
    elif name == "sleep":
        assert "TimeLimitExceeded" in (job.latest_result().exc_string or "")
    else:
        assert "MemoryError" in (job.latest_result().exc_string or "")


def test_cheap_jobs_run_in_the_worker_and_heavy_ones_in_a_forked_horse(
    worker_settings: Settings, connection: redis.Redis, tmp_path: Path,
) -> None:
    out = tmp_path / "pids.jsonl"
    for name in ("photos", "notify", "forward", "export", "housekeeping"):
        enqueue(connection, "tests.workers.jobs_for_tests.append_pid", str(out), name,
                queue_name=name)
    make_worker(worker_settings).work(burst=True)
    pids = {line["payload"]: line["pid"] for line in
            (json.loads(text) for text in out.read_text().splitlines())}
    me = os.getpid()
    assert pids["notify"] == pids["forward"] == me
    assert all(pids[name] != me for name in ("photos", "export", "housekeeping"))


# --------------------------------------------------------------- real photos, both backends


def _big_png() -> bytes:
    """A real 49-megapixel PNG: 160 KB on the wire, ~150 MB once decoded (a panorama, or a
    decompression bomb just below the pixel limit)."""
    buffer = io.BytesIO()
    Image.new("RGB", (7000, 7000), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _post(client: Any, settings: Settings, name: str, data: bytes) -> str:
    """Report with one photo; the photo's public id."""
    lon, lat = MARIENPLATZ
    response = client.post(REPORTS_URL, content_type="multipart/form-data", data={
        "category": "ampel-ausfall", "lat": str(lat), "lon": str(lon),
        "description": "Ampel dunkel.", "photos": [(io.BytesIO(data), name)]})
    assert response.status_code == 201, response.get_data(as_text=True)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return session.scalars(select(Photo.public_id).join(
                Report, Report.id == Photo.report_id).where(
                Report.public_id == response.get_json()["id"])).one()
    finally:
        engine.dispose()


def _photos(settings: Settings) -> dict[str, tuple[str, str | None]]:
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return {p: (s, r) for p, s, r in session.execute(
                select(Photo.public_id, Photo.status, Photo.failure_reason))}
    finally:
        engine.dispose()


def _work_burst(settings: Settings) -> None:
    if not make_worker(settings).work(burst=True):
        raise SystemExit(1)


def test_a_photo_that_needs_more_memory_than_allowed_fails_with_the_reason(
    app_with: Any,
) -> None:
    app, settings = app_with(job_memory_limit_mb=96)
    client = app.test_client()
    huge = _post(client, settings, "panorama.png", _big_png())
    normal = _post(client, settings, "canon.jpg",
                   (shared_data_dir() / "photos" / "cameras" / "Canon_40D.jpg").read_bytes())

    # The worker runs in a process of its own, as in production. Its horses are forks of it:
    # forked from this long test session instead, whose heap holds hundreds of MB of freed
    # memory, the decode would reuse that without growing the address space, and the limit
    # (the worker's address space + 96 MiB) would not stop it.
    worker = multiprocessing.get_context("spawn").Process(target=_work_burst, args=(settings,))
    worker.start()
    worker.join(timeout=120)
    assert worker.exitcode == 0

    photos = _photos(settings)
    assert photos[normal] == ("ready", None)
    assert photos[huge] == ("failed", "needs more memory than the limit (96 MiB)")
    # A later copy of its job (a retry rq scheduled, the sweeper) leaves it as it is.
    make_worker(settings)  # the jobs' settings, in this process
    assert photo_jobs.process_photo(_row_id(settings, huge)) == "failed"


def test_a_photo_whose_horse_was_killed_at_its_limit_is_failed_with_the_reason(
    app_with: Any,
) -> None:
    app, settings = app_with()
    photo = _post(app.test_client(), settings, "canon.jpg",
                  (shared_data_dir() / "photos" / "cameras" / "Canon_40D.jpg").read_bytes())
    row = _row_id(settings, photo)
    from workers.context import configure

    configure(settings)
    photo_jobs.after_kill([row], Death("processing was interrupted (SIGKILL)", False))
    assert _photos(settings)[photo] == ("pending", "processing was interrupted (SIGKILL)")
    photo_jobs.after_kill([row], Death("stopped after 120 s of processing time (the limit)",
                                       True))
    assert _photos(settings)[photo] == (
        "failed", "stopped after 120 s of processing time (the limit)")


def _row_id(settings: Settings, public_id: str) -> int:
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return session.scalar(select(Photo.id).where(Photo.public_id == public_id))
    finally:
        engine.dispose()

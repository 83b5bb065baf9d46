"""Photo processing jobs: idempotent, failing cleanly, and recovered after lost work.

Every test runs on SpatiaLite and PostGIS (through the `backend` fixture) with a real Redis.
"""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, make_url, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.media.storage import FilesystemStorage
from backend.models import Photo, PhotoDerivative, Report
from backend.queue import QUEUE_NAMES, JobQueue, queue
from backend.services import photos as photo_service
from backend.services import submissions
from backend.services.reports import NewReport
from backend.settings import Settings
from tests.backend.api.helpers import MARIENPLATZ, REPORTS_URL
from tests.shared_data import shared_data_dir
from workers import context as job_context
from workers import photo_jobs
from workers.runner import make_worker
from workers.sweeper import MAX_PHOTO_ATTEMPTS, sweep

REPO_ROOT = Path(__file__).resolve().parents[2]
CLOSED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
IPHONE_HEIC = "mobile/iphone_13_pro_max.HEIC"  # ~1 s to inspect and render
CANON = "cameras/Canon_40D.jpg"
NIKON = "cameras/Nikon_D70.jpg"
TUSCANY = "gps/DSCN0010.jpg"


# --------------------------------------------------------------------------- helpers


@cache
def photo_bytes(name: str) -> bytes:
    """A sample photo from ../shared/data/photos (skips when the shared data is absent)."""
    return (shared_data_dir() / "photos" / name).read_bytes()


def submit(client: Any, names: list[str]) -> dict[str, Any]:
    """Create a report at Marienplatz with these sample photos; the decoded 201 body."""
    lon, lat = MARIENPLATZ
    response = client.post(REPORTS_URL, content_type="multipart/form-data", data={
        "category": "ampel-ausfall", "lat": str(lat), "lon": str(lon),
        "description": "Ampel dunkel, Foto anbei.",
        "photos": [(io.BytesIO(photo_bytes(n)), Path(n).name) for n in names],
    })
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


@dataclass(frozen=True)
class PhotoState:
    """A photo row as read at one moment."""

    id: int
    status: str
    attempts: int
    failure_reason: str | None
    original_key: str | None
    derivatives: list[tuple[str, str, str]]  # (name, format, sha256), sorted


def photo_state(engine: Engine, public_id: str) -> PhotoState:
    """Read a photo in a short transaction of its own (a SpatiaLite one holds the write lock)."""
    with Session(engine) as session:
        photo = session.scalars(select(Photo).where(Photo.public_id == public_id)).one()
        derivatives = sorted((name, fmt, sha) for name, fmt, sha in session.execute(
            select(PhotoDerivative.name, PhotoDerivative.format, PhotoDerivative.sha256)
            .where(PhotoDerivative.photo_id == photo.id)))
        return PhotoState(photo.id, photo.status, photo.attempts, photo.failure_reason,
                          photo.original_key, derivatives)


def peek_photo(settings: Settings, public_id: str) -> tuple[str, int]:
    """(status, attempts) without taking any lock: a SpatiaLite transaction through our engine
    begins IMMEDIATE and would wait for a worker's open transaction."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT status, attempts FROM photo WHERE public_id = ?",
                               (public_id,)).fetchone()
        finally:
            conn.close()
        return row[0], row[1]
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(Photo.status, Photo.attempts)
                               .where(Photo.public_id == public_id)).one()
        return row[0], row[1]
    finally:
        engine.dispose()


def stored(settings: Settings, prefix: str = "") -> list[str]:
    """Files under the media root (relative keys, temporary files included)."""
    root = Path(settings.media_root)
    return sorted(key for key in (str(p.relative_to(root)) for p in root.rglob("*")
                                  if p.is_file()) if key.startswith(prefix))


def run_jobs(settings: Settings) -> None:
    """Run every queued job in a burst worker (a forked work horse per job)."""
    assert make_worker(settings).work(burst=True) is True


def queued_jobs(redis_url: str) -> int:
    jobs = JobQueue(redis_url)
    return sum(queue(jobs.connection, name).count for name in QUEUE_NAMES)


def public_photos(client: Any, report_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{REPORTS_URL}/{report_id}")
    assert response.status_code == 200
    return response.get_json()["photos"]


@pytest.fixture
def in_process_jobs(settings: Settings) -> Iterator[None]:
    """Let this process call the job functions directly, with the test's settings."""
    job_context.configure(settings)
    yield
    job_context.dispose()


# --------------------------------------------------------------------------- idempotence


def test_running_the_job_again_on_a_ready_photo_changes_nothing(
    client: Any, settings: Settings, engine: Engine
) -> None:
    body = submit(client, [TUSCANY])
    public_id = body["uploads"][0]["id"]
    run_jobs(settings)
    first = photo_state(engine, public_id)
    files = stored(settings)
    assert first.status == "ready"
    assert len(first.derivatives) == 4

    assert JobQueue(settings.redis_url).submit(photo_service.PROCESS_JOB, first.id,
                                               job_id=f"photo-{first.id}")
    run_jobs(settings)

    second = photo_state(engine, public_id)
    assert second.attempts == first.attempts + 1  # the job did run
    assert (second.status, second.derivatives, second.original_key, second.failure_reason) \
        == (first.status, first.derivatives, first.original_key, first.failure_reason)
    assert stored(settings) == files
    assert len(public_photos(client, body["id"])) == 1


def test_rendering_the_same_photo_twice_gives_the_same_derivatives(
    app_with: Callable[..., tuple[Flask, Settings]], engine: Engine
) -> None:
    # The original is kept so that a second run really renders again.
    app, cfg = app_with(keep_photo_originals=True)
    client = app.test_client()
    body = submit(client, [TUSCANY])
    public_id = body["uploads"][0]["id"]
    run_jobs(cfg)
    first = photo_state(engine, public_id)
    derivative_files = stored(cfg, "derivatives/")
    assert first.status == "ready" and len(first.derivatives) == 4

    # As if the job had been handed out again before its result was recorded.
    with engine.begin() as conn:
        conn.execute(update(Photo).where(Photo.id == first.id).values(status="pending"))
    assert sweep(engine, JobQueue(cfg.redis_url), stale_after=timedelta(0)) == 1
    run_jobs(cfg)

    second = photo_state(engine, public_id)
    assert second.status == "ready"
    assert second.derivatives == first.derivatives  # byte-identical files, same hashes
    assert len(second.derivatives) == 4
    assert stored(cfg, "derivatives/") == derivative_files
    assert len(public_photos(client, body["id"])) == 1


# --------------------------------------------------------------------------- failures


def test_a_photo_whose_original_turned_to_garbage_fails_with_a_reason(
    client: Any, settings: Settings, engine: Engine
) -> None:
    body = submit(client, [CANON])
    public_id = body["uploads"][0]["id"]
    key = photo_state(engine, public_id).original_key
    assert key is not None
    storage = FilesystemStorage(settings.media_root)
    storage.delete(key)
    storage.put(key, b"\x00garbage, not a photo\x00" * 50)

    run_jobs(settings)

    state = photo_state(engine, public_id)
    assert state.status == "failed"
    assert state.failure_reason
    assert state.derivatives == []
    assert public_photos(client, body["id"]) == []
    tracked = client.get(f"/api/v1/track/{body['tracking_token']}").get_json()
    assert [(u["id"], u["status"]) for u in tracked["uploads"]] == [(public_id, "failed")]
    assert stored(settings, "derivatives/") == []


def test_a_report_is_accepted_while_redis_is_down_and_the_sweeper_catches_up(
    app_with: Callable[..., tuple[Flask, Settings]], settings: Settings, engine: Engine
) -> None:
    app, _ = app_with(redis_url=CLOSED_REDIS)

    body = submit(app.test_client(), [CANON])

    public_id = body["uploads"][0]["id"]
    assert body["uploads"][0]["status"] == "pending"
    assert photo_state(engine, public_id).status == "pending"
    assert queued_jobs(settings.redis_url) == 0  # the job never reached any Redis

    assert sweep(engine, JobQueue(settings.redis_url), stale_after=timedelta(0)) == 1
    assert queued_jobs(settings.redis_url) == 1
    run_jobs(settings)

    state = photo_state(engine, public_id)
    assert state.status == "ready"
    assert len(state.derivatives) == 4
    assert [p["id"] for p in public_photos(app.test_client(), body["id"])] == [public_id]


def _children(pid: int) -> list[int]:
    """Pids of the live child processes of `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _kill_worker(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and its work horse (rq puts the horse in a process group of its own,
    so killing the worker's group alone would let the horse finish the job)."""
    horses: list[int] = []
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGSTOP)  # frozen: it cannot fork another horse
        horses = _children(proc.pid)
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in horses):
        assert time.monotonic() < deadline, f"work horse(s) {horses} did not die"
        time.sleep(0.01)


def test_a_worker_killed_in_the_middle_of_a_job_loses_nothing(
    client: Any, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    env = {**os.environ, "MM_DATABASE_URL": settings.database_url,
           "MM_REDIS_URL": settings.redis_url, "MM_MEDIA_ROOT": settings.media_root,
           "MM_SECRET_KEY": settings.secret_key, "MM_DATA_DIR": settings.data_dir,
           "MM_KEEP_PHOTO_ORIGINALS": str(settings.keep_photo_originals).lower()}
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "worker"], cwd=REPO_ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        body = submit(client, [IPHONE_HEIC])
        public_id = body["uploads"][0]["id"]
        deadline = time.monotonic() + 60
        while peek_photo(settings, public_id)[1] < 1:  # the job has started
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.01)
        _kill_worker(proc)
    finally:
        _kill_worker(proc)
        log.close()

    state = photo_state(engine, public_id)
    assert (state.status, state.derivatives) == ("pending", []), \
        (tmp_path / "worker.log").read_text()
    assert state.attempts >= 1

    assert sweep(engine, JobQueue(settings.redis_url), stale_after=timedelta(0)) == 1
    run_jobs(settings)

    state = photo_state(engine, public_id)
    assert state.status == "ready"
    assert len(state.derivatives) == 4
    assert state.original_key is None
    assert [p["id"] for p in public_photos(client, body["id"])] == [public_id]


def test_the_sweeper_gives_up_on_a_photo_that_failed_too_often(
    app_with: Callable[..., tuple[Flask, Settings]], settings: Settings, engine: Engine
) -> None:
    app, _ = app_with(redis_url=CLOSED_REDIS)  # nothing is queued by the upload itself
    body = submit(app.test_client(), [CANON, NIKON])
    with_error, without_error = (u["id"] for u in body["uploads"])
    with engine.begin() as conn:
        conn.execute(update(Photo).where(Photo.public_id == with_error).values(
            attempts=MAX_PHOTO_ATTEMPTS, failure_reason="OSError: [Errno 28] No space left"))
        conn.execute(update(Photo).where(Photo.public_id == without_error).values(
            attempts=MAX_PHOTO_ATTEMPTS + 1))

    assert sweep(engine, JobQueue(settings.redis_url), stale_after=timedelta(0)) == 0

    first, second = photo_state(engine, with_error), photo_state(engine, without_error)
    assert (first.status, first.failure_reason) == ("failed",
                                                    "OSError: [Errno 28] No space left")
    assert second.status == "failed"
    assert second.failure_reason  # a reason even when no error was recorded
    assert queued_jobs(settings.redis_url) == 0
    assert public_photos(app.test_client(), body["id"]) == []


def test_a_photo_below_the_attempt_limit_is_handed_out_again(
    client: Any, settings: Settings, engine: Engine
) -> None:
    body = submit(client, [CANON])
    public_id = body["uploads"][0]["id"]
    with engine.begin() as conn:
        conn.execute(update(Photo).where(Photo.public_id == public_id).values(
            attempts=MAX_PHOTO_ATTEMPTS - 1))

    assert sweep(engine, JobQueue(settings.redis_url), stale_after=timedelta(0)) == 1
    run_jobs(settings)

    assert photo_state(engine, public_id).status == "ready"


# --------------------------------------------------------------------------- concurrency


def _short_busy_timeout(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA busy_timeout = 300")


def _try_concurrent_write(settings: Settings, report_id: int) -> str:
    """Write to the report table from another connection, waiting at most 0.3 s for locks."""
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":  # runs after the engine's own connect setup
        event.listen(engine, "connect", _short_busy_timeout)
    try:
        with engine.connect() as conn:
            if engine.dialect.name != "sqlite":
                conn.exec_driver_sql("SET LOCAL lock_timeout = '300ms'")
            conn.execute(update(Report).where(Report.id == report_id)
                         .values(description=Report.description))
            conn.commit()
        return "written"
    except OperationalError as exc:
        return f"blocked: {exc.orig}"
    finally:
        engine.dispose()


@pytest.mark.usefixtures("in_process_jobs")
def test_rendering_a_photo_does_not_hold_the_database_write_lock(
    client: Any, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rendering a phone photo takes up to a second or more; on SpatiaLite every transaction
    # takes the write lock (BEGIN IMMEDIATE), so a render inside a transaction stops every
    # new report for that long.
    body = submit(client, [CANON])
    state = photo_state(engine, body["uploads"][0]["id"])
    with Session(engine) as session:
        report_id = session.scalar(select(Report.id).where(Report.public_id == body["id"]))
    assert report_id is not None
    during_render: list[str] = []
    real_render = photo_service.render_public

    def render_while_a_report_comes_in(*args: Any, **kwargs: Any) -> Any:
        during_render.append(_try_concurrent_write(settings, report_id))
        return real_render(*args, **kwargs)

    monkeypatch.setattr(photo_service, "render_public", render_while_a_report_comes_in)

    assert photo_jobs.process_photo(state.id) == "ready"
    assert during_render == ["written"]


@pytest.mark.usefixtures("in_process_jobs")
def test_a_second_report_with_the_same_photo_keeps_its_original(
    client: Any, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two reports with the same photo share one content-addressed original. The second upload
    # finds the file already stored; if the first photo's job finishes (and drops the original)
    # before the second report is committed, the second photo must not lose its original.
    first = submit(client, [TUSCANY])
    first_photo = photo_state(engine, first["uploads"][0]["id"])
    real_create = submissions.create_report

    def create_after_the_first_photo_was_processed(*args: Any, **kwargs: Any) -> Any:
        assert photo_jobs.process_photo(first_photo.id) == "ready"
        return real_create(*args, **kwargs)

    monkeypatch.setattr(submissions, "create_report", create_after_the_first_photo_was_processed)
    storage = FilesystemStorage(settings.media_root)
    lon, lat = MARIENPLATZ
    limits = submissions.PhotoLimits(settings.photo_max_bytes, settings.photo_max_pixels,
                                     settings.photos_per_report, settings.photo_far_m)
    with Session(engine, expire_on_commit=False) as session:
        second = submissions.submit_report(
            session, storage, None,
            NewReport(category="ampel-ausfall", lat=lat, lon=lon, description="Noch einmal."),
            [photo_bytes(TUSCANY)], limits, secret_key=settings.secret_key,
        )
    second_photo_id = second.photo_ids[0]
    with Session(engine) as session:
        key = session.scalar(select(Photo.original_key).where(Photo.id == second_photo_id))
    assert key is not None

    assert storage.exists(key), "the second report's original was deleted"
    assert photo_jobs.process_photo(second_photo_id) == "ready"

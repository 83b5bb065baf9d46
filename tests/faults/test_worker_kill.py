"""`kill -9` of a gunicorn worker during a burst of report submissions with photos: every
report answered 201 is stored with its photo, and no other report is. Clients behave like
the app's outbox: one Idempotency-Key per report, retried until a definite answer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.media.storage import storage_from_settings
from backend.models import Photo, Report
from backend.services.photos import sweep_orphan_originals
from backend.settings import Settings
from tests.polling import wait_until
from tests.servers import free_port
from tests.shared_data import shared_data_dir

ROOT = Path(__file__).resolve().parents[2]
PHOTO = (shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=False).stdout
    return [int(p) for p in out.split()]


def _gunicorn_workers(serve_pid: int) -> list[int]:
    """The gunicorn workers: forks of `maengelmelder serve` (the gunicorn master), which
    share its command line; the embedded rq worker is a separate `… worker` process."""
    workers = []
    for child in _children(serve_pid):
        command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        if b"serve" in command:
            workers.append(child)
    return workers


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Any:
    """gunicorn with its workers (and the embedded rq worker) on the backend under test."""
    port = free_port()
    env = dict(os.environ, MM_DATABASE_URL=settings.database_url,
               MM_REDIS_URL=settings.redis_url, MM_DATA_DIR=str(tmp_path),
               MM_MEDIA_ROOT=settings.media_root, MM_SECRET_KEY=settings.secret_key,
               MM_BASE_URL=f"http://127.0.0.1:{port}", MM_LOG_LEVEL="WARNING",
               MM_RATE_LIMITS_ENABLED="false")
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
        try:
            requests.get(f"{url}/healthz", timeout=5)
            break
        except requests.RequestException:
            time.sleep(0.2)
    yield url, proc
    proc.terminate()
    proc.wait(timeout=60)
    log.close()


def test_a_killed_worker_loses_no_answered_report_and_adds_none(
    served: Any, settings: Settings,
) -> None:
    url, proc = served
    photo = PHOTO.read_bytes()
    answered: dict[str, str] = {}  # idempotency key -> public id answered with 201
    cut_off = [0]  # requests whose connection died under them (the kill landed mid-request)
    lock = threading.Lock()
    stop = threading.Event()

    def submit(key: str) -> None:
        for _attempt in range(50):
            try:
                response = requests.post(f"{url}/api/v1/reports", timeout=30, headers={
                    "Idempotency-Key": key}, data={
                    "category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755",
                    "description": f"Burst {key}"}, files={"photos": ("a.jpg", photo)})
            except requests.RequestException:
                with lock:
                    cut_off[0] += 1
                time.sleep(0.1)  # the worker died under us: retry with the same key
                continue
            if response.status_code == 201:
                with lock:
                    answered[key] = response.json()["id"]
                return
            assert response.status_code in (502, 503), response.text
            time.sleep(0.1)

    def client() -> None:
        while not stop.is_set():
            submit(uuid.uuid4().hex)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(answered) >= 5, "the burst to be under way", timeout=60)
        # Kill a worker until a kill lands while a request is in flight (its client sees the
        # connection die); an idle worker's death proves nothing.
        for _kill in range(5):
            before = _gunicorn_workers(proc.pid)
            assert len(before) >= 2, before
            cut = cut_off[0]
            os.kill(before[0], signal.SIGKILL)

            def replaced(before: list[int] = before) -> bool:
                now = _gunicorn_workers(proc.pid)
                return before[0] not in now and len(now) == len(before)

            wait_until(replaced, "gunicorn to start a new worker", timeout=30, interval=0.1)
            if cut_off[0] > cut:
                break
        assert cut_off[0] > 0, "no kill landed during a request"
        progress = len(answered)  # and the burst goes on with the new worker
        wait_until(lambda: len(answered) >= progress + 5, "reports after the kill", timeout=60)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            stored = set(session.scalars(select(Report.public_id)))
            photos = dict(session.execute(select(Report.public_id, func.count(Photo.id))
                                          .join(Photo, Photo.report_id == Report.id)
                                          .group_by(Report.public_id)).all())
    finally:
        engine.dispose()
    assert len(answered) > 10
    assert stored == set(answered.values())  # every 201 is stored, and nothing else
    assert all(photos.get(public_id) == 1 for public_id in stored)
    # A killed request may have written its original before dying: the scheduler's sweep
    # removes exactly those; every photo of a stored report keeps its file. (The server and
    # its job worker stop first, so no photo job changes the files while we look.)
    proc.terminate()
    proc.wait(timeout=60)
    storage = storage_from_settings(settings)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            sweep_orphan_originals(session, storage, older_than_s=0)
            named = set(session.scalars(select(Photo.original_key).where(
                Photo.original_key.is_not(None))))
    finally:
        engine.dispose()
    originals = {k for k in storage.list_keys() if k.startswith("originals/")}
    assert originals == named  # no orphan left, and nothing a row names is missing

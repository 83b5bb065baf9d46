"""Scale-out and faults in the container stack, under load: a third web container takes
requests without a proxy restart; then, while `wrk` reads the public map through the proxy,
a citizen files photo reports (retrying failures with the same Idempotency-Key, as the PWA's
outbox does) and a dispatcher acknowledges reports whose reporters subscribed to push, each
fault in turn hits the stack: a web container crashes, the workers crash mid-photo, PostGIS
restarts, Redis restarts. No report, photo or notification may be lost or duplicated; the
figures (requests failed during each fault, time to recover) are printed."""

from __future__ import annotations

import re
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests

from tests.deploy.containers.stack import Stack
from tests.peers.push_service import PushServiceReceiver, decrypt, make_subscription
from tests.polling import wait_until
from tests.shared_data import shared_data_dir

pytestmark = pytest.mark.slow

MAP = "/api/v1/reports?bbox=11.36,48.06,11.72,48.25"
PHOTOS = sorted((shared_data_dir() / "photos" / "gps").glob("*.jpg"))
HEICS = sorted((shared_data_dir() / "photos" / "mobile").glob("*.HEIC"))
LOAD_S = 20  # wrk runs this long per fault; the fault comes after FAULT_AFTER_S
FAULT_AFTER_S = 4
SUBSCRIBERS = 40


def _crash(stack: Stack, name: str) -> None:
    """SIGKILL to the container's main process from outside, as a crash would end it (not
    `podman kill`, which counts as stopped by hand)."""
    pid = stack.state(name)["Pid"]
    assert pid, name
    subprocess.run(["kill", "-9", str(pid)], check=True)


def _file(stack: Stack, http: requests.Session, key: str, photos: list[tuple[str, bytes, str]],
          description: str, deadline: float) -> tuple[dict, list[tuple[float, object]]]:
    """Post one report until it is accepted, always with the same key (the outbox's retry)."""
    attempts: list[tuple[float, object]] = []
    while True:
        try:
            fields = {"category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755",
                      "description": description}
            body = ({"data": fields, "files": [("photos", photo) for photo in photos]}
                    if photos else {"json": {**fields, "lat": 48.1374, "lon": 11.5755}})
            answer = http.post(f"{stack.url}/api/v1/reports", timeout=30,
                               headers={"Idempotency-Key": key}, **body)
            outcome: object = answer.status_code
        except requests.RequestException as error:
            outcome = type(error).__name__
        attempts.append((time.monotonic(), outcome))
        if outcome == 201:
            return answer.json(), attempts
        assert outcome in (502, 503, 504) or isinstance(outcome, str), (outcome, answer.text)
        assert time.monotonic() < deadline, f"report {key} not accepted: {attempts[-5:]}"
        time.sleep(0.5)


@dataclass(eq=False)
class Citizen(threading.Thread):
    """Files photo reports one after another while the faults happen."""

    stack: Stack
    keys: list[str] = field(default_factory=list)
    attempts: list[tuple[float, object]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, name="citizen", daemon=True)

    def run(self) -> None:
        http = self.stack.http()
        try:
            while not self.stopping.is_set():
                key = uuid.uuid4().hex
                self.keys.append(key)
                photo = PHOTOS[len(self.keys) % len(PHOTOS)]
                _, attempts = _file(self.stack, http, key,
                                    [(photo.name, photo.read_bytes(), "image/jpeg")],
                                    f"Schild fehlt (Fehlertest {key[:8]})",
                                    time.monotonic() + 180)
                self.attempts += attempts
                time.sleep(0.3)
        except BaseException as error:  # reported by the test
            self.error = error


@dataclass(eq=False)
class Dispatcher(threading.Thread):
    """Acknowledges the subscribers' reports one per second while the faults happen,
    retrying a failed request until the answer says it is done."""

    stack: Stack
    session: requests.Session
    report_ids: list[str]
    done: list[str] = field(default_factory=list)
    error: BaseException | None = None

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, name="dispatcher", daemon=True)

    def run(self) -> None:
        try:
            for report_id in self.report_ids:
                deadline = time.monotonic() + 180
                while True:
                    try:
                        answer = self.session.post(
                            f"{self.stack.url}/api/v1/staff/reports/{report_id}/status",
                            timeout=30, json={"status": "acknowledged"})
                        outcome: object = answer.status_code
                    except requests.RequestException as error:
                        outcome = type(error).__name__
                    # 409: the first try was stored, its answer lost; nothing more to do.
                    if outcome in (200, 409):
                        break
                    assert time.monotonic() < deadline, (report_id, outcome)
                    time.sleep(0.5)
                self.done.append(report_id)
                time.sleep(1)
        except BaseException as error:
            self.error = error


def _wrk(stack: Stack) -> subprocess.Popen[str]:
    return subprocess.Popen(["wrk", "-t2", "-c8", f"-d{LOAD_S}s", "--timeout", "10s",
                             f"{stack.url}{MAP}"], stdout=subprocess.PIPE, text=True)


def _wrk_figures(output: str) -> tuple[int, int]:
    """(requests, failed): failed counts non-2xx answers and socket errors."""
    total = int(re.search(r"(\d+) requests in", output).group(1))
    failed = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        failed += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                          output):
        failed += sum(int(n) for n in match.groups())
    return total, failed


def _kill_web(stack: Stack) -> Callable[[], bool]:
    name = stack.container("web", 1)
    _crash(stack, name)
    return lambda: stack.healthy(name)


def _kill_workers_mid_photo(stack: Stack) -> Callable[[], bool]:
    """Crash both workers that take photos while a photo job runs; recovered when they are
    back and the photos they held are processed."""
    http = stack.http()
    photos = [(p.name, p.read_bytes(), "image/heic") for p in HEICS]
    reports = [_file(stack, http, uuid.uuid4().hex, photos, f"Ampel (HEIC, Worker-Absturz {n})",
                     time.monotonic() + 60)[0]["id"] for n in range(3)]
    running = wait_until(lambda: int(stack.exec("redis", "redis-cli", "ZCARD",
                                                "rq:wip:photos").strip() or 0),
                         "a photo job to start", timeout=30, interval=0.05)
    names = [stack.container("worker", 1), stack.container("worker-urgent", 1)]
    for name in names:
        _crash(stack, name)
    assert running >= 1  # the kill landed while a photo was being processed
    ids = ",".join(f"'{report}'" for report in reports)
    return lambda: all(stack.healthy(name) for name in names) and stack.psql(
        "SELECT count(*) FROM photo p JOIN report r ON r.id = p.report_id "
        f"WHERE r.public_id IN ({ids}) AND p.status <> 'ready'") == "0"


def _restart(service: str) -> Callable[[Stack], Callable[[], bool]]:
    def restart(stack: Stack) -> Callable[[], bool]:
        name = stack.container(service)
        stack.podman("restart", "-t", "10", name)
        return lambda: stack.healthy(name)
    return restart


FAULTS: list[tuple[str, Callable[[Stack], Callable[[], bool]]]] = [
    ("a web container crashes", _kill_web),
    ("both photo workers crash mid-photo", _kill_workers_mid_photo),
    ("PostGIS restarts", _restart("db")),
    ("Redis restarts", _restart("redis")),
]


def test_a_third_web_container_takes_requests_without_a_proxy_restart(stack: Stack) -> None:
    proxy = stack.container("proxy")
    running = {name: stack.state(name)["StartedAt"]
               for name in [proxy, *stack.containers("web")]}
    # podman-compose would re-create the running web containers (and the proxy that depends
    # on them) for a new scale without --no-recreate; docker compose leaves them.
    stack.compose("up", "-d", "--no-deps", "--no-recreate", "--scale", "web=3", "web")
    third = stack.container("web", 3)
    wait_until(lambda: stack.healthy(third), "the third web container", timeout=120,
               interval=1)
    marker = uuid.uuid4().hex
    http = stack.http()
    served: dict[str, int] = {}

    def spread() -> bool:
        for _ in range(20):
            assert http.get(f"{stack.url}{MAP}&probe={marker}", timeout=10).status_code == 200
        for name in stack.containers("web"):
            served[name] = stack.logs(name).count(marker)
        return len(served) == 3 and all(served.values())

    wait_until(spread, "requests on all three web containers", timeout=30, interval=0.5)
    # Neither the proxy nor the web containers that served before were restarted.
    assert {name: stack.state(name)["StartedAt"] for name in running} == running
    print(f"\n    requests per web container after scaling to 3: {served}")


def test_faults_under_load_lose_and_duplicate_nothing(stack: Stack) -> None:
    http = stack.http()
    stack.wait_ready()
    # Reporters who subscribed to push; the dispatcher acknowledges their reports during the
    # faults, so notifications are due while the stack breaks.
    push = PushServiceReceiver(host=stack.gateway()).start()
    subscribers: dict[str, tuple[str, dict, object]] = {}
    for n in range(SUBSCRIBERS):
        report, _ = _file(stack, http, uuid.uuid4().hex, [], f"Schild fehlt (Push {n})",
                          time.monotonic() + 60)
        subscription, private_key = make_subscription(push, f"phone-{n}")
        answer = http.post(f"{stack.url}/api/v1/track/{report['tracking_token']}"
                           "/push-subscriptions", timeout=10, json={
                               "endpoint": subscription["endpoint"],
                               "keys": {"p256dh": subscription["p256dh"],
                                        "auth": subscription["auth"]}})
        assert answer.status_code == 201, answer.text
        subscribers[report["id"]] = (f"phone-{n}", subscription, private_key)
    dispatcher = Dispatcher(stack, stack.staff("dispatcher"), list(subscribers))
    citizen = Citizen(stack)
    citizen.start()
    dispatcher.start()

    figures = []
    for name, inject in FAULTS:
        load = _wrk(stack)
        time.sleep(FAULT_AFTER_S)
        struck = time.monotonic()
        mark = len(citizen.attempts)
        healthy = inject(stack)
        wait_until(healthy, f"recovery from: {name}", timeout=180, interval=0.5)
        container_back = time.monotonic() - struck
        output, _ = load.communicate(timeout=LOAD_S + 120)
        total, failed = _wrk_figures(output)
        stack.wait_ready(timeout=120)
        time.sleep(2)  # the citizen's next report, after recovery
        attempts = citizen.attempts[mark:]
        failures = [at for at, outcome in attempts if outcome != 201]
        served_again = max(failures) - struck if failures else 0.0
        figures.append((name, total, failed, len(failures), served_again, container_back))
    citizen.stopping.set()
    citizen.join(timeout=200)
    dispatcher.join(timeout=300)
    assert citizen.error is None, citizen.error
    assert dispatcher.error is None, dispatcher.error
    assert len(dispatcher.done) == SUBSCRIBERS

    print("\n    fault                                  wrk GETs  failed   citizen POSTs failed"
          "   served again after   recovered after")
    for name, total, failed, posts_failed, served_again, back in figures:
        print(f"    {name:38} {total:8d} {failed:7d}   {posts_failed:20d}"
              f"   {served_again:17.1f} s   {back:12.1f} s")
    print("    (recovered: the container healthy again; after the workers' crash also every "
          "photo they held processed)")

    # Every report the citizen filed exists exactly once (the key is unique, so: none lost).
    keys = citizen.keys
    stored = stack.psql("SELECT count(*) FROM report WHERE idempotency_key IN ("
                        + ",".join(f"'{key}'" for key in keys) + ")")
    assert int(stored) == len(keys), (stored, len(keys))
    # Every photo is processed, once: the crashed workers' jobs were handed out again.
    try:
        wait_until(lambda: stack.psql("SELECT count(*) FROM photo WHERE status <> 'ready'")
                   == "0", "every photo to be ready", timeout=180, interval=1)
    except AssertionError as waited:  # say which photos, and why
        raise AssertionError(f"{waited}: " + stack.psql(
            "SELECT string_agg(public_id || ' ' || status || ' attempts ' || attempts || ' ' "
            "|| coalesce(failure_reason, ''), '; ') FROM photo WHERE status <> 'ready'")
        ) from None
    assert stack.psql("SELECT count(*) FROM photo p JOIN report r ON r.id = p.report_id "
                      "WHERE r.idempotency_key IN ("
                      + ",".join(f"'{key}'" for key in keys) + ")") == str(len(keys))
    # Every subscriber got the acknowledgement, and saw it once (a repeat after a crash
    # carries the same Topic, so the push service replaces it instead of showing two).
    repeats = 0
    for report_id, (name, subscription, private_key) in subscribers.items():
        records = push.wait_for(name, 1, timeout=120)
        topics = {record.headers.get("topic") for record in records}
        assert len(topics) == 1, (report_id, topics)
        message = decrypt(records[0], private_key, subscription["auth"])
        assert report_id in str(message), message
        repeats += len(records) - 1
    push.stop()
    print(f"    reports filed during the faults: {len(keys)}, all stored once, every photo "
          f"ready; {SUBSCRIBERS} push notifications delivered ({repeats} repeated delivery)")
    # No request ended in a server error inside the app.
    for name in stack.containers("web"):
        assert '"status": "500"' not in stack.logs(name), name

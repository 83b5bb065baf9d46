"""The Open311 peer we compare against, measured the way our own benchmarks measure us.

The peer is 6aika/issue-reporting (MIT licence, © 2016 Forum Virium Helsinki and contributors;
https://github.com/6aika/issue-reporting), a Django 3.2 + Django REST framework server of the
Open311 GeoReport v2 API under /api/georeport/v2/. None of its code is in this repository: the
harness points at a work tree of it given by path, installs its pinned requirements.txt (plus
gunicorn) into a separate, cached virtualenv, and runs it as its README's "evaluation instance
without GIS": SQLite through Django's own backend, DEBUG off. The `django.contrib.gis` app is
loaded regardless, so the GDAL and GEOS system libraries must be present (libgdal32,
libgeos-c1v5 on Debian); PostGIS/SpatiaLite are not used.

It migrates a fresh database, creates one jurisdiction, 7 services and an API application
(whose key the POSTs send), seeds --reports issues with bulk_create (points spread over Munich,
lon 11.36-11.72, lat 48.06-48.25, created over the last 3 years, ~55 % closed), serves the peer
with gunicorn (2 sync workers, 127.0.0.1, free port, no access log) and loads each operation
with `wrk -t2 -c{connections}` for --seconds after a 2 s warm-up:

  services       GET services.json (all 7 services; the peer pages every list, 100 a page)
  requests_page  GET requests.json: the default page, 100 newest public requests, plus the
                 COUNT(*) the peer runs for its X-Result-Count header on every list
  requests_bbox  GET requests.json?bbox=lon1,lat1,lon2,lat2 around Marienplatz, 2 km x 2 km
                 (4 km^2): the peer filters `lat BETWEEN` and `long BETWEEN` on two indexed
                 float columns (its lat/long/radius filter needs a GIS database and answers
                 500 on SQLite); the first page of 100 of the ~700 requests inside
  post           POST requests.json, form-encoded with api_key, jurisdiction_id, service_code,
                 lat, long, description (bench/peer_post.lua); the peer answers 201

What the figures reflect of the peer (read from its code, checked with Django's query log):
every list runs a COUNT(*) for X-Result-Count; a bbox page uses at most one of the lat/long
indexes and filters and sorts the rest (ANALYZE does not change its cost); every POST computes
expected_datetime from the median fix time of all closed issues of that service, loaded and
sorted in Python (~8,000 rows a service at 100,000 issues), so POST slows as the data grows.

Non-2xx answers are counted from wrk's output and printed with req/s and p50/p99 latency, as is
the exact peer commit (from its git checkout, or by comparing an exported tree's git tree hash
with that of the commit this harness was written against).

Run:
  git clone https://github.com/6aika/issue-reporting.git /tmp/issue-reporting
  git -C /tmp/issue-reporting checkout 89de4fb6e34782c963287dea018967ffa41914da
  .venv/bin/python bench/peer_open311.py --peer-dir /tmp/issue-reporting
      [--reports 100000] [--seconds 10] [--connections 8] [--venv /tmp/mm-peer-venv]

bench/read_path.py imports run_peer() to measure the peer in the same run as our read path.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import free_port  # noqa: E402

PEER_GIT_URL = "https://github.com/6aika/issue-reporting.git"
PEER_COMMIT = "89de4fb6e34782c963287dea018967ffa41914da"  # master, 2023-10-18
PEER_TREE = "4a79ac69c9fe658cbdb2d73401669077a08d1538"  # that commit's tree
DEFAULT_VENV = Path(tempfile.gettempdir()) / "mm-peer-venv"
# Installed next to the peer's own pinned requirements.txt (Django 3.2.20, DRF 3.13.1, ...,
# which run on Python 3.11 unchanged): the gunicorn our app is served with.
EXTRA_PINS = ("gunicorn==27.0.1",)
API = "/api/georeport/v2/"
# 2 km x 2 km around Marienplatz (48.1374 N, 11.5755 E).
BBOX = "11.5620,48.1284,11.5890,48.1464"
SERVICES = [
    ("schild-fehlt", "Verkehrszeichen fehlt", "Verkehrszeichen"),
    ("schild-verdreht", "Verkehrszeichen verdreht", "Verkehrszeichen"),
    ("schild-beschaedigt", "Verkehrszeichen beschädigt", "Verkehrszeichen"),
    ("ampel-ausfall", "Ampel ausgefallen", "Ampeln"),
    ("ampel-lampe", "Ampel: Lampe defekt", "Ampeln"),
    ("ampel-taster", "Ampel: Taster defekt", "Ampeln"),
    ("sonstiges", "Sonstiges", "Sonstiges"),
]
OPERATIONS = ("services", "requests_page", "requests_bbox", "post")

# Run by the peer's python with DJANGO_SETTINGS_MODULE=cfh.settings in its work tree.
# argv: reports, seed, services (JSON); prints one JSON line.
SEED_SCRIPT = r"""
import json, random, string, sys, time
from datetime import timedelta

import django

django.setup()
from django.db import transaction
from django.utils import timezone
from issues.models import Application, Issue, Jurisdiction, Service

n, rng, service_rows = int(sys.argv[1]), random.Random(int(sys.argv[2])), json.loads(sys.argv[3])
texts = ["Verkehrszeichen nach Sturm umgefallen, bitte aufstellen.",
         "Ampel zeigt seit gestern Abend dauerhaft Rot.",
         "Schild ist verdreht und zeigt in die falsche Richtung.",
         "Taster an der Fußgängerampel reagiert nicht.",
         "Zusatzzeichen fehlt, nur noch die Stange steht da."]
started = time.perf_counter()
with transaction.atomic():
    jurisdiction = Jurisdiction.objects.create(identifier="muenchen", name="München")
    app = Application.objects.create(identifier="mm-bench", name="Mängelmelder benchmark")
    services = []
    for code, name, group in service_rows:
        service = Service(service_code=code, location_req="coords")
        service.set_current_language("en")
        service.service_name, service.group = name, group
        service.save()
        service.jurisdictions.add(jurisdiction)
        services.append(service)
    now, span, seen, batch = timezone.now(), 3 * 365 * 86400, set(), []
    for _ in range(n):
        ident = "".join(rng.choices(string.ascii_lowercase + string.digits, k=8))
        while ident in seen:
            ident = "".join(rng.choices(string.ascii_lowercase + string.digits, k=8))
        seen.add(ident)
        lon, lat = rng.uniform(11.36, 11.72), rng.uniform(48.06, 48.25)
        requested = now - timedelta(seconds=rng.uniform(0, span))
        closed = rng.random() < 0.55
        fixed = min(now, requested + timedelta(days=rng.uniform(0.1, 40)))
        updated = fixed if closed else requested
        service = rng.choice(services)
        batch.append(Issue(
            application=app, jurisdiction=jurisdiction, service=service,
            service_code=service.service_code, identifier=ident, description=rng.choice(texts),
            status="closed" if closed else "open",
            status_notes="Erledigt." if closed else "", agency_responsible="Baureferat",
            requested_datetime=requested, updated_datetime=updated,
            expected_datetime=requested + timedelta(days=14),
            location=(lon, lat), lat=lat, long=lon, moderation="public"))
        if len(batch) == 10_000:
            Issue.objects.bulk_create(batch)
            batch = []
    Issue.objects.bulk_create(batch)
print(json.dumps({"api_key": app.key, "jurisdiction": jurisdiction.identifier,
                  "issues": Issue.objects.count(),
                  "seconds": time.perf_counter() - started}))
"""


@dataclass
class PeerRun:
    """Everything one measurement of the peer produced."""

    revision: str
    reports: int
    seed_seconds: float
    results: dict[str, dict[str, float | str]] = field(default_factory=dict)
    probes: dict[str, str] = field(default_factory=dict)
    posted_rows: int = 0
    posted_2xx: int = 0
    busy: float = 0.0


def log(message: str) -> None:
    print(f"[peer] {message}", file=sys.stderr, flush=True)


def busy_cpus(seconds: float = 1.0) -> float:
    """CPUs kept busy by other processes over a short sample (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    total = max(total1 - total0, 1)
    return (os.cpu_count() or 1) * (1 - (idle1 - idle0) / total)


def how_to_get_peer(peer_dir: Path) -> str:
    return (f"no peer work tree at {peer_dir}; get the one these figures are for with\n"
            f"  git clone {PEER_GIT_URL} {peer_dir}\n"
            f"  git -C {peer_dir} checkout {PEER_COMMIT}")


def peer_revision(peer_dir: Path) -> str:
    """The peer's commit: from its git checkout, or by an exported tree's git tree hash."""
    if (peer_dir / ".git").exists():
        git = ["git", "-C", str(peer_dir)]
        head = subprocess.run([*git, "rev-parse", "--verify", "HEAD"], capture_output=True,
                              text=True)
        if head.returncode == 0:
            dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True).stdout.strip()
            return head.stdout.strip() + (" (with local changes)" if dirty else "")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GIT_DIR=f"{tmp}/git", GIT_WORK_TREE=str(peer_dir),
                   GIT_INDEX_FILE=f"{tmp}/index")
        subprocess.run(["git", "init", "-q"], env=env, check=True, capture_output=True)
        subprocess.run(["git", "add", "-A", "."], cwd=peer_dir, env=env, check=True,
                       capture_output=True)
        tree = subprocess.run(["git", "write-tree"], env=env, check=True, capture_output=True,
                              text=True).stdout.strip()
    if tree == PEER_TREE:
        return f"{PEER_COMMIT} (exported work tree, identical to that commit's tree)"
    return f"unknown: work tree {tree} is not the tree of {PEER_COMMIT}"


def ensure_venv(venv: Path, peer_dir: Path) -> Path:
    """The peer's virtualenv (its requirements.txt and EXTRA_PINS), made once and reused."""
    requirements = peer_dir / "requirements.txt"
    wanted = hashlib.sha256(
        "\n".join([sys.version, requirements.read_text(), *EXTRA_PINS]).encode()).hexdigest()
    python, stamp = venv / "bin" / "python", venv / "mm-peer-venv.stamp"
    if stamp.exists() and python.exists() and stamp.read_text() == wanted:
        return python
    if venv.exists():
        if not stamp.exists():
            sys.exit(f"{venv} exists and was not made by this script; choose another --venv")
        shutil.rmtree(venv)
    log(f"creating the peer's virtualenv at {venv} (pip install -r requirements.txt)")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                          "-q", "-r", str(requirements), *EXTRA_PINS],
                         capture_output=True, text=True)
    if pip.returncode:
        sys.exit(f"pip install for the peer failed:\n{pip.stdout}\n{pip.stderr}")
    stamp.write_text(wanted)
    return python


def peer_env(peer_dir: Path, work: Path) -> dict[str, str]:
    """The peer's configuration (environment variables, as its settings read them)."""
    return dict(os.environ, DJANGO_SETTINGS_MODULE="cfh.settings", PYTHONPATH=str(peer_dir),
                DATABASE_URL=f"sqlite:///{work / 'peer.sqlite3'}", DEBUG="0",
                SECRET_KEY="mm-peer-bench-not-secret", MEDIA_ROOT=str(work / "media"),
                STATIC_ROOT=str(work / "static"), LANGUAGES="en,fi",
                # its one-line "not GIS-enabled" warning per process: expected on SQLite
                PYTHONWARNINGS="ignore:The default connection")


def gunicorn(python: Path, peer_dir: Path, env: dict[str, str], port: int) -> subprocess.Popen:
    """The peer under gunicorn: 2 sync workers, no access log (gunicorn's default)."""
    proc = subprocess.Popen(
        [str(python), "-m", "gunicorn", "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "cfh.wsgi:application"],
        cwd=peer_dir, env=env,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the peer's gunicorn exited during startup")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{API}services.json",
                                        timeout=2) as response:
                if response.status == 200:
                    return proc
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the peer's gunicorn did not answer within 60 s")


def probe(url: str, body: bytes | None = None) -> str:
    """One request before the load: its status and what it returned."""
    request = urllib.request.Request(url, data=body)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            items = json.loads(response.read())
            count = response.headers.get("X-Result-Count")
            total = f" of {int(count):,}" if count else ""
            return f"{response.status}, {len(items)} item(s){total}"
    except urllib.error.HTTPError as error:
        return f"{error.code}: {error.read()[:200]!r}"


def wrk(url: str, seconds: int, connections: int, lua: list[str] | None = None
        ) -> dict[str, float | str]:
    """Run wrk and parse its figures (as bench/intake.py does)."""
    script = ["-s", str(ROOT / "bench" / "peer_post.lua")] if lua else []
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *script, url,
         *(["--", *lua] if lua else [])],
        capture_output=True, text=True, check=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    total = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rate": float(rate.group(1)) if rate else 0.0, "p50": ms("50"), "p99": ms("99"),
        "requests": int(total.group(1)) if total else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
    }


def seed(python: Path, peer_dir: Path, env: dict[str, str], reports: int) -> dict[str, object]:
    """migrate, then the jurisdiction, services, application and `reports` issues."""
    migrate = subprocess.run([str(python), "manage.py", "migrate", "--noinput", "-v0"],
                             cwd=peer_dir, env=env, capture_output=True, text=True)
    if migrate.returncode:  # its system-check warnings (URL patterns, W042) are noise otherwise
        sys.exit(f"the peer's migrate failed:\n{migrate.stdout}\n{migrate.stderr}")
    out = subprocess.run(
        [str(python), "-W", "ignore", "-c", SEED_SCRIPT, str(reports), "3",
         json.dumps(SERVICES)],
        cwd=peer_dir, env=env, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure_peer(peer_dir: Path, reports: int, seconds: int, connections: int,
                 venv: Path = DEFAULT_VENV) -> PeerRun:
    """Set the peer up on a fresh SQLite database, seed it, serve it and load each operation."""
    peer_dir = peer_dir.resolve()
    if not (peer_dir / "cfh" / "settings.py").is_file():
        sys.exit(how_to_get_peer(peer_dir))
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk (scripts/bootstrap does it as root)")
    python = ensure_venv(venv, peer_dir)
    work = Path(tempfile.mkdtemp(prefix="mm-peer-"))
    try:
        env = peer_env(peer_dir, work)
        log(f"migrating and seeding {reports:,} issues (SQLite at {work})")
        started = time.perf_counter()
        seeded = seed(python, peer_dir, env, reports)
        run = PeerRun(revision=peer_revision(peer_dir), reports=int(seeded["issues"]),
                      seed_seconds=time.perf_counter() - started)
        log(f"seeded {run.reports:,} issues in {run.seed_seconds:.1f} s (migrate included; "
            f"bulk_create alone {float(seeded['seconds']):.1f} s)")
        port = free_port()
        base = f"http://127.0.0.1:{port}{API}"
        reads = {"services": f"{base}services.json", "requests_page": f"{base}requests.json",
                 "requests_bbox": f"{base}requests.json?bbox={BBOX}"}
        lua = [f"{API}requests.json", str(seeded["api_key"]), str(seeded["jurisdiction"]),
               ",".join(code for code, _, _ in SERVICES)]
        db = work / "peer.sqlite3"
        run.busy = busy_cpus()
        proc = gunicorn(python, peer_dir, env, port)
        try:
            for name, url in reads.items():
                run.probes[name] = probe(url)
                wrk(url, 2, connections)  # warm-up
                log(f"{name}: wrk for {seconds} s")
                run.results[name] = wrk(url, seconds, connections)
            before = _count_issues(db)
            form = (f"api_key={lua[1]}&jurisdiction_id={lua[2]}&service_code={SERVICES[0][0]}"
                    "&lat=48.1374&long=11.5755&description=Probe")
            run.probes["post"] = probe(f"{base}requests.json", form.encode())
            warm = wrk(f"{base}requests.json", 2, connections, lua)
            log(f"post: wrk for {seconds} s")
            run.results["post"] = wrk(f"{base}requests.json", seconds, connections, lua)
            run.posted_rows = _count_issues(db) - before
            run.posted_2xx = 1 + sum(int(r["requests"]) - int(r["non2xx"])
                                     for r in (warm, run.results["post"]))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        return run
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _count_issues(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute("SELECT count(*) FROM issues_issue").fetchone()[0]


def run_peer(peer_dir: Path, reports: int, seconds: int, connections: int,
             venv: Path = DEFAULT_VENV) -> dict[str, float]:
    """req/s of the peer by operation: services, requests_page, requests_bbox, post."""
    run = measure_peer(peer_dir, reports, seconds, connections, venv)
    return {name: float(run.results[name]["rate"]) for name in OPERATIONS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-dir", type=Path, default=None,
                        help="work tree of 6aika/issue-reporting")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help="the peer's virtualenv (made on first use, then reused)")
    args = parser.parse_args()
    if args.peer_dir is None:
        sys.exit(how_to_get_peer(Path("/tmp/issue-reporting")) + "\nthen pass --peer-dir")
    run = measure_peer(args.peer_dir, args.reports, args.seconds, args.connections, args.venv)

    print(f"Open311 peer 6aika/issue-reporting {run.revision}")
    print(f"{os.cpu_count()} CPUs, {run.busy:.2f} of them busy with other work just before "
          "the load (anything else running skews every figure)")
    print(f"Django 3.2 + DRF on SQLite, {run.reports:,} issues (seeded in "
          f"{run.seed_seconds:.1f} s); gunicorn 2 sync workers, wrk -t2 -c{args.connections} "
          f"for {args.seconds} s each")
    print(f"  {'operation':14s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'non-2xx':>8s}  "
          "probe before the load")
    for name in OPERATIONS:
        r = run.results[name]
        print(f"  {name:14s} {r['rate']:8,.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
              f"{r['non2xx']:8,d}  {run.probes[name]}"
              + (f"  socket errors: {r['socket_errors']}" if r["socket_errors"] != "none" else ""))
    print(f"  bbox {BBOX} (2 km x 2 km around Marienplatz); pages are the peer's default 100")
    print(f"  post: {run.posted_rows:,} rows added for {run.posted_2xx:,} 2xx answers counted "
          "(probe and warm-up included; wrk does not count answers still in flight at the end)")


if __name__ == "__main__":
    main()

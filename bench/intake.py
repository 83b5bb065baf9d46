"""Report intake through gunicorn (2 workers) on PostGIS, next to a bare Flask JSON endpoint.

Both are served the same way and loaded the same way (wrk, POSTing real report bodies) in the
same run; the figure that matters is the ratio. PostgreSQL runs with fsync on, as in production.

Run: .venv/bin/python bench/intake.py [--seconds 15] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from common import ROOT, postgis, shared_data  # type: ignore[import-not-found]
from sqlalchemy import text

from backend.db.engine import make_engine
from backend.settings import Settings
from geo.district_index import DistrictIndex
from geo.district_layer import parse_district_layer
from tests.servers import free_port

CATEGORIES = ["schild-fehlt", "schild-verdreht", "schild-beschaedigt", "ampel-ausfall",
              "ampel-lampe", "ampel-taster", "sonstiges"]


def write_bodies(raw: Path, path: Path, n: int = 20_000) -> None:
    """Report bodies at random points inside the city, one JSON object per line."""
    shapes = parse_district_layer(raw.read_bytes())
    index = DistrictIndex((s.number, s.geometry) for s in shapes)
    rng = random.Random(3)
    x0, y0, x1, y1 = index.bounds
    with path.open("w") as out:
        written = 0
        while written < n:
            lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if index.lookup(lon, lat) is None:
                continue
            out.write(json.dumps({
                "category": rng.choice(CATEGORIES), "lat": round(lat, 6), "lon": round(lon, 6),
                "description": "Schild nach Sturm umgefallen, bitte aufstellen.",
            }) + "\n")
            written += 1


def gunicorn(app: str, port: int, env: dict[str, str], threads: int) -> subprocess.Popen:
    """Start gunicorn with 2 workers (no access log for either contestant)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "--threads", str(threads),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=ROOT, env=env,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"gunicorn for {app} did not start")


def wrk(port: int, bodies: Path, seconds: int, connections: int) -> dict[str, float]:
    """Run wrk and parse its figures."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", str(ROOT / "bench" / "intake.lua"), f"http://127.0.0.1:{port}",
         "--", str(bodies)],
        capture_output=True, text=True, check=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests_total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50"), "p99": ms("99"), "requests": requests_total,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (1: sync workers)")
    parser.add_argument("--no-fsync", action="store_true",
                        help="run PostgreSQL without fsync (to see what durability costs)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk (scripts/bootstrap does it as root)")
    raw = shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"
    work = Path(tempfile.mkdtemp(prefix="mm-intake-"))
    bodies = work / "bodies.jsonl"
    write_bodies(raw, bodies)

    with postgis(durable=not args.no_fsync) as url:
        from backend.services.setup import initialize

        engine = make_engine(url)
        initialize(engine, Settings(database_url=url, districts_source=str(raw),
                                    secret_key="bench", data_dir=str(work)))
        env = dict(os.environ, MM_DATABASE_URL=url, MM_SECRET_KEY="bench-secret",
                   MM_DATA_DIR=str(work), MM_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT),
                   MM_RATE_LIMITS_ENABLED="false")  # capacity, not abuse protection
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_durable_insert "
                              "(id bigserial PRIMARY KEY, body text NOT NULL)"))
        results = {}
        for name, target in (("bare Flask JSON endpoint", "bench.bare_app:app"),
                             ("durable one-row INSERT", "bench.durable_insert_app:app"),
                             ("POST /api/v1/reports", "backend.app:create_app()")):
            port = free_port()
            proc = gunicorn(target, port, env, args.threads)
            try:
                wrk(port, bodies, 3, args.connections)  # warm-up
                results[name] = wrk(port, bodies, args.seconds, args.connections)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM report")).scalar()
            events = conn.execute(text("SELECT count(*) FROM report_event")).scalar()
        engine.dispose()

    fsync = "off (diagnostic run)" if args.no_fsync else "on"
    print(f"Intake through gunicorn (2 sync workers), PostGIS with fsync {fsync}, wrk -t2 "
          f"-c{args.connections} for {args.seconds} s each")
    for name, r in results.items():
        print(f"  {name:28s} {r['rate']:8,.0f} req/s   p50 {r['p50']:6.2f} ms   "
              f"p99 {r['p99']:6.2f} ms   non-2xx {r['non2xx']}   socket errors: "
              f"{r['socket_errors']}")
    bare, intake = results["bare Flask JSON endpoint"], results["POST /api/v1/reports"]
    floor = results["durable one-row INSERT"]
    print(f"  intake / bare                {intake['rate'] / bare['rate']:8.1%}   "
          "(goal ≥ 40 %)")
    print(f"  durable INSERT / bare        {floor['rate'] / bare['rate']:8.1%}   "
          "(what storing anything durably costs)")
    print(f"  intake / durable INSERT      {intake['rate'] / floor['rate']:8.1%}")
    print(f"  reports stored: {stored:,} with {events:,} history events "
          f"(incl. warm-up; every 201 is one row)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

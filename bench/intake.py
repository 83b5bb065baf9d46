"""Report intake through gunicorn (2 workers) on PostGIS, next to a bare Flask JSON endpoint.

All three are served the same way and loaded the same way (wrk, POSTing real report bodies) in
the same run; the figure that matters is the ratio. The app runs as docker-compose.yml's `web`
runs it: `maengelmelder serve --no-worker` (backend/serving.py: sync workers, the redacting
access log in JSON lines, the app's logging at INFO, the multiprocess metrics), with
MM_PROXY_HOPS=1, a Redis server and the production rate limits (20 reports a minute per
address). As behind the city's nginx, each request carries its own client address in
X-Forwarded-For (a windstorm's reports come from many people), so the limiter does its full
work per request and throttles none. The yardsticks run under the same gunicorn options.
PostgreSQL runs with fsync on. Not included: nginx itself (bench/load.py --proxy measures
it), and the job workers (the `worker` containers; nothing here waits for them).

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
from pathlib import Path

from common import (  # type: ignore[import-not-found]
    ROOT,
    postgis,
    production_server,
    shared_data,
    stop_server,
)
from sqlalchemy import text

from backend.db.engine import make_engine
from backend.settings import Settings
from geo.district_index import DistrictIndex
from geo.district_layer import parse_district_layer
from tests import servers

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


def wrk(port: int, bodies: Path, seconds: int, connections: int, run: int
        ) -> dict[str, float]:
    """Run wrk and parse its figures; run number `run` sends from client addresses of its own."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", str(ROOT / "bench" / "intake.lua"), f"http://127.0.0.1:{port}",
         "--", str(bodies), str(run)],
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
    parser.add_argument("--no-fsync", action="store_true",
                        help="run PostgreSQL without fsync (to see what durability costs)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk (scripts/bootstrap does it as root)")
    raw = shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"
    work = Path(tempfile.mkdtemp(prefix="mm-intake-"))
    bodies = work / "bodies.jsonl"
    write_bodies(raw, bodies)

    redis = servers.start_redis(work / "redis")
    try:
        with postgis(durable=not args.no_fsync) as url:
            from backend.services.setup import initialize

            engine = make_engine(url)
            initialize(engine, Settings(database_url=url, districts_source=str(raw),
                                        secret_key="bench", data_dir=str(work)))
            # docker-compose.yml's app environment; rate limits and logging at their defaults.
            env = dict(os.environ, MM_DATABASE_URL=url, MM_REDIS_URL=redis.url,
                       MM_SECRET_KEY="bench-secret", MM_DATA_DIR=str(work),
                       MM_MEDIA_ROOT=str(work / "media"), MM_PROXY_HOPS="1", MM_LOG_FORMAT="json")
            for name in [k for k in env if k.startswith("MM_RATE_LIMIT") or k == "MM_LOG_LEVEL"]:
                del env[name]
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE bench_durable_insert "
                                  "(id bigserial PRIMARY KEY, body text NOT NULL)"))
            results, logs = {}, {}
            for run, (name, target) in enumerate((
                    ("bare Flask JSON endpoint", "bench.bare_app:app"),
                    ("durable one-row INSERT", "bench.durable_insert_app:app"),
                    ("POST /api/v1/reports", "app"))):
                port = servers.free_port()
                log = work / f"server-{run}.log"
                proc = production_server(target, port, env, log)
                try:
                    wrk(port, bodies, 3, args.connections, 2 * run)  # warm-up
                    results[name] = wrk(port, bodies, args.seconds, args.connections, 2 * run + 1)
                finally:
                    stop_server(proc)
                logs[name] = sum(1 for line in log.open() if '"gunicorn.access"' in line)
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM report")).scalar()
                events = conn.execute(text("SELECT count(*) FROM report_event")).scalar()
            engine.dispose()
    finally:
        redis.stop()

    fsync = "off (diagnostic run)" if args.no_fsync else "on"
    print(f"Intake through `maengelmelder serve --no-worker` (2 sync workers, production "
          f"options: JSON access log, INFO logging, multiprocess metrics, MM_PROXY_HOPS=1, rate "
          f"limits on at their production values, one client address per request via "
          f"X-Forwarded-For; no nginx), Redis, PostGIS with fsync {fsync}, wrk -t2 "
          f"-c{args.connections} for {args.seconds} s each, shared 2-core machine")
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
          f"(incl. warm-up; every 201 is one row); access log lines: "
          + ", ".join(f"{name} {count:,}" for name, count in logs.items()))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

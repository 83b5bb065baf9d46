"""Open311 GeoReport v2 server figures on PostGIS with seeded demo reports.

Server time through the app (in-process WSGI, no network): `services.json`, a page of 100
requests of the last 90 days as JSON and as XML, a filtered page (one service code, open,
bbox), and creating requests with `POST requests.json`.

Run: .venv/bin/python bench/open311.py [--reports 300000] [--runs 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable

from common import bench_settings, percentile, postgis  # type: ignore[import-not-found]
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.db.engine import make_engine
from backend.services.api_keys import create_api_key
from backend.services.seeding import seed_reports
from backend.services.setup import initialize


def timed(call: Callable[[int], int], runs: int) -> tuple[float, float]:
    """p50 and p95 in ms over `runs` calls (after 5 warm-ups); each call returns a status."""
    for i in range(5):
        call(i)
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        status = call(i)
        times.append((time.perf_counter() - t0) * 1000)
        assert status in (200, 201), status
    return percentile(times, 50), percentile(times, 95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="mm-o311-")
    with postgis() as url:
        settings = bench_settings(url, work)
        engine = make_engine(url)
        initialize(engine, settings)
        with Session(engine) as session:
            seed_reports(session, args.reports)
            key = create_api_key(session, "bench")
        engine.dispose()
        client = create_app(settings).test_client()
        base = "/open311/v2"
        box = "11.55,48.12,11.60,48.15"
        cases = [
            ("GET services.json", lambda i: client.get(f"{base}/services.json").status_code),
            ("GET requests.json (last 90 days, 100 per page)",
             lambda i: client.get(f"{base}/requests.json?page={1 + i % 5}").status_code),
            ("GET requests.xml (same)",
             lambda i: client.get(f"{base}/requests.xml?page={1 + i % 5}").status_code),
            ("GET requests.json?service_code&status=open&bbox",
             lambda i: client.get(f"{base}/requests.json?service_code=schild-fehlt"
                                  f"&status=open&bbox={box}").status_code),
            ("POST requests.json (routed, stored)",
             lambda i: client.post(f"{base}/requests.json", data={
                 "api_key": key, "service_code": "schild-fehlt",
                 "lat": 48.1374 + (i % 50) * 1e-4, "long": 11.5755,
                 "description": f"Bench {i}"}).status_code),
        ]
        print(f"Open311 server time, in-process, PostGIS with {args.reports:,} reports "
              f"({args.runs} runs each)")
        for label, call in cases:
            p50, p95 = timed(call, args.runs)
            print(f"  {label:<52} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()

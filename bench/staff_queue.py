"""The crew's queue query at a million reports: server time for a district-sized viewport.

Seeds PostGIS with 1,000,000 demo reports (three years, every status), then asks the queue of
one department (bezirksinspektion-mitte) for the viewport of each of its districts, sorted by
priority, up to 500 reports — first the service function alone (the SQL and its rows), then
the app in process (Flask's test client: query, names, thumbnails, JSON, no server), then the
whole HTTP request as a crew member's browser makes it: logged in (session cookie from
POST /api/v1/auth/login), over loopback to `maengelmelder serve --no-worker` (gunicorn with
backend/serving.py's options: 2 sync workers, the redacting JSON access log, INFO logging,
the multiprocess metrics, MM_PROXY_HOPS=1, production rate limits, a Redis server), one request
at a time on a kept-alive connection. Not included: nginx and TLS in front. The three take
turns request by request, so that a busy machine slows all three alike.

Run: .venv/bin/python bench/staff_queue.py [--reports 1000000] [--runs 300]

(Named staff_queue.py, not queue.py: a bench/queue.py would shadow Python's `queue` module
for every script in bench/, and redis imports that module.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from common import (  # type: ignore[import-not-found]
    bench_settings,
    percentile,
    postgis,
    production_server,
    stop_server,
)
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from backend.api.staff.session import COOKIE
from backend.app import create_app
from backend.db.engine import make_engine
from backend.models import District, Report
from backend.services.seeding import seed_reports
from backend.services.setup import initialize
from backend.services.staff.auth import create_api_token
from backend.services.staff.queue import QueueFilter, staff_queue
from backend.services.staff.users import create_user
from backend.workflow import OPEN_STATUSES
from tests import servers

DEPARTMENT = "bezirksinspektion-mitte"
PASSWORD = "queue-bench-password-1"
WARM_UP = 30


def viewports(session: Session, numbers: list[str]) -> list[tuple[float, float, float, float]]:
    """The bounding box of each district (lon/lat)."""
    boxes = []
    for number in numbers:
        extent = func.ST_Extent(District.geom)
        row = session.execute(select(
            func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent), func.ST_YMax(extent),
        ).where(District.number == number)).one()
        boxes.append(tuple(float(v) for v in row))
    return boxes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="mm-queue-")
    with postgis() as url:
        settings = bench_settings(url, work)
        engine = make_engine(url)
        initialize(engine, settings)
        with Session(engine) as session:
            started = time.perf_counter()
            seed_reports(session, args.reports)
            print(f"seeded {args.reports:,} reports in {time.perf_counter() - started:.0f} s")
            crew = create_user(session, username="anna", password=PASSWORD, role="crew",
                               departments=[DEPARTMENT])
            token = create_api_token(session, "anna", "bench")
            department_id = crew.departments[0].id
            open_values = sorted(s.value for s in OPEN_STATUSES)
            open_total = session.scalar(select(func.count()).select_from(Report).where(
                Report.department_id == department_id, Report.status.in_(open_values)))
            print(f"open reports of {DEPARTMENT}: {open_total:,} "
                  f"(of {session.scalar(select(func.count()).select_from(Report)):,})")
            boxes = viewports(session, ["01", "02", "03", "05", "08"])

            flt = QueueFilter(bbox=boxes[0], department_ids=frozenset({department_id}),
                              sort="priority", limit=500)
            print("\nquery plan (district 01):")
            for line in explain(session, crew, flt):
                print("   ", line)

            # The three measurements take turns, so that each sees the same machine (a shared
            # one is noisy); the first WARM_UP rounds are not counted.
            app = create_app(settings)
            client = app.test_client()
            service_ms, counts, http_ms, served_ms = [], [], [], []
            with staff_browser(url, work) as browser:
                for i in range(WARM_UP + args.runs):
                    box = boxes[i % len(boxes)]
                    flt = QueueFilter(bbox=box, department_ids=frozenset({department_id}),
                                      sort="priority", limit=500)
                    t0 = time.perf_counter()
                    rows, _ = staff_queue(session, crew, flt)
                    service = (time.perf_counter() - t0) * 1000
                    session.rollback()
                    query = ",".join(f"{v:.6f}" for v in box)
                    t0 = time.perf_counter()
                    response = client.get(
                        f"/api/v1/staff/queue?bbox={query}&sort=priority&limit=500",
                        headers={"Authorization": f"Bearer {token}"})
                    in_process = (time.perf_counter() - t0) * 1000
                    assert response.status_code == 200, response.get_data(as_text=True)
                    served = browser(query)
                    if i >= WARM_UP:
                        service_ms.append(service)
                        counts.append(len(rows))
                        http_ms.append(in_process)
                        served_ms.append(served)
        engine.dispose()

    print(f"\nqueue for one department, district-sized viewport, sort=priority, ≤ 500 rows "
          f"({args.runs} runs over districts 01 02 03 05 08; rows per answer "
          f"{min(counts)}–{max(counts)}, mean {statistics.mean(counts):.0f})")
    print(f"  service (SQL + rows):   p50 {percentile(service_ms, 50):6.1f} ms   "
          f"p95 {percentile(service_ms, 95):6.1f} ms")
    print(f"  app in process (Flask test client, no server, bearer token):  "
          f"p50 {percentile(http_ms, 50):6.1f} ms   p95 {percentile(http_ms, 95):6.1f} ms")
    print(f"  whole HTTP request (gunicorn, production options, session cookie):  "
          f"p50 {percentile(served_ms, 50):6.1f} ms   p95 {percentile(served_ms, 95):6.1f} ms")
    print("  goal: p95 ≤ 25 ms   (shared 2-core machine: compare within one run)")


@contextmanager
def staff_browser(url: str, work: str) -> Iterator[Callable[[str], float]]:
    """`maengelmelder serve --no-worker` with the production options, and a crew member
    logged in to it; yields a function that asks the queue for a bbox as the crew app does
    (a kept-alive connection, the session cookie) and answers the time it took (ms)."""
    redis = servers.start_redis(Path(work) / "redis-server")
    port = servers.free_port()
    env = dict(os.environ, MM_DATABASE_URL=url, MM_REDIS_URL=redis.url, MM_SECRET_KEY="bench",
               MM_DATA_DIR=work, MM_MEDIA_ROOT=f"{work}/media", MM_PROXY_HOPS="1",
               MM_LOG_FORMAT="json")
    server = production_server("app", port, env, Path(work) / "serve.log")
    try:
        base = f"http://127.0.0.1:{port}"
        http = requests.Session()
        login = http.post(f"{base}/api/v1/auth/login",
                          json={"username": "anna", "password": PASSWORD})
        assert login.status_code == 200, login.text
        # The cookie is Secure (production): sent by hand, as a browser sends it over the
        # TLS that nginx terminates.
        headers = {"Cookie": f"{COOKIE}={login.cookies[COOKIE]}"}
        for _ in range(10):  # both gunicorn workers past their start (map index warm-up)
            requests.get(f"{base}/api/v1/reports?limit=1&bbox=11.5,48.1,11.6,48.2")

        def get(bbox: str) -> float:
            t0 = time.perf_counter()
            response = http.get(f"{base}/api/v1/staff/queue?bbox={bbox}&sort=priority"
                                "&limit=500", headers=headers)
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, response.text
            return elapsed

        yield get
    finally:
        stop_server(server)
        redis.stop()


def explain(session: Session, crew, flt: QueueFilter) -> list[str]:  # noqa: ANN001
    """EXPLAIN ANALYZE of the exact statement the service sends."""
    captured: dict = {}

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        captured.setdefault("sql", (statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        staff_queue(session, crew, flt)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = captured["sql"]
    raw = session.connection().connection.driver_connection
    rows = raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).fetchall()
    session.rollback()
    return [row[0] for row in rows]


if __name__ == "__main__":
    main()

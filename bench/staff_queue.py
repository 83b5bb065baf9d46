"""The crew's queue query at a million reports: server time for a district-sized viewport.

Seeds PostGIS with 1,000,000 demo reports (three years, every status), then asks the queue of
one department (bezirksinspektion-mitte) for the viewport of each of its districts, sorted by
priority, up to 500 reports — first the service function alone (the SQL and its rows), then
the whole HTTP request through the app (query, names, thumbnails, JSON).

Run: .venv/bin/python bench/staff_queue.py [--reports 1000000] [--runs 300]

(Named staff_queue.py, not queue.py: a bench/queue.py would shadow Python's `queue` module
for every script in bench/, and redis imports that module.)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from common import bench_settings, percentile, postgis  # type: ignore[import-not-found]
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.db.engine import make_engine
from backend.models import District, Report
from backend.services.seeding import seed_reports
from backend.services.setup import initialize
from backend.services.staff.auth import create_api_token
from backend.services.staff.queue import QueueFilter, staff_queue
from backend.services.staff.users import create_user
from backend.workflow import OPEN_STATUSES

DEPARTMENT = "bezirksinspektion-mitte"


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
            crew = create_user(session, username="anna", password=None, role="crew",
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

            service_ms, counts = [], []
            for i in range(args.runs):
                flt = QueueFilter(bbox=boxes[i % len(boxes)],
                                  department_ids=frozenset({department_id}),
                                  sort="priority", limit=500)
                t0 = time.perf_counter()
                rows, _ = staff_queue(session, crew, flt)
                service_ms.append((time.perf_counter() - t0) * 1000)
                counts.append(len(rows))
                session.rollback()
        app = create_app(settings)
        client = app.test_client()
        http_ms = []
        for i in range(args.runs):
            box = ",".join(f"{v:.6f}" for v in boxes[i % len(boxes)])
            t0 = time.perf_counter()
            response = client.get(f"/api/v1/staff/queue?bbox={box}&sort=priority&limit=500",
                                  headers={"Authorization": f"Bearer {token}"})
            http_ms.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)
        engine.dispose()

    print(f"\nqueue for one department, district-sized viewport, sort=priority, ≤ 500 rows "
          f"({args.runs} runs over districts 01 02 03 05 08; rows per answer "
          f"{min(counts)}–{max(counts)}, mean {statistics.mean(counts):.0f})")
    print(f"  service (SQL + rows):   p50 {percentile(service_ms, 50):6.1f} ms   "
          f"p95 {percentile(service_ms, 95):6.1f} ms")
    print(f"  HTTP (whole request):   p50 {percentile(http_ms, 50):6.1f} ms   "
          f"p95 {percentile(http_ms, 95):6.1f} ms")
    print("  goal: p95 ≤ 25 ms")


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

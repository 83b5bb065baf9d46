"""Staff search at a million reports (issue 20.3): what a service desk types, timed in the
search service (the SQL and its rows, newest first, up to 20), on PostGIS and on the embedded
SQLite/SpatiaLite (FTS5).

Seeds the demo reports (three years, every status; their descriptions come from a small set,
so common words match a third of all reports — the hard case for "newest first"), then gives
one report in 1,000 a house address and one in 100 a reporter's e-mail address (what the seed
leaves empty), and asks, as a dispatcher (all departments) and as a crew member (one
department): a common word, a word in one report in 12, two prefixes, a street name
(address), a word no report has, a report number, a tracking token and an e-mail address.

Run: .venv/bin/python bench/staff_search.py [--reports 1000000] [--runs 40]
     [--backend postgis|spatialite|both]
Goal: p95 <= 50 ms on PostGIS at 1,000,000 reports.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from common import bench_settings, percentile, postgis  # type: ignore[import-not-found]
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.models import Report
from backend.services.search.staff import staff_search
from backend.services.seeding import seed_reports
from backend.services.setup import initialize
from backend.services.staff.users import create_user
from backend.tokens import hash_token

STREETS = ("Leopoldstraße", "Sonnenstraße", "Rosenheimer Straße", "Landsberger Straße",
           "Dachauer Straße", "Ungererstraße", "Fürstenrieder Straße", "Wasserburger Landstraße")
DEPARTMENT = "bezirksinspektion-mitte"


@contextmanager
def database(backend: str, work: str) -> Iterator[str]:
    if backend == "postgis":
        with postgis() as url:
            yield url
    else:
        yield f"sqlite:///{work}/search.sqlite"


def enrich(session: Session) -> tuple[str, str, str]:
    """Addresses on one report in 1,000, e-mails on one in 100 (set as the app stores them);
    returns a report number, a tracking token and an e-mail address to look for."""
    dialect = session.get_bind().dialect.name
    street = "CASE (id / 1000) % {n} {cases} END".format(
        n=len(STREETS), cases=" ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(STREETS)))
    session.execute(text(f"UPDATE report SET address = ({street}) || ' ' || "
                         "CAST(id % 200 + 1 AS TEXT) WHERE id % 1000 = 7"))
    session.execute(text("UPDATE report SET reporter_email = 'melder' || "
                         "CAST(id % 5000 AS TEXT) || '@example.org' WHERE id % 100 = 3"))
    token = "bench-tracking-token-" + "x" * 24
    target = session.scalars(select(Report.id).order_by(Report.id).offset(123_456 % max(
        1, session.query(Report).count())).limit(1)).one()
    session.execute(update(Report).where(Report.id == target).values(
        tracking_token_hash=hash_token(token)))
    number = session.scalars(select(Report.public_id).where(Report.id == target)).one()
    email = session.scalars(select(Report.reporter_email).where(
        Report.reporter_email.is_not(None), Report.department_id == select(Report.department_id)
        .where(Report.id == target).scalar_subquery()).limit(1)).first() or "melder3@example.org"
    if dialect == "postgresql":
        session.execute(text("ANALYZE report"))
    session.commit()
    return number, token, email


def run(backend: str, reports: int, runs: int) -> None:
    work = tempfile.mkdtemp(prefix="mm-search-")
    with database(backend, work) as url:
        settings = bench_settings(url, work)
        engine = make_engine(url)
        initialize(engine, settings)
        with Session(engine) as session:
            started = time.perf_counter()
            seed_reports(session, reports)
            seeded = time.perf_counter() - started
            started = time.perf_counter()
            number, token, email = enrich(session)
            print(f"\n{backend}: seeded {reports:,} reports in {seeded:.0f} s (text index kept "
                  f"by the database as they go in); addresses and e-mails set in "
                  f"{time.perf_counter() - started:.0f} s")
            dispatcher = create_user(session, username="dora", password=None, role="dispatcher",
                                     departments=[])
            crew = create_user(session, username="carl", password=None, role="crew",
                               departments=[DEPARTMENT])
            queries = {
                "common word (ampel)": "ampel",
                "1 in 12 (halteverbot)": "halteverbot",
                "two prefixes (grün fuß)": "grün fuß",
                "street (leopoldstr)": "leopoldstr",
                "no match (zebrastreifen)": "zebrastreifen",
                "report number": number,
                "tracking token": token,
                "e-mail (crew)": email,
            }
            print(f"{'query':<28}{'who':<12}{'found':>7}{'p50 ms':>9}{'p95 ms':>9}")
            worst = 0.0
            for label, q in queries.items():
                people = [("crew", crew)] if "e-mail" in label else [
                    ("dispatcher", dispatcher), ("crew", crew)]
                for who, user in people:
                    times, found = [], 0
                    for i in range(runs + 3):
                        t0 = time.perf_counter()
                        result = staff_search(session, user, q)
                        elapsed = (time.perf_counter() - t0) * 1000
                        session.rollback()
                        if i >= 3:  # warm-up: the first reads fill the caches
                            times.append(elapsed)
                        found = len(result.rows)
                    p95 = percentile(times, 95)
                    worst = max(worst, p95)
                    print(f"{label:<28}{who:<12}{found:>7}{percentile(times, 50):>9.1f}"
                          f"{p95:>9.1f}")
            print(f"worst p95 {worst:.1f} ms (goal on PostGIS: <= 50 ms)")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--backend", choices=("postgis", "spatialite", "both"), default="both")
    args = parser.parse_args()
    print(f"staff search, service time (SQL + rows, newest first, <= 20), {args.runs} runs "
          f"after 3 warm-up runs, cpus {os.cpu_count()}")
    for backend in ("postgis", "spatialite") if args.backend == "both" else (args.backend,):
        run(backend, args.reports, args.runs)


if __name__ == "__main__":
    main()

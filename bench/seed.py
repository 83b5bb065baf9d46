"""How fast `maengelmelder seed` fills PostGIS (and SpatiaLite) with realistic demo reports.

Run: .venv/bin/python bench/seed.py [--reports 1000000] [--spatialite-reports 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import postgis, shared_data  # type: ignore[import-not-found]
from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.services.seeding import seed_reports
from backend.services.setup import initialize
from backend.settings import Settings


def seed(url: str, raw: Path, count: int, workdir: str) -> tuple[float, int, int, str]:
    """Initialise a database, seed it, and return (seconds, reports, events, size)."""
    engine = make_engine(url)
    initialize(engine, Settings(database_url=url, districts_source=str(raw), secret_key="b",
                                data_dir=workdir))
    started = time.perf_counter()
    with Session(engine) as session:
        result = seed_reports(session, count)
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        reports = conn.execute(text("SELECT count(*) FROM report")).scalar()
        events = conn.execute(text("SELECT count(*) FROM report_event")).scalar()
        size = (conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
                .scalar() if engine.dialect.name == "postgresql"
                else f"{Path(engine.url.database).stat().st_size / 1e6:.0f} MB")
    engine.dispose()
    assert reports == result.reports
    return seconds, reports, events, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--spatialite-reports", type=int, default=100_000)
    args = parser.parse_args()
    raw = shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"
    work = tempfile.mkdtemp(prefix="mm-seed-")
    print("Seeding demo reports (hotspots, every status, three years of history)")
    with postgis(durable=True) as url:
        s, n, e, size = seed(url, raw, args.reports, work)
        print(f"  PostGIS     {n:>10,} reports + {e:,} events in {s:6.1f} s "
              f"({n / s:,.0f} reports/s), database {size}")
    if args.spatialite_reports:
        s, n, e, size = seed(f"sqlite:///{work}/seed.sqlite", raw, args.spatialite_reports, work)
        print(f"  SpatiaLite  {n:>10,} reports + {e:,} events in {s:6.1f} s "
              f"({n / s:,.0f} reports/s), file {size}")


if __name__ == "__main__":
    main()

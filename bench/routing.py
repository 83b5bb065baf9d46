"""District lookups per second: in process (geo.DistrictIndex) next to PostGIS ST_Contains.

Run: .venv/bin/python bench/routing.py [--points 200000] [--queries 5000]
"""

from __future__ import annotations

import argparse
import time

from common import median, postgis, shared_data  # type: ignore[import-not-found]

from backend.db.engine import make_engine
from backend.settings import Settings
from bench.points import random_points_in_bbox
from geo.district_index import DistrictIndex
from geo.district_layer import parse_district_layer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    raw = shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"
    shapes = parse_district_layer(raw.read_bytes())
    started = time.perf_counter()
    index = DistrictIndex((s.number, s.geometry) for s in shapes)
    build_ms = (time.perf_counter() - started) * 1000
    lons, lats = random_points_in_bbox(index.bounds, args.points, seed=7)
    pts = list(zip(lons.tolist(), lats.tolist(), strict=True))

    single, batch = [], []
    for _ in range(args.rounds):
        lookup = index.lookup
        started = time.perf_counter()
        for lon, lat in pts:
            lookup(lon, lat)
        single.append(len(pts) / (time.perf_counter() - started))
        started = time.perf_counter()
        index.lookup_codes(lons, lats)
        batch.append(len(pts) / (time.perf_counter() - started))

    with postgis() as url:
        from backend.services.setup import initialize

        engine = make_engine(url)
        initialize(engine, Settings(database_url=url, districts_source=str(raw),
                                    secret_key="bench", data_dir="/tmp"))
        raw_conn = engine.raw_connection()
        cursor = raw_conn.cursor()
        sql = ("SELECT number FROM district WHERE "
               "ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))")
        sample = pts[: args.queries]
        pg_rates, agree = [], 0
        for _ in range(args.rounds):
            started = time.perf_counter()
            for lon, lat in sample:
                cursor.execute(sql, (lon, lat), prepare=True)
                cursor.fetchone()
            pg_rates.append(len(sample) / (time.perf_counter() - started))
        for lon, lat in sample[:2000]:
            cursor.execute(sql, (lon, lat), prepare=True)
            row = cursor.fetchone()
            agree += (row[0] if row else None) == index.lookup(lon, lat)
        raw_conn.close()
        engine.dispose()

    print("District lookup on the real Munich layer (25 districts), median of "
          f"{args.rounds} rounds")
    print(f"  index build                 {build_ms:10.1f} ms")
    print(f"  in process, single point    {median(single):12,.0f} lookups/s "
          f"({1e6 / median(single):.2f} µs each; goal ≥ 50,000/s)")
    print(f"  in process, batch           {median(batch):12,.0f} points/s")
    print(f"  PostGIS ST_Contains / point {median(pg_rates):12,.0f} queries/s "
          f"({1e3 / median(pg_rates):.3f} ms each, prepared, loopback)")
    print(f"  in process vs PostGIS       {median(single) / median(pg_rates):12,.0f} ×")
    print(f"  agreement on 2,000 points   {agree / 20:.1f} %")


if __name__ == "__main__":
    main()

"""Address search at city scale: import an address register, then search it as people type.

For each backend: a fresh database (Munich districts from the shared data), a CSV of
synthetic addresses (default 300,000 — Munich has ≈ 150,000 buildings with about two house
numbers each; 3,000 street names × up to 100 numbers, points inside the districts, fixed seed)
imported with `import_addresses` (what `maengelmelder addresses import` runs), then imported
again unchanged. Then `search_places` (the service behind GET /api/v1/places, without a
geocoder) is timed for what a citizen types on the way to an address: 3-6 letters of a street,
a whole street name, and street plus house number.

Targets: import ≤ 30 s; search p95 ≤ 20 ms (a keystroke's suggestions must keep up).

Run: .venv/bin/python bench/places.py [--backend spatialite|postgis|both] [--addresses 300000]
     [--queries 2000]
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import tempfile
import time
from pathlib import Path

from assets import city_points  # type: ignore[import-not-found]
from common import bench_settings, percentile, postgis  # type: ignore[import-not-found]
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.services.addresses.importer import import_addresses
from backend.services.addresses.places import search_places
from backend.services.city_cache import last_snapshot
from backend.services.setup import initialize

PARTS = ("Linden", "Kastanien", "Berg", "Wald", "Mühl", "Kirch", "Schul", "Garten", "See",
         "Feld", "Brunnen", "Rosen", "Birken", "Eichen", "Sonnen", "Hof", "Markt", "Anger",
         "Isar", "Würm", "Föhren", "Weiden", "Tannen", "Ahorn", "Erlen", "Buchen", "Hügel",
         "Wiesen", "Auen", "Ulmen")
KINDS = ("straße", "weg", "platz", "allee", "ring", "gasse")


def street_names(count: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        name = rng.choice(PARTS) + rng.choice(PARTS).lower() + rng.choice(KINDS)
        names.add(name[0].upper() + name[1:])
    return sorted(names)


def write_register(path: Path, count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    streets = street_names(3000, rng)
    points = city_points(count, seed)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["street", "housenumber", "postcode", "lat", "lon"])
        for i, (lon, lat) in enumerate(points):
            street = streets[i % len(streets)]
            number = i // len(streets) + 1
            out.writerow([street, str(number), f"80{331 + i % 600}", f"{lat:.6f}",
                          f"{lon:.6f}"])
    return streets


def run(backend: str, url: str, count: int, queries: int) -> None:
    work = tempfile.mkdtemp(prefix="mm-bench-places-")
    try:
        settings = bench_settings(url, work, demo_assets_source="off")
        engine = make_engine(url)
        initialize(engine, settings)
        register = Path(work) / "addresses.csv"
        streets = write_register(register, count)
        with Session(engine) as session:
            started = time.perf_counter()
            result = import_addresses(session, str(register))
            first = time.perf_counter() - started
            started = time.perf_counter()
            import_addresses(session, str(register))
            again = time.perf_counter() - started
        print(f"{backend}: import of {count:,} addresses {first:.1f} s "
              f"(again, unchanged: {again:.1f} s) — {result}")
        rng = random.Random(11)
        typed = {
            "3-6 letters": [rng.choice(streets)[:rng.randint(3, 6)] for _ in range(queries)],
            "whole street": [rng.choice(streets) for _ in range(queries)],
            "street + number": [f"{rng.choice(streets)} {rng.randint(1, 100)}"
                                for _ in range(queries)],
        }
        with Session(engine) as session:
            snapshot = last_snapshot(session)
            for label, texts in typed.items():
                times, found = [], 0
                for text in texts:
                    started = time.perf_counter()
                    places = search_places(session, snapshot, text, 8)
                    times.append((time.perf_counter() - started) * 1000)
                    found += bool(places)
                print(f"{backend}: search, {label:16} p50 {percentile(times, 50):.2f} ms, "
                      f"p95 {percentile(times, 95):.2f} ms, p99 {percentile(times, 99):.2f} ms "
                      f"({found}/{len(texts)} with results)")
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    parser.add_argument("--addresses", type=int, default=300_000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    if args.backend in ("spatialite", "both"):
        work = tempfile.mkdtemp(prefix="mm-bench-sqlite-")
        try:
            run("spatialite", f"sqlite:///{work}/bench.sqlite", args.addresses, args.queries)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if args.backend in ("postgis", "both"):
        with postgis() as url:
            run("postgis", url, args.addresses, args.queries)


if __name__ == "__main__":
    main()

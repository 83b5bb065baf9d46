"""Sustained mixed load on the production setup: `maengelmelder serve` (gunicorn, 2 workers,
and its embedded rq workers) + PostGIS (fsync on) + Redis, on loopback.

Every photo upload is a distinct photo of realistic size: a real phone photo (Nokia, downscaled
as the app does, ≈ 290 KB) in which a request-specific set of 16×16 squares is inverted, so the
original differs in bytes (the content-addressed store writes and fsyncs each one) and its web
sizes differ too. The variants are built by splicing two JPEG encodings at restart markers, so
wrk composes a new photo per request without re-encoding.

First a burst of photo reports on the idle server, timed both ways: accepted/s (and the 201's
latency) and fully processed/s: from the first request until the last web size of the last
photo is stored and the photo marked ready by the rq workers (with faces and plates detected,
as the product runs). Then three request kinds at the same time, each from its own wrk: report
submissions with a photo, public map reads (a page of 200 reports for a viewport), and
tracking polls; a bare Flask endpoint served the same way is the yardstick. Then submissions
alone at rising concurrency, to find the highest rate at which their p99 stays under 500 ms.
The workers keep rendering the backlog of these runs meanwhile (as under any sustained load);
the backlog left at the end is printed. Rate limits are off (one client address).

With --proxy, the app's requests go through the production nginx (deploy/nginx: TLS,
request buffering) as in docker-compose.yml; the bare endpoint stays direct.

Run: .venv/bin/python bench/load.py [--seconds 60] [--reports 50000] [--burst 100] [--proxy]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests
import urllib3
from common import (  # type: ignore[import-not-found]
    ROOT,
    percentile,
    postgis,
    production_server,
    shared_data,
    stop_server,
    wrk_figures,
)
from PIL import Image, ImageOps
from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.services.seeding import seed_reports
from backend.services.setup import initialize
from backend.settings import Settings
from backend.static_files import collect
from tests import servers
from tests.deploy.proxy import start_proxy

LUA = str(ROOT / "bench" / "load.lua")
BOUNDARY = "mmloadbench7f3a9c"
FIELDS = {"category": "schild-verdreht", "lat": "48.1374", "lon": "11.5755",
          "description": "Schild nach Sturm umgefallen."}
# Requests per wrk run at most: run k numbers its photos from k * RUN_SPAN on.
RUN_SPAN = 1 << 24


class DistinctPhotos:
    """Upload bodies with a different photo each: one real photo, downscaled as the app does
    (≤ 2048 px, JPEG 85), encoded twice with a restart marker after every row of 16 px
    blocks: as it is, and with one 16×16 square per row inverted. Rows are independent
    between restart markers, so photo n takes row k from the second encoding when bit k of n
    is set: distinct bytes and distinct pixels (hence distinct web sizes) for every n."""

    def __init__(self, photo: Path) -> None:
        image = ImageOps.exif_transpose(Image.open(photo)).convert("RGB")
        image.thumbnail((2048, 2048))
        marked = image.copy()
        width, height = image.size
        for row in range(0, height - 15, 16):
            x = (row // 16 * 97) % (width - 16)
            marked.paste(ImageOps.invert(marked.crop((x, row, x + 16, row + 16))), (x, row))
        head, self.plain = _rows(_jpeg(image))
        marked_head, self.marked = _rows(_jpeg(marked))
        assert head == marked_head and len(self.plain) == len(self.marked)
        fields = b"".join(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n"
                          f"\r\n{v}\r\n".encode() for k, v in FIELDS.items())
        self.prefix = fields + (f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
                                f"name=\"photos\"; filename=\"foto.jpg\"\r\nContent-Type: "
                                f"image/jpeg\r\n\r\n").encode() + head
        self.suffix = f"\r\n--{BOUNDARY}--\r\n".encode()

    def body(self, n: int) -> bytes:
        """The multipart report with photo number n."""
        return self.prefix + b"".join(
            (self.marked if n >> k & 1 else self.plain)[k] for k in range(len(self.plain))
        ) + self.suffix

    def write_for_wrk(self, directory: Path) -> None:
        """The pieces for load.lua, which composes the same bodies."""
        directory.mkdir()
        (directory / "prefix").write_bytes(self.prefix)
        (directory / "suffix").write_bytes(self.suffix)
        for k, (plain, marked) in enumerate(zip(self.plain, self.marked, strict=True)):
            (directory / f"plain-{k}").write_bytes(plain)
            (directory / f"marked-{k}").write_bytes(marked)
        (directory / "rows").write_text(str(len(self.plain)))


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, restart_marker_rows=1)
    return out.getvalue()


def _rows(data: bytes) -> tuple[bytes, list[bytes]]:
    """A baseline JPEG split into its headers (through the SOS segment) and its restart
    intervals, each with the marker that ends it (RSTn or EOI)."""
    sos = data.index(b"\xff\xda")
    start = sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big")
    rows, i = [], start
    while (j := data.find(b"\xff", i)) >= 0:
        if 0xD0 <= data[j + 1] <= 0xD7 or data[j + 1] == 0xD9:
            rows.append(data[start:j + 2])
            start = j + 2
        i = j + 2  # FF00 is a stuffed byte, FFD0-D7/D9 a marker; no other marker in the scan
    return data[:sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big")], rows


class Wrk:
    """wrk runs against the app, each numbering its photos from a range of its own."""

    def __init__(self, photos_dir: Path) -> None:
        self.photos_dir = photos_dir
        self.runs = 1  # run 0 is the burst (from Python)

    def start(self, url: str, seconds: int, connections: int, kind: str, *args: str
              ) -> subprocess.Popen:
        if kind == "submit":
            args = (str(self.photos_dir), BOUNDARY, str(self.runs * RUN_SPAN))
            self.runs += 1
        return subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
                                 "--latency", "-s", LUA, url, "--", kind, *args],
                                stdout=subprocess.PIPE, text=True)


def figures(proc: subprocess.Popen) -> dict[str, float]:
    return wrk_figures(proc.communicate()[0])


def photo_counts(engine: object) -> dict[str, object]:
    """Photos by status, the newest id and the last time one was marked ready."""
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return dict(conn.execute(text(
            "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'pending') AS pending, "
            "count(*) FILTER (WHERE status IN ('failed', 'withheld')) AS not_ready, "
            "coalesce(max(id), 0) AS last_id FROM photo")).mappings().one())


def wait_processed(engine: object, after_id: int, timeout_s: float) -> dict[str, float]:
    """Wait until every photo with an id above `after_id` has left `pending`; their count,
    the time the last one was marked ready, and the 201 → ready latencies (s)."""
    deadline = time.time() + timeout_s
    query = text("SELECT count(*) FILTER (WHERE status = 'pending') FROM photo WHERE id > :i")
    while True:
        with engine.connect() as conn:  # type: ignore[attr-defined]
            pending = conn.execute(query, {"i": after_id}).scalar()
        if pending == 0 or time.time() > deadline:
            break
        time.sleep(0.25)
    with engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(text(
            "SELECT status, updated_at, created_at FROM photo WHERE id > :i"),
            {"i": after_id}).all()
    done = [r for r in rows if r.status != "pending"]
    return {"photos": len(rows), "pending": len(rows) - len(done),
            "not_ready": sum(r.status != "ready" for r in done),
            "last": max(_epoch(r.updated_at) for r in done) if done else float("nan"),
            "latencies": [_epoch(r.updated_at) - _epoch(r.created_at) for r in done]}


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def burst(url: str, photos: DistinctPhotos, first: int, count: int, connections: int
          ) -> tuple[float, float, list[float]]:
    """POST `count` photo reports (photos first, first + 1, …) over `connections`
    connections; start and end (epoch s), and each request's latency (ms)."""
    sessions = [requests.Session() for _ in range(connections)]
    bodies = [photos.body(first + n) for n in range(count)]

    def post(n: int) -> float:
        t0 = time.perf_counter()
        answer = sessions[n % connections].post(
            f"{url}/api/v1/reports", data=bodies[n], verify=False, timeout=120,
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                     "Idempotency-Key": f"load-burst-{first + n}"})
        assert answer.status_code == 201, answer.text
        return (time.perf_counter() - t0) * 1000

    started = time.time()
    with ThreadPoolExecutor(connections) as pool:
        latencies = list(pool.map(post, range(count)))
    return started, time.time(), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--step-seconds", type=int, default=15)
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--burst", type=int, default=100,
                        help="photo reports in the burst timed until fully processed")
    parser.add_argument("--proxy", action="store_true",
                        help="send the app's requests through nginx with TLS")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk (scripts/bootstrap does it as root)")
    work = Path(tempfile.mkdtemp(prefix="mm-load-"))
    raw = shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"
    photos = DistinctPhotos(shared_data() / "photos" / "mobile" / "HMD_Nokia_8.3_5G.jpg")
    photos.write_for_wrk(work / "photos")
    redis = servers.start_redis(work / "redis")
    with postgis(durable=True) as url:
        settings = Settings(database_url=url, redis_url=redis.url, districts_source=str(raw),
                            secret_key="load", data_dir=str(work),
                            media_root=str(work / "media"), rate_limits_enabled=False)
        engine = make_engine(url)
        initialize(engine, settings)
        with Session(engine) as session:
            seed_reports(session, args.reports)
        port, bare_port = servers.free_port(), servers.free_port()
        env = dict(os.environ, MM_DATABASE_URL=url, MM_REDIS_URL=redis.url,
                   MM_SECRET_KEY="load", MM_DATA_DIR=str(work),
                   MM_MEDIA_ROOT=str(work / "media"), MM_LOG_FORMAT="json",
                   MM_RATE_LIMITS_ENABLED="false", MM_BASE_URL=f"http://127.0.0.1:{port}")
        app_url = f"http://127.0.0.1:{port}"
        serve = production_server("app", port, {**env, "MM_PROXY_HOPS": "1" if args.proxy
                                                else "0"}, work / "serve.log", job_workers=True)
        proxy = None
        if args.proxy:
            collect(settings, work / "static")
            proxy = start_proxy(work / "proxy", port, work / "static")
            app_url = proxy.url
        bare = production_server("bench.bare_load_app:app", bare_port, env, work / "bare.log")
        try:
            rng = random.Random(5)
            boxes, tokens = work / "boxes", work / "tokens"
            boxes.write_text("\n".join(
                f"{lon:.4f},{lat:.4f},{lon + .02:.4f},{lat + .012:.4f}" for lon, lat in (
                    (rng.uniform(11.45, 11.68), rng.uniform(48.08, 48.2))
                    for _ in range(200))))
            urllib3.disable_warnings()  # the proxy's throwaway certificate
            made = [requests.post(f"{app_url}/api/v1/reports", verify=False, json={
                "category": "sonstiges", "lat": 48.1374, "lon": 11.5755,
                "description": "Tracking"}).json()["tracking_token"] for _ in range(50)]
            tokens.write_text("\n".join(made))
            wrk = Wrk(work / "photos")
            # Warm-up: photos through both workers (detector models loaded) and wrk, done.
            before = photo_counts(engine)["last_id"]
            burst(app_url, photos, 0, 8, 2)
            figures(wrk.start(app_url, 3, 2, "submit"))
            wait_processed(engine, before, 600)
            before = photo_counts(engine)["last_id"]
            started, accepted_at, burst_ms = burst(app_url, photos, 8, args.burst, 8)
            processed = wait_processed(engine, before, 1800)
            before = photo_counts(engine)["last_id"]
            runs = {
                "submit (photo ≈ 290 KB)": wrk.start(app_url, args.seconds, 4, "submit"),
                "map read (200 reports)": wrk.start(app_url, args.seconds, 8, "map", str(boxes)),
                "tracking poll": wrk.start(app_url, args.seconds, 8, "track", str(tokens)),
            }
            mixed_from = time.time()
            results = {name: figures(proc) for name, proc in runs.items()}
            results["bare Flask endpoint (alone)"] = figures(
                wrk.start(f"http://127.0.0.1:{bare_port}", 20, 20, "bare"))
            steps = []
            for connections in (1, 2, 4, 8, 16, 32):
                steps.append((connections, figures(wrk.start(
                    app_url, args.step_seconds, connections, "submit"))))
            with engine.connect() as conn:
                since = conn.execute(text(
                    "SELECT count(*) AS accepted, count(*) FILTER (WHERE status <> 'pending') "
                    "AS processed FROM photo WHERE id > :i"), {"i": before}).mappings().one()
            since = {**since, "seconds": time.time() - mixed_from}
        finally:
            if proxy is not None:
                proxy.stop()
            stop_server(serve)
            stop_server(bare)
            redis.stop()
            engine.dispose()
    shutil.rmtree(work, ignore_errors=True)
    via = " through nginx (TLS)" if args.proxy else ""
    print(f"Photo reports{via}: `maengelmelder serve` (gunicorn 2 workers + its 2 embedded rq "
          f"workers), PostGIS (fsync on) with {args.reports:,} seeded reports, Redis; "
          "loopback, shared 2-core machine")
    print(f"Burst of {args.burst} distinct photo reports (8 connections) on the idle server:")
    took = accepted_at - started
    print(f"  accepted (201)       {args.burst / took:7.1f} reports/s   p50 "
          f"{percentile(burst_ms, 50):6.0f} ms   p95 {percentile(burst_ms, 95):6.0f} ms   "
          f"p99 {percentile(burst_ms, 99):6.0f} ms   ({took:.1f} s)")
    done = processed["last"] - started
    print(f"  fully processed      {processed['photos'] / done:7.1f} photos/s    last web size "
          f"ready {done:.1f} s after the first request; 201 → ready p50 "
          f"{percentile(processed['latencies'], 50):.1f} s, max "
          f"{max(processed['latencies']):.1f} s; not ready (failed/withheld) "
          f"{processed['not_ready']}, still pending {processed['pending']}")
    print(f"Mixed load{via}, {args.seconds} s (the workers render the backlog meanwhile):")
    for name, r in results.items():
        print(f"  {name:<30} {r['rate']:8.1f} req/s   p50 {r['p50']:7.1f} ms   "
              f"p99 {r['p99']:7.1f} ms   non-2xx {r['non2xx']}")
    print(f"Submissions alone, rising concurrency ({args.step_seconds} s each):")
    best = None
    for connections, r in steps:
        ok = r["p99"] < 500 and r["non2xx"] == 0
        print(f"  {connections:3d} connections  {r['rate']:7.1f} req/s   p99 {r['p99']:7.1f} ms"
              f"{'' if ok else '   (p99 ≥ 500 ms)'}")
        if ok and (best is None or r["rate"] > best):
            best = r["rate"]
    print(f"  highest accepted rate with p99 < 500 ms: {best or 0:.1f} reports/s")
    print(f"  meanwhile the workers processed {since['processed']:,} of the "
          f"{since['accepted']:,} photos accepted since the mixed load began "
          f"({since['processed'] / since['seconds']:.1f} photos/s over {since['seconds']:.0f} s); "
          f"{since['accepted'] - since['processed']:,} were still waiting at the end")


if __name__ == "__main__":
    main()

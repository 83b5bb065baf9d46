"""Sustained mixed load on the production setup: gunicorn (2 workers) + PostGIS (fsync on) +
Redis + the rq worker, on loopback.

Three request kinds run at the same time, each from its own wrk: report submissions with a
real phone photo (as the app uploads it, ≈ 300 KB), public map reads (a page of 200 reports
for a viewport), and tracking polls. A bare Flask endpoint served the same way is measured in
the same run as the yardstick. Then submissions alone at rising concurrency, to find the
highest rate at which their p99 stays under 500 ms. Rate limits are off (one client address).

With --proxy, the app's requests go through the production nginx (deploy/nginx: TLS,
request buffering) as in docker-compose.yml; the bare endpoint stays direct.

Run: .venv/bin/python bench/load.py [--seconds 60] [--reports 50000] [--proxy]
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
from pathlib import Path

import requests
import urllib3
from common import ROOT, postgis, shared_data, wrk_figures  # type: ignore[import-not-found]
from PIL import Image
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


def upload_body(photo: Path, path: Path) -> None:
    """A multipart report with the photo downscaled like the app does (≤ 2048 px, JPEG 85)."""
    image = Image.open(photo)
    image.thumbnail((2048, 2048))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    fields = {"category": "schild-verdreht", "lat": "48.1374", "lon": "11.5755",
              "description": "Schild nach Sturm umgefallen."}
    parts = [f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
             .encode() for k, v in fields.items()]
    parts.append(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photos\"; "
                 f"filename=\"foto.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".encode()
                 + out.getvalue() + b"\r\n")
    path.write_bytes(b"".join(parts) + f"--{BOUNDARY}--\r\n".encode())


def start(command: list[str], env: dict[str, str], url: str) -> subprocess.Popen:
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            requests.get(url, timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{command} did not start")


def wrk(url: str, seconds: int, connections: int, *args: str) -> subprocess.Popen:
    return subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                             "-s", LUA, url, "--", *args],
                            stdout=subprocess.PIPE, text=True)


def figures(proc: subprocess.Popen) -> dict[str, float]:
    return wrk_figures(proc.communicate()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--proxy", action="store_true",
                        help="send the app's requests through nginx with TLS")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk (scripts/bootstrap does it as root)")
    work = Path(tempfile.mkdtemp(prefix="mm-load-"))
    raw = shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"
    upload_body(shared_data() / "photos" / "mobile" / "HMD_Nokia_8.3_5G.jpg", work / "body")
    redis = servers.start_redis(work / "redis")
    with postgis(durable=True) as url:
        settings = Settings(database_url=url, redis_url=redis.url, districts_source=str(raw),
                            secret_key="load", data_dir=str(work),
                            media_root=str(work / "media"), rate_limits_enabled=False)
        engine = make_engine(url)
        initialize(engine, settings)
        with Session(engine) as session:
            seed_reports(session, args.reports)
        engine.dispose()
        port, bare_port = servers.free_port(), servers.free_port()
        env = dict(os.environ, MM_DATABASE_URL=url, MM_REDIS_URL=redis.url,
                   MM_SECRET_KEY="load", MM_DATA_DIR=str(work),
                   MM_MEDIA_ROOT=str(work / "media"), MM_LOG_LEVEL="WARNING",
                   MM_RATE_LIMITS_ENABLED="false", MM_BASE_URL=f"http://127.0.0.1:{port}",
                   PYTHONPATH=str(ROOT))
        app_url = f"http://127.0.0.1:{port}"
        serve = start([sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
                      {**env, "MM_PROXY_HOPS": "1" if args.proxy else "0"}, f"{app_url}/healthz")
        proxy = None
        if args.proxy:
            collect(settings, work / "static")
            proxy = start_proxy(work / "proxy", port, work / "static")
            app_url = proxy.url
        bare = start([sys.executable, "-m", "gunicorn", "-w", "2", "-b",
                      f"127.0.0.1:{bare_port}", "--log-level", "warning", "--chdir",
                      str(ROOT / "bench"), "bare_load_app:app"], env,
                     f"http://127.0.0.1:{bare_port}/bare")
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
            figures(wrk(app_url, 5, 4, "submit", str(work / "body"), BOUNDARY))  # warm-up
            runs = {
                "submit (photo ≈ 300 KB)": wrk(app_url, args.seconds, 4, "submit",
                                               str(work / "body"), BOUNDARY),
                "map read (200 reports)": wrk(app_url, args.seconds, 8, "map", str(boxes)),
                "tracking poll": wrk(app_url, args.seconds, 8, "track", str(tokens)),
            }
            results = {name: figures(proc) for name, proc in runs.items()}
            results["bare Flask endpoint (alone)"] = figures(
                wrk(f"http://127.0.0.1:{bare_port}", 20, 20, "bare"))
            steps = []
            for connections in (1, 2, 4, 8, 16, 32):
                steps.append((connections, figures(wrk(app_url, 15, connections, "submit",
                                                       str(work / "body"), BOUNDARY))))
        finally:
            if proxy is not None:
                proxy.stop()
            serve.terminate()
            bare.terminate()
            serve.wait(60)
            bare.wait(60)
            redis.stop()
    via = " through nginx (TLS)" if args.proxy else ""
    print(f"Mixed load{via}, {args.seconds} s, gunicorn 2 workers + rq worker, PostGIS "
          f"(fsync on) with {args.reports:,} seeded reports, Redis; wrk on loopback")
    for name, r in results.items():
        print(f"  {name:<30} {r['rate']:8.1f} req/s   p50 {r['p50']:7.1f} ms   "
              f"p99 {r['p99']:7.1f} ms   non-2xx {r['non2xx']}")
    print("Submissions alone, rising concurrency (15 s each):")
    best = None
    for connections, r in steps:
        ok = r["p99"] < 500 and r["non2xx"] == 0
        print(f"  {connections:3d} connections  {r['rate']:7.1f} req/s   p99 {r['p99']:7.1f} ms"
              f"{'' if ok else '   (p99 ≥ 500 ms)'}")
        if ok and (best is None or r["rate"] > best):
            best = r["rate"]
    print(f"  highest submission rate with p99 < 500 ms: {best or 0:.1f} reports/s")


if __name__ == "__main__":
    main()

"""Notifications delivered per second to a local push service, with 1 and 2 rq workers, and the
latency from a status change (service call) to the push service's receipt.

Run: .venv/bin/python bench/notify.py [--reports 300]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, median, percentile, postgis, shared_data  # type: ignore[import-not-found]
from sqlalchemy.orm import Session

from backend.db.engine import make_engine
from backend.queue import JobQueue
from backend.services import deliveries, recipients
from backend.services.reports import NewReport, create_report
from backend.services.setup import initialize
from backend.services.workflow import StatusChange, change_status, enqueue_deliveries
from backend.settings import Settings
from backend.workflow import Actor, Status
from tests.peers.push_service import PushServiceReceiver, make_subscription
from tests.servers import start_redis


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen]:
    """Start `count` real `maengelmelder worker` processes."""
    procs = [subprocess.Popen([sys.executable, "-m", "backend.cli", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) for _ in range(count)]
    time.sleep(3)  # let them connect and subscribe
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    """Stop the workers and everything they forked."""
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def throughput_round(engine, jobs: JobQueue, receiver: PushServiceReceiver,  # noqa: ANN001
                     ids: list[tuple[str, str]], target: Status, expected: int) -> float:
    """Fill the outbox first, then hand all deliveries out at once: notifications/s drained."""
    with Session(engine) as session:
        for public_id, _ in ids:
            change_status(session, public_id, StatusChange(target, Actor.STAFF, "bench"))
        notification_ids = deliveries.due_notification_ids(session, limit=len(ids) * 2)
    started = time.time()
    enqueue_deliveries(jobs, notification_ids)
    last = max(receiver.wait_for(name, expected, timeout=300)[-1].at for _, name in ids)
    return len(ids) / (last - started)


def latency_round(engine, jobs: JobQueue, receiver: PushServiceReceiver,  # noqa: ANN001
                  ids: list[tuple[str, str]], target: Status, expected: int,
                  rate: float) -> tuple[float, float]:
    """Status changes at a steady `rate` per second: p50/p99 ms from change to receipt."""
    sent_at: dict[str, float] = {}
    with Session(engine) as session:
        for public_id, name in ids:
            tick = time.time()
            sent_at[name] = tick
            change_status(session, public_id, StatusChange(target, Actor.STAFF, "bench"), jobs)
            time.sleep(max(0.0, 1 / rate - (time.time() - tick)))
    latencies = [(receiver.wait_for(name, expected, timeout=300)[-1].at - sent_at[name]) * 1000
                 for _, name in ids]
    return median(latencies), percentile(latencies, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--change-rate", type=float, default=20.0,
                        help="status changes per second in the latency round")
    args = parser.parse_args()
    raw = shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"
    work = Path(tempfile.mkdtemp(prefix="mm-notify-"))
    redis = start_redis(work / "redis")
    try:
        with postgis(durable=True) as url, PushServiceReceiver() as receiver:
            settings = Settings(database_url=url, redis_url=redis.url, secret_key="bench",
                                rate_limits_enabled=False,
                                data_dir=str(work), districts_source=str(raw),
                                vapid_subject="mailto:bench@mm.test")
            engine = make_engine(url)
            initialize(engine, settings)
            ids = []
            with Session(engine) as session:
                for i in range(args.reports):
                    report = create_report(session, NewReport(
                        "ampel-ausfall", 48.1374 + i * 1e-5, 11.5755, "Ampel dunkel"),
                        secret_key="bench").report
                    sub, _ = make_subscription(receiver, f"r{i}")
                    row = recipients.reporter_recipient(session, session.merge(
                        _report_row(session, report.id)))
                    recipients.add_push_subscription(session, row, sub["endpoint"],
                                                     sub["p256dh"], sub["auth"])
                    ids.append((report.public_id, f"r{i}"))
            env = dict(os.environ, MM_DATABASE_URL=url, MM_REDIS_URL=redis.url,
                       MM_SECRET_KEY="bench", MM_DATA_DIR=str(work),
                       MM_VAPID_SUBJECT="mailto:bench@mm.test", MM_LOG_LEVEL="WARNING",
                       MM_RATE_LIMITS_ENABLED="false",
                       PYTHONPATH=str(ROOT))
            jobs = JobQueue(redis.url)
            results = {}
            steps = iter([Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED,
                          Status.CLOSED])
            expected = 0
            for workers in (1, 2):
                procs = start_workers(workers, env)
                try:
                    expected += 1
                    rate = throughput_round(engine, jobs, receiver, ids, next(steps), expected)
                    expected += 1
                    p50, p99 = latency_round(engine, jobs, receiver, ids, next(steps), expected,
                                             args.change_rate)
                    results[workers] = {"rate": rate, "p50": p50, "p99": p99}
                finally:
                    stop_workers(procs)
            engine.dispose()
    finally:
        redis.stop()
    print(f"Web Push to a local push service (RFC 8291 encryption, VAPID signing), PostGIS "
          f"with fsync on; {args.reports} queued deliveries, then {args.reports} status "
          f"changes at {args.change_rate:.0f}/s")
    for workers, r in results.items():
        print(f"  {workers} worker(s): {r['rate']:7.1f} notifications/s delivered; "
              f"status change → receipt p50 {r['p50']:6.1f} ms, p99 {r['p99']:6.1f} ms")


def _report_row(session: Session, report_id: int):  # noqa: ANN202
    from backend.models import Report

    return session.get(Report, report_id)


if __name__ == "__main__":
    main()

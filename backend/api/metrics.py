"""Prometheus metrics at /metrics: request latency by endpoint (from every gunicorn worker,
through prometheus_client's multiprocess mode); per queue the depth, the age of the oldest
waiting job, failed jobs and serving workers (from Redis); notifications by channel and
outcome, failed items by kind and open destination circuits (from the database), read at
scrape time."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from backend.errors import DomainError
from backend.extensions import db
from backend.models import Notification, Photo, PhotoStatus
from backend.queue import queue_figures

bp = Blueprint("metrics", __name__)

REQUEST_SECONDS = Histogram(
    "mm_http_request_duration_seconds", "Time to answer a request, by endpoint",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


def install_metrics(app: Flask) -> None:
    """Time every request."""

    @app.before_request
    def start_timer() -> None:
        g.mm_started = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        started = g.get("mm_started")
        if started is not None:
            endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
            REQUEST_SECONDS.labels(endpoint, request.method,
                                   f"{response.status_code // 100}xx").observe(
                time.perf_counter() - started)
        return response


class _LiveCollector:
    """Figures read when Prometheus scrapes."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("mm_queue_depth", "Jobs waiting, by queue", labels=["queue"])
        age = GaugeMetricFamily("mm_queue_oldest_job_age_seconds",
                                "How long the job waiting longest has waited, by queue",
                                labels=["queue"])
        failed = GaugeMetricFamily("mm_jobs_failed", "Jobs in rq's failed registry",
                                   labels=["queue"])
        serving = GaugeMetricFamily("mm_queue_workers", "Workers serving the queue",
                                    labels=["queue"])
        try:
            for figures in queue_figures(self.app.extensions["mm_jobs"].connection):
                depth.add_metric([figures.name], figures.depth)
                age.add_metric([figures.name], figures.oldest_age_s)
                failed.add_metric([figures.name], figures.failed)
                serving.add_metric([figures.name], figures.workers)
        except Exception:  # noqa: BLE001 - Redis away: no queue figures this time
            pass
        yield from (depth, age, failed, serving)
        with self.app.app_context():
            try:
                yield from _database_figures()
            finally:
                db.session.remove()


def _database_figures() -> Iterator[GaugeMetricFamily]:
    notes = GaugeMetricFamily("mm_notifications", "Notifications by channel and status",
                              labels=["channel", "status"])
    rows = db.session.execute(select(Notification.channel, Notification.status,
                                     func.count()).group_by(
        Notification.channel, Notification.status)).all()
    for channel, status, count in rows:
        notes.add_metric([channel, status], count)
    yield notes
    from backend.services.destinations import figures as destination_figures

    figures = destination_figures(db.session)
    failed = GaugeMetricFamily("mm_failed_items", "Work given up on, by kind (shown to "
                               "admins with its last error and a retry action)",
                               labels=["kind"])
    for kind, count in sorted(figures["failed"].items()):
        failed.add_metric([kind], count)
    failed.add_metric(["photo"], db.session.scalar(
        select(func.count()).select_from(Photo).where(Photo.status == PhotoStatus.FAILED)))
    yield failed
    circuits = GaugeMetricFamily("mm_destination_circuit_open",
                                 "1 while a destination's circuit is open (one probe per "
                                 "interval instead of one try per item)",
                                 labels=["destination"])
    for key in figures["open_circuits"]:
        circuits.add_metric([key], 1)
    yield circuits
    open_count = GaugeMetricFamily("mm_destination_circuits_open",
                                   "Destinations whose circuit is open")
    open_count.add_metric([], len(figures["open_circuits"]))
    yield open_count


def _allowed() -> bool:
    token = current_app.extensions["mm_settings"].metrics_token
    if token:
        return request.headers.get("Authorization", "") == f"Bearer {token}"
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format (loopback only, or with MM_METRICS_TOKEN)."""
    if not _allowed():
        raise Forbidden("Metrics are for the monitoring system.", {"Authorization": ["needed"]})
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(_LiveCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

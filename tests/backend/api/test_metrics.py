"""Prometheus metrics: request latency by endpoint, queue depth, failed jobs, notifications."""

from __future__ import annotations

from typing import Any

from tests.backend.api.helpers import create


def test_metrics_show_requests_queues_and_notifications(client: Any) -> None:
    client.get("/api/v1/categories")
    create(client)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'mm_http_request_duration_seconds_count{endpoint="categories.list_categories"' in text
    assert 'endpoint="reports.create_report",method="POST",status="2xx"' in text
    assert 'mm_queue_depth{queue="default"}' in text
    assert 'mm_jobs_failed{queue="default"}' in text
    assert "# TYPE mm_notifications gauge" in text


def test_metrics_are_not_public(client: Any, app_with: Any) -> None:
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    app, _ = app_with(metrics_token="scrape-secret")
    guarded = app.test_client()
    assert guarded.get("/metrics").status_code == 403  # a token is set: loopback is not enough
    assert guarded.get("/metrics", environ_base=outside,
                       headers={"Authorization": "Bearer scrape-secret"}).status_code == 200

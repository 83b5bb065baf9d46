"""Prometheus metrics: request latency by endpoint, queue depth, failed jobs, notifications."""

from __future__ import annotations

from typing import Any

from tests.backend.api.helpers import create


def _value(text: str, prefix: str) -> float:
    """The summed value of the samples whose line starts with `prefix` (0 when none)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(prefix))


CATEGORIES = 'mm_http_request_duration_seconds_count{endpoint="categories.list_categories"'
CREATED = ('mm_http_request_duration_seconds_count{endpoint="reports.create_report",'
           'method="POST",status="2xx"}')


def test_metrics_show_requests_queues_and_notifications(client: Any) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    client.get("/api/v1/categories")
    client.get("/api/v1/categories")
    create(client)
    text = client.get("/metrics").get_data(as_text=True)
    # Counted, not just named: two category lists and one report more than before.
    assert _value(text, CATEGORIES) == _value(before, CATEGORIES) + 2
    assert _value(text, CREATED) == _value(before, CREATED) + 1
    assert 'mm_http_request_duration_seconds_count{endpoint="categories.list_categories"' in text
    assert 'endpoint="reports.create_report",method="POST",status="2xx"' in text
    for queue in ("photos", "notify", "forward", "export", "housekeeping"):
        for metric in ("mm_queue_depth", "mm_queue_oldest_job_age_seconds", "mm_jobs_failed",
                       "mm_queue_workers"):
            assert f'{metric}{{queue="{queue}"}}' in text
    assert 'mm_queue_depth{queue="photos"} 0.0' in text  # the report had no photo
    assert "# TYPE mm_notifications gauge" in text
    for kind in ("forwarding", "push", "email", "photo"):
        assert f'mm_failed_items{{kind="{kind}"}} 0.0' in text
    assert "mm_destination_circuits_open 0.0" in text


def test_metrics_are_not_public(client: Any, app_with: Any) -> None:
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    app, _ = app_with(metrics_token="scrape-secret")
    guarded = app.test_client()
    assert guarded.get("/metrics").status_code == 403  # a token is set: loopback is not enough
    assert guarded.get("/metrics", environ_base=outside,
                       headers={"Authorization": "Bearer scrape-secret"}).status_code == 200

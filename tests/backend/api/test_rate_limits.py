"""Rate limits: a clear 429 with Retry-After on report creation, photo upload, login and
Open311 POST, counted in Redis; without Redis reports are still accepted."""

from __future__ import annotations

from typing import Any

from flask import Flask

from backend.extensions import db
from backend.services.api_keys import create_api_key
from tests.backend.api.helpers import assert_error, report_body

LIMITS = {"rate_limits_enabled": True, "rate_limit_reports": "2/minute",
          "rate_limit_photos": "2/minute", "rate_limit_login": "2/minute",
          "rate_limit_open311": "2/minute"}


def _limited(app_with: Any, **overrides: Any) -> Flask:
    return app_with(**{**LIMITS, **overrides})[0]


def test_report_creation_is_limited_per_address(app_with: Any) -> None:
    app = _limited(app_with)
    client = app.test_client()
    for _ in range(2):
        assert client.post("/api/v1/reports", json=report_body()).status_code == 201
    response = client.post("/api/v1/reports", json=report_body())
    assert_error(response, 429, "too_many_requests")
    assert 0 < int(response.headers["Retry-After"]) <= 60
    other = app.test_client()
    assert other.post("/api/v1/reports", json=report_body(),
                      environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 201


def test_photo_uploads_and_logins_are_limited(app_with: Any) -> None:
    app = _limited(app_with)
    client = app.test_client()
    created = client.post("/api/v1/reports", json=report_body()).get_json()
    for _ in range(2):
        client.post(f"/api/v1/reports/{created['id']}/photos",
                    headers={"X-Tracking-Token": created["tracking_token"]},
                    data={}, content_type="multipart/form-data")
    limited = client.post(f"/api/v1/reports/{created['id']}/photos",
                          headers={"X-Tracking-Token": created["tracking_token"]},
                          data={}, content_type="multipart/form-data")
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    for _ in range(2):
        client.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
    login = client.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
    assert_error(login, 429, "too_many_requests")


def test_open311_posts_are_limited_per_key_in_the_spec_format(app_with: Any) -> None:
    app = _limited(app_with)
    with app.app_context():
        first, second = (create_api_key(db.session, n) for n in ("a", "b"))
    client = app.test_client()
    form = {"service_code": "schild-fehlt", "lat": "48.1374", "long": "11.5755"}
    for _ in range(2):
        assert client.post("/open311/v2/requests.json",
                           data={**form, "api_key": first}).status_code == 201
    limited = client.post("/open311/v2/requests.xml", data={**form, "api_key": first})
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert b"<code>429</code>" in limited.data
    assert client.post("/open311/v2/requests.json",
                       data={**form, "api_key": second}).status_code == 201


def test_without_redis_reports_are_still_accepted(app_with: Any) -> None:
    app = _limited(app_with, redis_url="redis://127.0.0.1:1/0")
    client = app.test_client()
    for _ in range(3):
        assert client.post("/api/v1/reports", json=report_body()).status_code == 201


def _post_from(client: Any, forwarded_for: str) -> int:
    return client.post("/api/v1/reports", json=report_body(),
                       headers={"X-Forwarded-For": forwarded_for}).status_code


def test_behind_the_proxy_each_client_address_has_its_own_limit(app_with: Any) -> None:
    # nginx appends the address it saw to X-Forwarded-For; with one trusted hop only that
    # last entry counts, so a client cannot pick its own address by sending the header.
    client = _limited(app_with, proxy_hops=1).test_client()
    assert [_post_from(client, "198.51.100.1") for _ in range(3)] == [201, 201, 429]
    assert _post_from(client, "198.51.100.2") == 201
    assert _post_from(client, "203.0.113.9, 198.51.100.1") == 429  # forged first entry


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(app_with: Any) -> None:
    client = _limited(app_with).test_client()
    statuses = [_post_from(client, f"198.51.100.{n}") for n in range(3)]
    assert statuses == [201, 201, 429]

"""Log lines never carry personal data; JSON lines parse."""

from __future__ import annotations

import json
import logging

import pytest

from backend.log_format import JsonFormatter, ScrubbingFormatter, configure_logging, scrub


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("backend.test", logging.WARNING, __file__, 1, message, args, None)


def test_personal_data_is_scrubbed() -> None:
    text = scrub("mail to rita.meier+x@example.org failed for /api/v1/track/Abc-123_x?y=1, "
                 "api_key=o311_secret and Bearer mmk_abc token=t0k3nvalue")
    for secret in ("rita.meier", "example.org", "Abc-123_x", "o311_secret", "mmk_abc",
                   "t0k3nvalue"):
        assert secret not in text, secret
    assert "/api/v1/track/[redacted]?y=1," in text and "[e-mail]" in text


def test_what_staff_search_for_and_encoded_addresses_are_scrubbed() -> None:
    line = scrub('"GET /api/v1/staff/search?limit=5&q=Frau+Huber+089 HTTP/1.1" 200 '
                 '"GET /api/v1/places?q=Marienplatz HTTP/1.1" '
                 '"GET /x?next=http%3a%2f%2fh%2ftrack%2f7h6TlYc2ZuntE6Tv&mail=rita%40example.org"')
    for secret in ("Huber", "089", "7h6TlYc2ZuntE6Tv", "rita", "example.org"):
        assert secret not in line, secret
    assert "/api/v1/staff/search?limit=5&q=[redacted] HTTP/1.1" in line
    assert "places?q=Marienplatz" in line  # an address typed by a citizen is no one's data
    assert "%2ftrack%2f[redacted]" in line and "mail=[e-mail]" in line


def test_json_lines() -> None:
    line = JsonFormatter().format(_record("sent to %s", "rita@example.org"))
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "backend.test"
    assert entry["message"] == "sent to [e-mail]" and entry["time"].endswith("+00:00")
    assert "rita" not in ScrubbingFormatter().format(_record("rita@example.org"))


def test_refused_requests_leave_no_client_address_in_the_app_log(
    app_with: object, caplog: pytest.LogCaptureFixture,
) -> None:
    app, _ = app_with(rate_limits_enabled=True, rate_limit_reports="1/minute")  # type: ignore[operator]
    configure_logging("INFO", "text")
    client = app.test_client()
    body = {"category": "schild-fehlt", "lat": 48.1374, "lon": 11.5755, "description": "x"}
    outside = {"REMOTE_ADDR": "203.0.113.77"}
    with caplog.at_level(logging.INFO):
        statuses = [client.post("/api/v1/reports", json=body, environ_base=outside).status_code
                    for _ in range(2)]
    assert statuses == [201, 429]
    assert not [r for r in caplog.records if "203.0.113.77" in r.getMessage()]

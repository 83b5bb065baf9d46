"""Log lines never carry personal data; JSON lines parse."""

from __future__ import annotations

import json
import logging

from backend.log_format import JsonFormatter, ScrubbingFormatter, scrub


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("backend.test", logging.WARNING, __file__, 1, message, args, None)


def test_personal_data_is_scrubbed() -> None:
    text = scrub("mail to rita.meier+x@example.org failed for /api/v1/track/Abc-123_x?y=1, "
                 "api_key=o311_secret and Bearer mmk_abc token=t0k3nvalue")
    for secret in ("rita.meier", "example.org", "Abc-123_x", "o311_secret", "mmk_abc",
                   "t0k3nvalue"):
        assert secret not in text, secret
    assert "/api/v1/track/[redacted]?y=1," in text and "[e-mail]" in text


def test_json_lines() -> None:
    line = JsonFormatter().format(_record("sent to %s", "rita@example.org"))
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "backend.test"
    assert entry["message"] == "sent to [e-mail]" and entry["time"].endswith("+00:00")
    assert "rita" not in ScrubbingFormatter().format(_record("rita@example.org"))

"""Log lines as JSON (MM_LOG_FORMAT=json) or text, never with personal data: tracking tokens,
e-mail addresses, API keys and bearer tokens are redacted from every message."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
SECRETS = re.compile(r"((?:/track/|token=|tracking_token=|api_key=|Bearer )\s*)[^\s&/?,\"']+")


def scrub(text: str) -> str:
    """The text without e-mail addresses, tracking tokens, keys and bearer tokens."""
    return EMAIL.sub("[e-mail]", SECRETS.sub(r"\1[redacted]", text))


class ScrubbingFormatter(logging.Formatter):
    """Text lines, scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the error), scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    """Set the root logger's level and the format of its console handlers (adding one when
    there is none; handlers of others, like pytest's log capture, are left alone)."""
    root = logging.getLogger()
    root.setLevel(level)
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    formatter = JsonFormatter() if fmt == "json" else ScrubbingFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if type(handler) is logging.StreamHandler and handler.stream in (sys.stderr,
                                                                         sys.stdout):
            handler.setFormatter(formatter)

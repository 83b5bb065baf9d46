"""Log lines as JSON (MM_LOG_FORMAT=json) or text, never with personal data or secrets:
tracking and unsubscribe tokens, e-mail addresses, API keys, bearer tokens and passwords
(also inside URLs) are redacted from every message; client addresses are shortened."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import sys
from datetime import UTC, datetime

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
SECRETS = re.compile(
    r"((?:/track/|/unsubscribe/|\bBearer\s+|(?<![\w-])(?:token|tracking_token|api_key|password)"
    r"=)\s*)[^\s&/?,;\"']+")
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@", re.IGNORECASE)
# What staff type into the search is free text: a tracking link, an e-mail address, a
# caller's name; its `q` never reaches a log, in whatever encoding.
STAFF_SEARCH = re.compile(r"(/staff/search\?(?:[^\s\"&]*&)*q=)[^\s&\"]*")
# Percent-encoded e-mail addresses and tracking links (a query string as logged).
ENCODED = re.compile(r"([\w.+-]+%40[\w-]+(?:\.[\w-]+)+)|((?:/|%2f)(?:track|unsubscribe)%2f)"
                     r"[^\s&/?,;\"'%]+", re.IGNORECASE)


# Every pattern above needs one of these; text without any (most access-log atoms) is
# returned as it is, without running the expressions (scrub runs on every request).
_MARKERS = ("@", "/track/", "/unsubscribe/", "token=", "api_key=", "password=", "Bearer",
            "/staff/search?", "%40", "%2f", "%2F")


def scrub(text: str) -> str:
    """The text without e-mail addresses, tokens, keys and passwords."""
    if not any(marker in text for marker in _MARKERS):
        return text
    text = URL_PASSWORD.sub(r"\1[redacted]@", text)
    text = STAFF_SEARCH.sub(r"\1[redacted]", text)
    text = ENCODED.sub(lambda m: "[e-mail]" if m.group(1) else f"{m.group(2)}[redacted]", text)
    return EMAIL.sub("[e-mail]", SECRETS.sub(r"\1[redacted]", text))


def anonymize_ip(address: str) -> str:
    """An IPv4 address without its last byte, an IPv6 address cut to its /48 network (the
    usual German practice for logs); anything else unchanged."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


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
    # Flask-Limiter logs every refused request at INFO with its key: a client's full address
    # or an Open311 api_key. The access log already has the 429, with the address shortened.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    formatter = JsonFormatter() if fmt == "json" else ScrubbingFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if type(handler) is logging.StreamHandler and handler.stream in (sys.stderr,
                                                                         sys.stdout):
            handler.setFormatter(formatter)

"""Names of destinations, the keys of their circuits: one per Open311 system, push service
(scheme://host[:port] of the endpoint) and SMTP server (host:port)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

MAX_KEY = 300


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def open311_key(config: dict[str, Any] | None) -> str | None:
    """`open311:<origin>` of a department's forwarding configuration; None without a URL
    (then there is no destination to protect: the attempt simply fails)."""
    url = (config or {}).get("url")
    origin = _origin(url) if isinstance(url, str) else None
    return f"open311:{origin}"[:MAX_KEY] if origin else None


def push_key(endpoint: str) -> str | None:
    """`push:<origin>` of a subscription's endpoint (one push service serves many)."""
    origin = _origin(endpoint)
    return f"push:{origin}"[:MAX_KEY] if origin else None


def smtp_key(host: str, port: int) -> str:
    """`smtp:<host>:<port>` of the configured SMTP server."""
    return f"smtp:{host.lower()}:{port}"[:MAX_KEY]

"""Fetching a client's `media_url` safely: only from hosts the city configured, no redirects,
bounded size and time, images only; the bytes then go through the photo pipeline like any
upload. Nothing is fetched unless hosts are configured (no server-side request forgery)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

TIMEOUT_S = 10


@dataclass(frozen=True)
class Fetched:
    """The photo bytes, or why there are none."""

    data: bytes | None
    problem: str | None = None


def allowed_host(url: str, hosts: frozenset[str]) -> bool:
    """Whether the URL is http(s) on one of the configured `host` or `host:port` names."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return False
    host = parts.hostname.lower()
    return host in hosts or (parts.port is not None and f"{host}:{parts.port}" in hosts)


def fetch_media(url: str, hosts: frozenset[str], max_bytes: int) -> Fetched:
    """Load an image from an allowed host (at most `max_bytes`)."""
    if not hosts:
        return Fetched(None, "media_url was not fetched: this server loads no media from URLs.")
    if not allowed_host(url, hosts):
        return Fetched(None, "media_url was not fetched: its host is not allowed.")
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT_S, allow_redirects=False) as got:
            if got.status_code != 200:
                return Fetched(None, f"media_url answered HTTP {got.status_code}.")
            if not got.headers.get("Content-Type", "").startswith("image/"):
                return Fetched(None, "media_url is not an image.")
            data = bytearray()
            for chunk in got.iter_content(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    return Fetched(None, f"media_url is larger than {max_bytes} bytes.")
            return Fetched(bytes(data))
    except requests.RequestException as exc:
        return Fetched(None, f"media_url could not be loaded ({type(exc).__name__}).")

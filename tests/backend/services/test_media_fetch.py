"""Which media URLs may be loaded at all (server-side request forgery guard)."""

from __future__ import annotations

import pytest

from backend.services.media_fetch import allowed_host, fetch_media

HOSTS = frozenset({"media.example.org", "127.0.0.1:8080"})


@pytest.mark.parametrize(("url", "ok"), [
    ("https://media.example.org/a.jpg", True),
    ("http://MEDIA.example.org/a.jpg", True),
    ("http://127.0.0.1:8080/a.jpg", True),
    ("http://127.0.0.1/a.jpg", False),  # another port of an allowed address
    ("http://127.0.0.1:9000/a.jpg", False),
    ("https://evil.example.org/a.jpg", False),
    ("https://media.example.org.evil.net/a.jpg", False),
    ("https://user@media.example.org/a.jpg", False),
    ("file:///etc/passwd", False),
    ("gopher://media.example.org/a", False),
    ("not a url", False),
])
def test_only_configured_hosts_over_http(url: str, ok: bool) -> None:
    assert allowed_host(url, HOSTS) is ok


def test_without_configured_hosts_nothing_is_fetched() -> None:
    result = fetch_media("http://127.0.0.1:8080/a.jpg", frozenset(), 1000)
    assert result.data is None and "not fetched" in result.problem

"""Unknown routes and wrong methods get the same JSON error envelope as everything else."""

from __future__ import annotations

from typing import Any

import pytest

from tests.backend.api.helpers import assert_error


@pytest.mark.parametrize(
    "url",
    ["/api/v1/nope", "/api/v2/reports", "/", "/api/v1/reports/abc/extra", "/api/v1/track/",
     "/api/v1/categories/ampel"],
)
def test_unknown_route_is_404_envelope(client: Any, url: str) -> None:
    assert_error(client.get(url), 404, "not_found", set())


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("DELETE", "/api/v1/categories", {"GET"}),
        ("POST", "/api/v1/categories", {"GET"}),
        ("PUT", "/api/v1/reports", {"GET", "POST"}),
        ("DELETE", "/api/v1/reports", {"GET", "POST"}),
        ("PATCH", "/api/v1/reports/abcdefgh", {"GET"}),
        ("DELETE", "/api/v1/reports/abcdefgh", {"GET"}),
        ("POST", "/api/v1/reports/nearby", {"GET"}),
        ("POST", "/api/v1/track/sometoken", {"GET"}),
        ("POST", "/api/v1/openapi.json", {"GET"}),
    ],
)
def test_wrong_method_is_405_envelope_with_allow_header(
    client: Any, method: str, url: str, allowed: set[str]
) -> None:
    response = client.open(url, method=method)

    assert_error(response, 405, "method_not_allowed", set())
    allow = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= allow
    assert method not in allow


def test_error_envelope_does_not_leak_internals(client: Any) -> None:
    response = client.get("/api/v1/does-not-exist")
    text = response.get_data(as_text=True)
    for marker in ("Traceback", "werkzeug", "<html", "<!doctype"):
        assert marker.lower() not in text.lower()

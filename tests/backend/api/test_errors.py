"""Unknown routes and wrong methods get the same JSON error envelope as everything else."""

from __future__ import annotations

from typing import Any

from tests.backend.api.helpers import assert_error, check_table

UNKNOWN_ROUTES = [
    (url, url) for url in ["/api/v1/nope", "/api/v2/reports", "/nope", "/api/v1/reports/abc/extra",
                           "/api/v1/track/", "/api/v1/categories/ampel"]
]

WRONG_METHODS = [
    # (name, method, url, methods that must be allowed)
    ("DELETE categories", "DELETE", "/api/v1/categories", {"GET"}),
    ("POST categories", "POST", "/api/v1/categories", {"GET"}),
    ("PUT reports", "PUT", "/api/v1/reports", {"GET", "POST"}),
    ("DELETE reports", "DELETE", "/api/v1/reports", {"GET", "POST"}),
    ("PATCH report", "PATCH", "/api/v1/reports/abcdefgh", {"GET"}),
    ("DELETE report", "DELETE", "/api/v1/reports/abcdefgh", {"GET"}),
    ("POST nearby", "POST", "/api/v1/reports/nearby", {"GET"}),
    ("POST track", "POST", "/api/v1/track/sometoken", {"GET"}),
    ("POST openapi", "POST", "/api/v1/openapi.json", {"GET"}),
]


def test_unknown_route_is_404_envelope(client: Any) -> None:
    check_table(UNKNOWN_ROUTES,
                lambda url: assert_error(client.get(url), 404, "not_found", set()))


def test_delete_categories_is_405_envelope(client: Any) -> None:
    response = client.delete("/api/v1/categories")

    assert_error(response, 405, "method_not_allowed", set())
    assert "GET" in response.headers["Allow"]


def test_wrong_method_is_405_envelope_with_allow_header(client: Any) -> None:
    def check(method: str, url: str, allowed: set[str]) -> None:
        response = client.open(url, method=method)
        assert_error(response, 405, "method_not_allowed", set())
        allow = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed <= allow, allow
        assert method not in allow, allow

    check_table(WRONG_METHODS, check)


def test_error_envelope_does_not_leak_internals(client: Any) -> None:
    response = client.get("/api/v1/does-not-exist")
    text = response.get_data(as_text=True).lower()
    for marker in ("traceback", "werkzeug", "<html", "<!doctype"):
        assert marker not in text

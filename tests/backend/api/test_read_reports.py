"""GET /api/v1/reports/{id} and GET /api/v1/track/{token}, on both backends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.backend.api.helpers import (
    ALLIANZ_ARENA,
    REPORTS_URL,
    assert_error,
    check_table,
    create,
)


def test_public_report_view_has_all_public_fields(client: Any) -> None:
    created = create(client, "ampel-lampe", ALLIANZ_ARENA, address="Werner-Heisenberg-Allee 25")
    response = client.get(f"{REPORTS_URL}/{created['id']}")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {
        "id", "url", "category", "description", "address", "location", "district",
        "department", "status", "open311_status", "priority", "created_at", "updated_at",
        "history", "photos", "asset", "approximate", "outcome", "responsible", "expected_at",
    }
    assert (body["outcome"], body["responsible"]) == (None, None)  # open: no outcome yet
    assert datetime.fromisoformat(body["expected_at"]) > datetime.fromisoformat(
        body["created_at"])
    assert body["asset"] is None
    assert body["approximate"] is False
    assert body["id"] == created["id"]
    assert body["category"] == {"code": "ampel-lampe", "name": "Einzelnes Licht defekt",
                                "group": {"code": "ampel", "name": "Ampel"}}
    assert body["address"] == "Werner-Heisenberg-Allee 25"
    assert body["location"] == {"lat": ALLIANZ_ARENA[1], "lon": ALLIANZ_ARENA[0]}
    assert body["district"]["number"] == "12"
    assert body["department"]["code"] == "verkehrstechnik"
    assert body["priority"] == "high"
    created_at = datetime.fromisoformat(body["created_at"])
    assert created_at.tzinfo is not None
    assert datetime.fromisoformat(body["updated_at"]) == created_at


def test_new_report_history_has_one_submitted_entry(client: Any) -> None:
    created = create(client)
    body = client.get(f"{REPORTS_URL}/{created['id']}").get_json()

    assert len(body["history"]) == 1
    entry = body["history"][0]
    assert entry["status"] == "submitted"
    assert entry["note"] is None
    assert datetime.fromisoformat(entry["at"]) == datetime.fromisoformat(body["created_at"])
    assert created["history"] == body["history"]


def test_unknown_report_id_is_404_envelope(client: Any) -> None:
    create(client)
    cases = [(repr(i)[:20], i) for i in ["zzzzzzzz", "00000000", "x" * 300, "ä-ö", "1"]]
    check_table(cases, lambda public_id: assert_error(
        client.get(f"{REPORTS_URL}/{public_id}"), 404, "not_found"))


def test_report_id_is_matched_exactly(client: Any) -> None:
    created = create(client)
    assert_error(client.get(f"{REPORTS_URL}/{created['id'].upper()}"), 404, "not_found")
    assert_error(client.get(f"{REPORTS_URL}/{created['id'][:-1]}"), 404, "not_found")


def test_tracking_view_returns_the_report_and_is_not_cached(client: Any) -> None:
    created = create(client, email="anna@example.org")
    response = client.get(f"/api/v1/track/{created['tracking_token']}")

    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "public" not in response.headers["Cache-Control"]
    assert response.headers.get("Referrer-Policy") == "no-referrer"
    body = response.get_json()
    assert body["id"] == created["id"]
    assert body["status"] == "submitted"
    assert body["email_on_file"] is True
    assert "tracking_token" not in body
    public = client.get(f"{REPORTS_URL}/{created['id']}").get_json()
    assert body["uploads"] == []
    assert {k: v for k, v in body.items() if k not in ("email_on_file", "uploads")} == public


def test_tracking_url_from_the_create_response_works(client: Any) -> None:
    created = create(client)
    response = client.get(created["tracking_url"])

    assert response.status_code == 200
    assert response.get_json()["id"] == created["id"]


def test_tracking_view_follows_accept_language(client: Any) -> None:
    created = create(client)
    body = client.get(f"/api/v1/track/{created['tracking_token']}",
                      headers={"Accept-Language": "en"}).get_json()
    assert body["category"]["name"] == "Street sign missing"


def test_unknown_tracking_token_is_404_envelope(client: Any) -> None:
    create(client)
    cases = [(repr(t)[:20], t) for t in ["nope", "A" * 32, "x" * 300]]
    check_table(cases, lambda token: assert_error(
        client.get(f"/api/v1/track/{token}"), 404, "not_found"))


def test_public_id_is_not_a_tracking_token(client: Any) -> None:
    created = create(client)
    assert_error(client.get(f"/api/v1/track/{created['id']}"), 404, "not_found")


def test_tracking_token_of_one_report_does_not_open_another(client: Any) -> None:
    first = create(client)
    second = create(client)

    assert client.get(f"/api/v1/track/{first['tracking_token']}").get_json()["id"] == first["id"]
    assert client.get(
        f"/api/v1/track/{second['tracking_token']}").get_json()["id"] == second["id"]

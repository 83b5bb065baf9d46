"""Shared points, request bodies and assertions for the API tests."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Report, ReportEvent

REPORTS_URL = "/api/v1/reports"
NEARBY_URL = "/api/v1/reports/nearby"
CATEGORIES_URL = "/api/v1/categories"

# (lon, lat)
MARIENPLATZ = (11.5755, 48.1374)
ALLIANZ_ARENA = (11.6247, 48.2188)
OUTSIDE_MUNICH = (11.0, 48.0)

METRES_PER_DEGREE_LAT = 111_320.0


def offset(point: tuple[float, float], north_m: float = 0.0, east_m: float = 0.0
           ) -> tuple[float, float]:
    """The point moved by some metres north and east (good to well below a metre here)."""
    lon, lat = point
    dlat = north_m / METRES_PER_DEGREE_LAT
    dlon = east_m / (METRES_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return (lon + dlon, lat + dlat)


def report_body(category: str = "schild-fehlt", point: tuple[float, float] = MARIENPLATZ,
                description: str = "Das Halteverbotsschild fehlt seit gestern.",
                **extra: Any) -> dict[str, Any]:
    """A valid request body for `POST /api/v1/reports`."""
    lon, lat = point
    return {"category": category, "lat": lat, "lon": lon, "description": description, **extra}


def create(client: Any, category: str = "schild-fehlt",
           point: tuple[float, float] = MARIENPLATZ, **extra: Any) -> dict[str, Any]:
    """Create a report through the API and return the decoded 201 body."""
    response = client.post(REPORTS_URL, json=report_body(category, point, **extra))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def create_with_photo(client: Any, photo: str = "cameras/Canon_40D.jpg") -> dict[str, Any]:
    """Create a report at Marienplatz with one of the shared data's photos (multipart)."""
    from tests.shared_data import shared_data_dir

    with (shared_data_dir() / "photos" / photo).open("rb") as fh:
        response = client.post(REPORTS_URL, data={
            "category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755",
            "description": "Schild fehlt", "photos": [(fh, Path(photo).name)],
        }, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def assert_error(response: Any, status: int, code: str,
                 fields: set[str] | None = None) -> dict[str, Any]:
    """The response is exactly the error envelope with this status and code.

    `fields`, when given, is the exact set of field names the envelope must name.
    """
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict)
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    if fields is not None:
        assert set(error["fields"]) == fields, error["fields"]
        for messages in error["fields"].values():
            assert messages, error["fields"]
    return error


def count_rows(session: Session) -> tuple[int, int]:
    """(reports, report events) in the database, read in a fresh transaction."""
    try:
        reports = session.scalar(select(func.count()).select_from(Report))
        events = session.scalar(select(func.count()).select_from(ReportEvent))
    finally:
        session.rollback()
    return reports, events


def check_table(cases: list[tuple[Any, ...]], check: Any) -> None:
    """Run `check(*case[1:])` for every row of a table (row[0] is its name); report all failures.

    For tables of read-only requests that do not need a fresh database each: one app and one
    database serve all rows, and every failing row is listed, not just the first.
    """
    failures = []
    for name, *args in cases:
        try:
            check(*args)
        except AssertionError as exc:
            failures.append(f"[{name}] {exc}")
    assert not failures, "\n".join(failures)

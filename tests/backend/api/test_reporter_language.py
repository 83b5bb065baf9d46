"""The reporter's language (issue 20.7): the app sends its language first and the one its texts
fall back to second; names follow the second (the city's data exists in German and English),
notifications the first."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from backend.models import Report
from tests.backend.api.helpers import REPORTS_URL, report_body


@pytest.mark.parametrize(
    ("accept_language", "stored", "category"),
    [("tr, en;q=0.5", "tr", "Street sign missing"),
     ("ar-EG, en;q=0.5", "ar", "Street sign missing"),
     ("uk, en;q=0.5", "uk", "Street sign missing"),
     ("de-x-ls, de;q=0.5", "de-x-ls", "Verkehrszeichen fehlt"),
     ("en", "en", "Street sign missing"),
     ("fr", "de", "Verkehrszeichen fehlt")],
)
def test_a_report_keeps_the_language_its_reporter_is_written_to(
    client: Any, engine: Engine, accept_language: str, stored: str, category: str,
) -> None:
    created = client.post(REPORTS_URL, json=report_body(),
                          headers={"Accept-Language": accept_language})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["category"]["name"] == category
    with Session(engine) as session:
        report = session.scalar(select(Report).where(Report.public_id == created.get_json()["id"]))
        assert report is not None and report.reporter_locale == stored

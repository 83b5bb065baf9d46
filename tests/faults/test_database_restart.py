"""PostgreSQL restarted during a burst of reports: clean 503 answers with Retry-After, no 500,
no partial rows; the service recovers without a restart of its own."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.db.engine import make_engine
from backend.models import Photo, Report, ReportEvent
from backend.services.setup import initialize
from tests import servers
from tests.backend.api.helpers import report_body
from tests.conftest import base_settings, private_server
from tests.polling import wait_until


@pytest.fixture
def own_postgis(tmp_path: Path) -> Any:
    """A PostGIS server of this test alone (it is restarted)."""
    server = private_server("postgis", tmp_path / "pg")
    yield server
    server.stop()


def _counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return tuple(session.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]
                         for model in (Report, ReportEvent, Photo))
    finally:
        engine.dispose()


def test_a_restart_during_a_burst_answers_503_and_recovers(
    own_postgis: Any, tmp_path: Path, districts_file: Path, redis_url: str,
) -> None:
    url = own_postgis.url
    settings = base_settings(url, tmp_path, redis_url=redis_url,
                             districts_source=str(districts_file))
    engine = make_engine(url)
    initialize(engine, settings)
    engine.dispose()
    app = create_app(settings)
    client = app.test_client()
    answers: list[int] = []
    stop = threading.Event()

    problems: list[str] = []

    def burst() -> None:
        own = app.test_client()
        while not stop.is_set():
            response = own.post("/api/v1/reports", json=report_body())
            answers.append(response.status_code)
            if response.status_code == 503 and (
                    response.headers.get("Retry-After") != "5"
                    or response.get_json()["error"]["code"] != "database_unavailable"):
                problems.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=burst) for _ in range(3)]
    for thread in threads:
        thread.start()
    wait_until(lambda: answers.count(201) >= 20, "20 reports", interval=0.01)
    port = urlsplit(url.replace("postgresql+psycopg", "http")).port
    own_postgis.stop()
    wait_until(lambda: answers.count(503) >= 5 or 500 in answers, "503 answers", interval=0.01)
    assert 500 not in answers
    restarted = servers.start_postgis(Path(tmp_path / "pg"), port=port)
    try:
        # The service recovers by itself.
        wait_until(lambda: client.post("/api/v1/reports", json=report_body()).status_code == 201,
                   "the service to recover", interval=0.01)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert set(answers) <= {201, 503}, sorted(set(answers))  # never a 500
        assert problems == []
        created = answers.count(201) + 1
        reports, events, photos = _counts(url)
        assert reports == created  # every 201 is stored, nothing else: no partial rows
        assert events == created and photos == 0
    finally:
        stop.set()
        restarted.stop()

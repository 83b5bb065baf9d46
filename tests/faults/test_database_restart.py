"""PostgreSQL restarted during a burst of reports: clean 503 answers with Retry-After, no 500,
no partial rows; the service recovers without a restart of its own.

A 503 can follow a commit that did happen (the server may stop between writing the commit and
answering it: no client can tell), so the burst sends an `Idempotency-Key` like the PWA's
outbox, and retries every 503 after the restart: each key then stands for exactly one report."""

from __future__ import annotations

import threading
import uuid
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
    refused: list[str] = []  # the keys answered 503
    accepted: list[str] = []  # the keys answered 201
    stop = threading.Event()

    problems: list[str] = []

    def burst() -> None:
        own = app.test_client()
        while not stop.is_set():
            key = uuid.uuid4().hex
            response = own.post("/api/v1/reports", json=report_body(),
                                headers={"Idempotency-Key": key})
            answers.append(response.status_code)
            (accepted if response.status_code == 201 else refused).append(key)
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
        # The outbox's retry: every refused report is stored once, and a report whose commit
        # landed before the 503 is answered as a replay, never stored twice.
        for key in refused:
            retried = client.post("/api/v1/reports", json=report_body(),
                                  headers={"Idempotency-Key": key})
            assert retried.status_code == 201, retried.get_data(as_text=True)
        created = len(accepted) + len(refused) + 1
        reports, events, photos = _counts(url)
        assert reports == created  # one report per key, nothing else: no partial rows
        assert events == created and photos == 0
    finally:
        stop.set()
        restarted.stop()

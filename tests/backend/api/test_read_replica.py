"""Heavy public reads from a PostgreSQL streaming replica (MM_DATABASE_READ_URL): the map,
analytics, open data and Open311 lists read there; what must see the caller's own writes
(a report's page, tracking, the staff queue) reads the primary; nothing writes there.

A real hot standby (pg_basebackup -R) of a real primary; pausing its WAL replay shows which
reads come from where."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InternalError

from backend.app import create_app
from backend.db.engine import make_engine
from backend.services.setup import initialize
from tests import servers
from tests.backend.api.helpers import create
from tests.backend.api.staff_helpers import make_user, token_for
from tests.conftest import base_settings, private_server
from tests.polling import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def replicated(districts_file: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[tuple[str, str]]:
    """(primary URL, standby URL) of one database with schema, city and districts."""
    base = Path(tempfile.mkdtemp(prefix="mm-repl-"))
    primary = private_server("postgis", base / "primary")
    standby = None
    try:
        url = servers.create_database(primary.url, "mm_replicated")
        engine = make_engine(url)
        initialize(engine, base_settings(url, tmp_path_factory.mktemp("repl"),
                                         districts_source=str(districts_file)))
        engine.dispose()
        standby = servers.start_postgis_standby(primary, base / "standby")
        read_url = make_url(url).set(port=make_url(standby.url).port)
        yield url, read_url.render_as_string(hide_password=False)
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()
        shutil.rmtree(base, ignore_errors=True)


def _standby(read_url: str, statement: str) -> None:
    engine = make_engine(read_url.replace("/mm_replicated", "/postgres"))
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def _on_map(client: Any, public_id: str) -> bool:
    features = client.get("/api/v1/reports?limit=500").get_json()["features"]
    return any(f["properties"]["id"] == public_id for f in features)


def test_public_lists_read_the_replica_and_own_reads_the_primary(
    replicated: tuple[str, str], tmp_path: Path, redis_server: servers.RunningServer,
) -> None:
    url, read_url = replicated
    app = create_app(base_settings(url, tmp_path, redis_url=redis_server.url,
                                   database_read_url=read_url))
    client = app.test_client()
    make_user(app, "ana", "analyst")
    analyst = token_for(app, "ana")
    first = create(client)
    wait_until(lambda: _on_map(client, first["id"]), "replication", timeout=30)
    ready = client.get("/readyz").get_json()
    assert ready["checks"]["replica"] == "ok"

    _standby(read_url, "SELECT pg_wal_replay_pause()")
    try:
        second = create(client)
        # The primary: the report's own page and its tracking view.
        assert client.get(f"/api/v1/reports/{second['id']}").status_code == 200
        assert client.get(f"/api/v1/track/{second['tracking_token']}").status_code == 200
        # The replica, paused before the report: map, Open311 list, open data, analytics.
        assert not _on_map(client, second["id"])
        assert _on_map(client, first["id"])
        open311 = client.get("/open311/v2/requests.json?page_size=100").get_json()
        ids = {r["service_request_id"] for r in open311}
        assert first["id"] in ids and second["id"] not in ids
        csv = client.get("/api/v1/opendata/reports.csv").get_data(as_text=True)
        assert first["id"] in csv and second["id"] not in csv
        heatmap = client.get("/api/v1/analytics/heatmap?format=geojson", headers=analyst)
        assert heatmap.status_code == 200
        assert sum(f["properties"]["count"] for f in heatmap.get_json()["features"]) == 1
        summary = client.get("/api/v1/analytics/summary", headers=analyst)
        assert summary.status_code == 200
    finally:
        _standby(read_url, "SELECT pg_wal_replay_resume()")
    wait_until(lambda: _on_map(client, second["id"]), "replication", timeout=30)


def test_a_write_through_the_read_session_fails_even_on_the_primary(
    replicated: tuple[str, str], tmp_path: Path, redis_server: servers.RunningServer,
) -> None:
    url, _read_url = replicated
    app = create_app(base_settings(url, tmp_path, redis_url=redis_server.url,
                                   database_read_url=url))
    from backend.api.context import read_session

    with app.test_request_context(), pytest.raises(InternalError, match="read-only"):
        read_session().execute(text("UPDATE report SET description = 'x'"))

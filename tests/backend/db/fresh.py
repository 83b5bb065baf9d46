"""Empty databases (no schema, no city) for tests that need a database in a special state.

SpatiaLite: a new file under the test's `tmp_path`. PostGIS: a new database on the session's
server (with the postgis extension, as `servers.create_database` makes it), dropped afterwards.
Conftests and test modules wrap `fresh_database` in a `fresh_database_url` fixture.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import servers


@contextlib.contextmanager
def fresh_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path,
                   prefix: str = "mm_fresh") -> Iterator[str]:
    """Yield the URL of a new, empty database of `backend`."""
    if backend == "spatialite":
        yield f"sqlite:///{tmp_path / f'{prefix}.sqlite'}"
        return
    server = request.getfixturevalue("postgis_server")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    url = servers.create_database(server.url, name)
    try:
        yield url
    finally:
        _drop_database(server.url, name)


def _drop_database(server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    admin = servers.libpq_url(server_url.rsplit("/", 1)[0] + "/postgres")
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        # FORCE: engines made inside the code under test (e.g. by the CLI) may still hold
        # pooled connections.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))

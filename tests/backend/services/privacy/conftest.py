"""Backups of the test database as an operator takes them, restored into a new database:
SpatiaLite with SQLite's online backup, PostGIS with `pg_dump -Fc` and `pg_restore`."""

from __future__ import annotations

import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests import servers


class Backups:
    """Take a backup of a database and restore it into a new, empty one."""

    def __init__(self, backend: str, workdir: Path, request: pytest.FixtureRequest) -> None:
        self.backend, self.workdir, self.request = backend, workdir, request
        self.made: list[str] = []  # PostGIS databases to drop afterwards

    def take(self, database_url: str) -> Path:
        """A backup file of the database as it is now."""
        dump = self.workdir / f"backup-{uuid.uuid4().hex[:8]}.dump"
        if self.backend == "spatialite":
            with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as source, \
                    closing(sqlite3.connect(dump)) as target:
                source.backup(target)
        else:
            subprocess.run([str(servers._pg_bindir() / "pg_dump"), "-Fc", "-f", str(dump),
                            servers.libpq_url(database_url)], check=True)
        return dump

    def restore(self, dump: Path) -> str:
        """The URL of a new database restored from `dump`."""
        name = f"mm_restored_{uuid.uuid4().hex[:12]}"
        if self.backend == "spatialite":
            path = self.workdir / f"{name}.sqlite"
            with closing(sqlite3.connect(dump)) as source, \
                    closing(sqlite3.connect(path)) as target:
                source.backup(target)
            return f"sqlite:///{path}"
        server = self.request.getfixturevalue("postgis_server")
        with psycopg.connect(self._admin(server.url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.made.append(name)
        url = server.url.rsplit("/", 1)[0] + f"/{name}"
        # Into an empty database (no extensions: the dump creates them), as README.md says.
        subprocess.run([str(servers._pg_bindir() / "pg_restore"), "--no-owner",
                        "--exit-on-error", "-d", servers.libpq_url(url), str(dump)],
                       check=True)
        return url

    @staticmethod
    def _admin(server_url: str) -> str:
        return servers.libpq_url(server_url.rsplit("/", 1)[0] + "/postgres")

    def drop(self) -> None:
        """Drop the restored PostGIS databases."""
        if not self.made:
            return
        server = self.request.getfixturevalue("postgis_server")
        with psycopg.connect(self._admin(server.url), autocommit=True) as conn:
            for name in self.made:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)))


@pytest.fixture
def backups(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Backups]:
    """Backups of the backend under test, restored databases dropped afterwards."""
    made = Backups(backend, tmp_path, request)
    yield made
    made.drop()

"""Plain SQL for the hottest reads, run on the session's connection with the driver's own
cursor: on the public read path, SQLAlchemy's statement and row machinery costs more than the
database takes to answer (0.2 of 0.35 ms for a map page on SQLite).

Statements are written with `:name` parameters; for PostgreSQL they are rewritten once to
psycopg's `%(name)s`. Timestamps are passed as SQLAlchemy stores them (SQLite: UTC text).
"""

from __future__ import annotations

import contextlib
import re
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from backend.db.report_insert import sqlite_time

_NAMED = re.compile(r"(?<![:\w]):([a-zA-Z_]\w*)")
_pyformat: dict[str, str] = {}


def _for_postgres(sql: str) -> str:
    found = _pyformat.get(sql)
    if found is None:
        if len(_pyformat) > 512:
            _pyformat.clear()
        found = _pyformat[sql] = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
    return found


class HeldConnections:
    """One driver connection per thread and engine, kept open and outside any transaction
    (autocommit): each statement sees the latest committed data, and a read needs no pool
    checkout, no liveness ping and no rollback (three round trips on PostgreSQL)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, engine: Engine) -> Any:
        held: dict[int, Any] = self._local.__dict__.setdefault("held", {})
        conn = held.get(id(engine))
        if conn is None:
            proxy = engine.raw_connection()
            if engine.dialect.name == "postgresql":
                proxy.rollback()
            conn = proxy.dbapi_connection
            # Out of the pool for good: closed when dropped or when its thread ends, and never
            # handed to a session (it is in autocommit).
            proxy.detach()
            if engine.dialect.name == "postgresql":
                conn.autocommit = True  # type: ignore[union-attr]
                # Small reads in a busy web process: starting parallel workers costs more
                # (5-10 ms) than the scans they would share, and takes the other requests' CPU.
                conn.execute("SET max_parallel_workers_per_gather = 0")
            held[id(engine)] = conn
        return conn

    def drop(self, engine: Engine) -> None:
        """Forget a connection that failed (the next read opens a new one)."""
        conn = self._local.__dict__.get("held", {}).pop(id(engine), None)
        if conn is not None:
            with contextlib.suppress(Exception):  # it is broken either way
                conn.close()


class Reader:
    """Reads for one request on a held driver connection (see `HeldConnections`), without an
    ORM session (a session's setup and teardown cost as much as a map page's query); `session`
    gives an ORM session on the same engine for the rare read that needs one (rendering a
    missing view)."""

    def __init__(self, engine: Engine, held: HeldConnections) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.held = held
        self._session: Session | None = None

    def cursor(self) -> Any:
        return self.held.get(self.engine).cursor()

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(self.engine)
        return self._session

    def close(self) -> None:
        """End the ORM session, if one was needed."""
        if self._session is not None:
            self._session.close()
            self._session = None


Source = Session | Reader


def orm_session(source: Source) -> Session:
    """An ORM session for `source`."""
    return source.session if isinstance(source, Reader) else source


def dialect_of(source: Source) -> str:
    """The database dialect's name ("sqlite", "postgresql")."""
    return source.dialect if isinstance(source, Reader) else source.get_bind().dialect.name


def rows(source: Source, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    """All rows of `sql` as plain tuples: on a Reader's connection, or in a session's
    transaction."""
    if isinstance(source, Reader):
        dialect = source.dialect
        try:
            cursor = source.cursor()
        except Exception:
            source.held.drop(source.engine)
            raise
    else:
        connection = source.connection()
        dialect = connection.dialect.name
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    params = params or {}
    if dialect == "sqlite":
        params = {k: sqlite_time(v) if isinstance(v, datetime) else v
                  for k, v in params.items()}
    try:
        if dialect == "sqlite":
            cursor.execute(sql, params)
        else:
            # Never a prepared statement: a generic plan cannot know whether a box holds ten
            # reports or the whole city, and picks the wrong index for one of them.
            cursor.execute(_for_postgres(sql), params, prepare=False)
        return cursor.fetchall()
    except Exception:
        if isinstance(source, Reader):  # perhaps the connection broke: the next read reopens
            source.held.drop(source.engine)
        raise
    finally:
        cursor.close()
